"""The document-prior trial (issue 24): does knowing which document a question is about help
rank its paragraphs when many documents are indexed together?

Each question's fused score of every paragraph is taken from the retriever as it is, and a share
of a score for the paragraph's document is added before ranking again:

- `terms`: the document's share of the question's idf weight anywhere in its paragraphs;
- `top3`: the mean of the document's three best paragraph scores;
- `title`: the cosine of the question and the document's title (a document without one takes the
  median of the others), for questions that name the instrument ("the child rights treaty");
- `title-above-median`: the same, only where it is above the median of the documents.

    python bench/document_prior.py --index WORK/calibration/index --questions WORK/calibration/questions.jsonl

Prints recall@1/5/20 of the answerable questions for each prior and weight (weight 0 is the
retriever as shipped).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
from pathlib import Path

import numpy as np

from rag.assistant import Assistant
from rag.text.terms import terms

log = logging.getLogger("document_prior")

WEIGHTS = (0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5)
KS = (1, 5, 20)


def term_share(assistant: Assistant, question_terms: list[str], firsts: np.ndarray) -> np.ndarray:
    """Each document's share of the question's idf weight, found in the BM25 postings."""
    bm25 = assistant.data.bm25
    vocab: dict[str, int] = getattr(bm25, "vocab_dict", {})
    indptr, indices = np.asarray(bm25.scores["indptr"]), bm25.scores["indices"]  # type: ignore[attr-defined]
    n = max(1, len(assistant.data.paragraphs))
    held, total = np.zeros(len(firsts)), 0.0
    for term in set(question_terms):
        tid = vocab.get(term)
        rows = np.asarray(indices[int(indptr[tid]) : int(indptr[tid + 1])]) if tid is not None else np.zeros(0, int)
        idf = math.log(1 + (n - len(rows) + 0.5) / (len(rows) + 0.5))
        total += idf
        held[np.unique(np.searchsorted(firsts, rows, side="right") - 1)] += idf
    return held / total if total > 0 else held


def top3(scores: np.ndarray, row_doc: np.ndarray, documents: int) -> np.ndarray:
    out = np.zeros(documents)
    for d in range(documents):
        out[d] = np.sort(scores[row_doc == d])[::-1][:3].mean()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--questions", type=Path, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    assistant = Assistant.load(args.index)
    data = assistant.data
    n = len(data.paragraphs)
    firsts = np.array(sorted(first for first, _ in data.doc_rows.values()))
    row_doc = np.searchsorted(firsts, np.arange(n), side="right") - 1
    rows_of = {(p.doc_id, p.number): row for row, p in enumerate(data.paragraphs)}
    questions = [json.loads(line) for line in args.questions.read_text(encoding="utf-8").splitlines() if line.strip()]
    questions = [q for q in questions if q.get("gold_paras")]
    documents = data.manifest.documents
    order = [doc for _, doc in sorted((first, doc) for doc, (first, _) in data.doc_rows.items())]
    titled = [documents[doc].title or "" for doc in order]
    title_vectors = assistant.embedder.encode([t or "-" for t in titled])
    has_title = np.array([bool(t) for t in titled])
    runs: list[tuple[np.ndarray, list[int], dict[str, np.ndarray]]] = []
    for q in questions:
        words = terms(q["question"])
        evidence = assistant.retriever.search(
            assistant.encode_question(q["question"]), words, k=n, question=q["question"]
        )
        scores = np.full(n, -1.0)
        scores[list(evidence.hit_rows)] = [h.score for h in evidence.hits]
        gold = [rows_of[(q["gold_doc"], p)] for p in q["gold_paras"] if (q["gold_doc"], p) in rows_of]
        cosines = title_vectors @ evidence.query
        cosines[~has_title] = np.median(cosines[has_title]) if has_title.any() else 0.0
        priors = {
            "terms": term_share(assistant, words, firsts),
            "top3": top3(scores, row_doc, len(firsts)),
            "title": cosines,
            "title-above-median": np.maximum(cosines - np.median(cosines), 0.0),
        }
        runs.append((scores, gold, priors))
    print(f"{len(questions)} answerable questions, {len(firsts)} documents, {n} paragraphs")
    print("| prior | weight | " + " | ".join(f"recall@{k}" for k in KS) + " |")
    print("|---|---|" + "---|" * len(KS))
    for prior in ("terms", "top3", "title", "title-above-median"):
        for weight in WEIGHTS:
            found = dict.fromkeys(KS, 0)
            for scores, gold, priors in runs:
                order = np.argsort(-(scores + weight * priors[prior][row_doc]), kind="stable")
                rank = np.flatnonzero(np.isin(order, gold))
                for k in KS:
                    found[k] += bool(len(rank) and rank[0] < k)
            print(f"| {prior} | {weight} | " + " | ".join(f"{found[k] / len(runs):.3f}" for k in KS) + " |")


if __name__ == "__main__":
    main()
