"""Mine the reader's training candidates from the retriever, as the assistant sees them when answering.

    python training/mine_candidates.py --questions QUESTIONS.jsonl --index INDEX --out CANDIDATES.jsonl
        [--source NAME] [--top 12]

QUESTIONS is an evaluation file (`id`, `question`, `gold_paras`, `gold_doc`, `answer_keys`, as
`bench/public_sets.py` writes them; `gold_paras: []` for an unanswerable question) over the
documents of INDEX. Each question is retrieved and its sentences scored by the hand weights, as
`rag ask` does; its best `--top` sentences are written with their feature rows, hand scores, what
the cross-encoder reads of them, and a label: 1 when the sentence lies in a gold paragraph and
overlaps a gold answer there (compared without case, spacing or punctuation). One JSON line per
question. These lines train the cross-encoder (`python -m rag.answer.train_selector --pairs`) and fit the
reader (`training/fit_reader.py`).
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import numpy as np

from rag.answer.features import candidate_features
from rag.answer.reader import selector_inputs
from rag.answer.scorer import HandScorer
from rag.answer.selector_data import _find_spans
from rag.assistant import Assistant
from rag.text.terms import terms

log = logging.getLogger("mine_candidates")


def answer_spans(text: str, keys: list[str]) -> list[tuple[int, int]]:
    return [span for key in keys for span in _find_spans(text, key)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=Path, required=True)
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--source", default="un")
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    assistant = Assistant.load(args.index)
    hand = HandScorer()
    rows = [json.loads(line) for line in args.questions.read_text(encoding="utf-8").splitlines() if line.strip()]
    written = positives = 0
    tmp = args.out.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        for r in rows:
            q = assistant.check_question(r["question"])
            query_terms = terms(q)
            doc = assistant.document_id(r.get("doc"))
            evidence = assistant.retriever.search(
                assistant.encode_question(q), query_terms, k=assistant.settings.k, doc_id=doc, question=q
            )
            found = candidate_features(q, query_terms, evidence, assistant.data, assistant.idf)
            if not found.candidates:
                continue
            scores = hand.score(found.matrix)
            order = [int(i) for i in np.argsort(-scores, kind="stable")[: args.top]]
            cands = [found.candidates[i] for i in order]
            gold = set(r.get("gold_paras") or [])
            gold_doc = assistant.document_id(r.get("gold_doc"))
            keys = r.get("answer_keys") or r.get("answers") or []
            items = selector_inputs(cands, assistant.data)
            out = []
            for i, c, item in zip(order, cands, items, strict=True):
                p = c.paragraph
                is_gold = p.kind == "para" and p.number in gold and gold_doc in (None, p.doc_id)
                spans = answer_spans(p.text, keys) if is_gold else []
                label = int(any(c.start < b and a < c.end for a, b in spans))
                out.append(
                    {
                        "doc": p.doc_id,
                        "para": p.number,
                        "label": label,
                        "hand": round(float(scores[i]), 6),
                        "features": [round(float(v), 6) for v in found.matrix[i]],
                        "sentence": item.sentence,
                        "previous": item.previous,
                        "heading": item.heading,
                    }
                )
            positives += any(c["label"] for c in out)
            record = {
                "id": r["id"],
                "source": args.source,
                "question": q,
                "answerable": bool(gold),
                "gold_retrieved": any(
                    h.paragraph.kind == "para" and h.paragraph.number in gold and gold_doc in (None, h.paragraph.doc_id)
                    for h in evidence.hits
                ),
                "candidates": out,
            }
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
            written += 1
    tmp.replace(args.out)
    print(f"{written} questions, {positives} with a right sentence among the {args.top} best", flush=True)


if __name__ == "__main__":
    main()
