"""How much does knowing the document a question is about help retrieval, and how often does the
document a question names (rag.retrieve.named_document) turn out to be the right one?

    python bench/named_document.py --index WORK/new-calibration/index --questions WORK/new-calibration/questions.jsonl

(the index and questions of a set of bench/compare_sets.py). Prints, for the answerable questions,
recall@5 by kind of gold document with the shipped retrieval and with retrieval restricted to the
gold document (the most a document weight could give), and for every question how many name a
document by symbol, acronym or in words, and how often the gold document is among those named (or,
in words, the one whose title is closest).
"""

from __future__ import annotations

import argparse
import collections
import json
import logging
from pathlib import Path

from rag.assistant import Assistant
from rag.retrieve.named_document import document_words

log = logging.getLogger("named_document")


def kind(doc_id: str) -> str:
    """The kind of a public UN document, read off its file name."""
    if doc_id.startswith("BWBV"):
        return "treaty"
    if doc_id.startswith("A_RES"):
        return "resolution"
    return "speech" if len(doc_id) <= 11 else "report"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--questions", type=Path, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    assistant = Assistant.load(args.index)
    prior = assistant.document_prior
    found: collections.Counter[tuple[str, str]] = collections.Counter()
    named: collections.Counter[tuple[str, str]] = collections.Counter()
    for line in args.questions.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        q = json.loads(line)
        question, gold_doc = q["question"], q["gold_doc"]
        for how, docs in (
            ("symbol", prior.named_by_symbol(question)),
            ("acronym", prior.named_by_acronym(question)),
        ):
            if docs:
                named[(how, "questions")] += 1
                named[(how, "gold among them")] += gold_doc in docs
        words = document_words(question)
        if words:
            weights = prior.by_title(words)
            named[("words", "questions")] += 1
            named[("words", "gold closest")] += bool(weights) and max(weights, key=weights.__getitem__) == gold_doc
        if not q.get("gold_paras"):
            continue
        k = kind(gold_doc)
        gold = {(gold_doc, p) for p in q["gold_paras"]}
        shipped = assistant.retrieve(question, k=5)
        alone = assistant.retrieve(question, k=5, doc_id=gold_doc)
        found[(k, "questions")] += 1
        found[(k, "shipped")] += any((h.paragraph.doc_id, h.paragraph.number) in gold for h in shipped)
        found[(k, "gold document only")] += any((h.paragraph.doc_id, h.paragraph.number) in gold for h in alone)
    print("| kind | answerable | recall@5 shipped | recall@5 within the gold document |")
    print("|---|---|---|---|")
    for k in sorted({k for k, _ in found}):
        n = found[(k, "questions")]
        print(f"| {k} | {n} | {found[(k, 'shipped')] / n:.3f} | {found[(k, 'gold document only')] / n:.3f} |")
    print()
    print("| named by | questions | the gold document named (closest, for words) |")
    print("|---|---|---|")
    for how, hit in (("symbol", "gold among them"), ("acronym", "gold among them"), ("words", "gold closest")):
        print(f"| {how} | {named[(how, 'questions')]} | {named[(how, hit)]} |")


if __name__ == "__main__":
    main()
