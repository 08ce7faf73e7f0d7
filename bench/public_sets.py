"""Check that retrieval and abstention generalise: run `rag eval` on a public QA set.

Turns a normalised public set (docs.jsonl + questions.jsonl, see the data folder's README)
into a corpus of text files (one blank-line block per paragraph, so paragraph numbers are
gold_para + 1) and a question file in the eval format, builds the index, and evaluates.

    python bench/public_sets.py DATA_DIR/squad2_dev --docs 10 --per-doc 30 --work WORK_DIR
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import re
import shutil
from pathlib import Path

from rag.answer.scorer import HandScorer, LinearScorer
from rag.answer.selector_data import hashed_split, squad_split
from rag.assistant import Assistant
from rag.evaluate.evaluation import evaluate_file
from rag.index import build_index
from rag.settings import Settings


def prepare(
    data: Path,
    work: Path,
    docs: int,
    per_doc: int,
    seed: int,
    skip: int = 0,
    scope: bool = False,
    split: str | None = None,
) -> Path:
    """Write `docs` documents (after the first `skip`) as a corpus, and up to `per_doc` of their
    questions as an eval file; returns the question file. With `scope`, each question keeps to its
    own document (`doc`): for sets whose questions say "this website" and fit every document.
    With `split` ("train", "calibration", "test"), only documents of that fixed split
    (rag.answer.selector_data) are taken."""
    corpus = work / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    chosen: dict[str, int] = {}
    with open(data / "docs.jsonl", encoding="utf-8") as fh:
        for n, line in enumerate(fh):
            if n < skip:
                continue
            doc = json.loads(line)
            if split is not None and document_split(data.name, n, doc["doc_id"]) != split:
                continue
            if len(chosen) >= docs:
                break
            doc_id = re.sub(r"[^A-Za-z0-9_.-]+", "-", doc["doc_id"]).strip("-")
            paras = [" ".join(p.split()) for p in doc["paragraphs"]]
            # A paragraph opening with "12. " would read as a numbered paragraph; keep numbering by order.
            paras = [re.sub(r"^(\d+)\. ", r"\1 ", p) for p in paras]
            (corpus / f"{doc_id}.txt").write_text("\n\n".join(paras) + "\n", encoding="utf-8")
            chosen[doc["doc_id"]] = len(paras)
    rng = random.Random(seed)
    by_doc: dict[str, list[dict]] = {}
    with open(data / "questions.jsonl", encoding="utf-8") as fh:
        for line in fh:
            q = json.loads(line)
            if q["doc_id"] in chosen:
                by_doc.setdefault(q["doc_id"], []).append(q)
    out = work / "questions.jsonl"
    with open(out, "w", encoding="utf-8") as fh:
        for doc_id, qs in by_doc.items():
            for q in rng.sample(qs, min(per_doc, len(qs))):
                gold = [] if q["gold_para"] is None else [int(q["gold_para"]) + 1]
                keys = [min(q["answers"], key=len)] if gold and q.get("answers") else []
                name = re.sub(r"[^A-Za-z0-9_.-]+", "-", doc_id).strip("-")
                row = {
                    "id": q["id"],
                    "question": q["question"],
                    "gold_paras": gold,
                    "gold_doc": name,
                    "answer_keys": keys,
                    "answers": q.get("answers") or [],
                }
                if scope:
                    row["doc"] = name
                fh.write(json.dumps(row) + "\n")
    return out


def document_split(set_name: str, position: int, doc_id: str) -> str:
    return squad_split(position) if set_name.startswith("squad") else hashed_split(doc_id)


def _holding(paragraphs: list, keys: list[str]) -> list[int] | None:
    """The first numbered paragraph holding each key, in order and without repeats; None if a
    key is in none of them."""
    from rag.answer.selector_data import squash

    gold: list[int] = []
    for key in keys:
        holding = [p.number for p in paragraphs if p.kind == "para" and squash(key) in squash(p.text)]
        if not holding:
            return None
        gold += [] if holding[0] in gold else holding[:1]
    return gold


def prepare_un(data: Path, questions: Path, work: Path, split: str) -> Path:
    """The in-domain paraphrase questions of one split (rag.answer.selector_data) as a corpus of their UN
    documents and an eval file (gold paragraph: the one holding the answer)."""
    from rag.readers import read_document
    from rag.text.paragraphs import split_paragraphs

    corpus = work / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    rows = [json.loads(line) for line in questions.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = [r for r in rows if hashed_split(r["doc"]) == split]
    paragraphs: dict[str, list] = {}
    out = work / "questions.jsonl"
    with open(out, "w", encoding="utf-8") as fh:
        for r in rows:
            source = data / r["doc"]
            name = Path(r["doc"]).name
            if r["doc"] not in paragraphs:
                shutil.copyfile(source, corpus / name)
                paragraphs[r["doc"]] = split_paragraphs(read_document(corpus / name, root=corpus))
            # One answer, or several each in a sentence of its own (training/un-lists.jsonl): the
            # gold paragraphs are those holding them, and the answer must hold every one.
            keys = r.get("answers") or ([r["answer"]] if r.get("answer") else [])
            gold = _holding(paragraphs[r["doc"]], keys)
            if gold is None:
                continue  # an answer the reader no longer finds in the document
            fh.write(
                json.dumps(
                    {
                        "id": r["id"],
                        "question": r["question"],
                        "gold_paras": gold,
                        "gold_doc": Path(name).stem,
                        "answer_keys": keys,
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--docs", type=int, default=10)
    parser.add_argument("--per-doc", type=int, default=30)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threshold", type=float, default=None)
    parser.add_argument("--scope", action="store_true", help="search only each question's own document")
    parser.add_argument("--scorer", default=None, help="a scorer file, or 'hand' for the hand weights")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    questions = prepare(args.data, args.work, args.docs, args.per_doc, args.seed, scope=args.scope)
    build_index(args.work / "corpus", args.work / "index", progress=False)
    settings = Settings() if args.threshold is None else Settings(threshold=args.threshold)
    assistant = Assistant.load(args.work / "index", settings=settings)
    if args.scorer == "hand":
        assistant.scorer = HandScorer()
    elif args.scorer:
        assistant.scorer = LinearScorer.load(args.scorer)
    report = evaluate_file(assistant, questions, args.work / "report")
    print(report.summary())


if __name__ == "__main__":
    main()
