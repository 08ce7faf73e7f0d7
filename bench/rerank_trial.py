"""A trial, not the default: the retrieved paragraphs reranked by the reader's cross-encoder.

    python bench/rerank_trial.py --index WORK/calibration/index --questions WORK/calibration/questions.jsonl [--pool 20]

Each answerable question retrieves `--pool` paragraphs; every sentence of them is read by the reader's
cross-encoder (models/reader), and a paragraph's reading is its best sentence's. The paragraphs are
ranked again by (1 - w) * fused retrieval score (scaled by the best) + w * sigmoid(reading), and
recall@1/5/10 of the gold paragraph is printed for each weight w, with the time a question took.
Measured on a calibration split only.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import numpy as np

from rag.answer.confidence import selector_inputs
from rag.answer.features import candidate_features
from rag.answer.reader import DEFAULT_READER
from rag.answer.selector import AnswerSelector
from rag.assistant import Assistant
from rag.text.terms import terms

Key = tuple[str, int]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--questions", type=Path, required=True)
    parser.add_argument("--pool", type=int, default=20)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    assistant = Assistant.load(args.index)
    selector = AnswerSelector.load(DEFAULT_READER)
    rows: list[tuple[list[tuple[Key, float]], dict[Key, float], set[Key]]] = []
    started = time.perf_counter()
    for line in args.questions.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if not row.get("gold_paras"):
            continue
        question = row["question"]
        query_terms = terms(question)
        evidence = assistant.retriever.search(
            assistant.encode_question(question), query_terms, k=args.pool, question=question
        )
        found = candidate_features(question, query_terms, evidence, assistant.data, assistant.idf)
        candidates = list(found.candidates)
        logits = selector.logits(question, selector_inputs(candidates, assistant.data)) if candidates else []
        best: dict[Key, float] = {}
        for cand, logit in zip(candidates, logits, strict=True):
            key = (cand.paragraph.doc_id, cand.paragraph.number)
            best[key] = max(best.get(key, -99.0), float(logit))
        gold_doc = assistant.document_id(row.get("gold_doc"))
        gold = {(gold_doc, int(p)) for p in row["gold_paras"]}
        hits = [((h.paragraph.doc_id, h.paragraph.number), h.score) for h in evidence.hits]
        rows.append((hits, best, gold))
    per_question = (time.perf_counter() - started) / max(1, len(rows)) * 1000
    print(f"{len(rows)} answerable questions, {per_question:.0f} ms each (retrieval, features, cross-encoder)")

    def recall(weight: float, k: int) -> float:
        got = 0
        for hits, best, gold in rows:
            top = max((s for _, s in hits), default=1.0) or 1.0
            ranked = sorted(
                hits,
                key=lambda h: -((1 - weight) * h[1] / top + weight / (1 + np.exp(-best.get(h[0], -10.0)))),
            )
            got += any(key in gold for key, _ in ranked[:k])
        return got / max(1, len(rows))

    for weight in (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0):
        print(
            f"weight {weight}: recall@1 {recall(weight, 1):.3f} @5 {recall(weight, 5):.3f} @10 {recall(weight, 10):.3f}"
        )


if __name__ == "__main__":
    main()
