"""Measure what each part of retrieval and the composer adds, with the eval harness.

    python bench/ablation.py eval/dev.jsonl [--index index] [more question files with --also IDX:FILE]

Each row switches one thing off (or back to the plain baseline) and reports the figures that
`rag eval` reports; keep what helps on every question set, drop what does not.
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import replace

from rag.answer.scorer import HandScorer
from rag.assistant import Assistant
from rag.evaluate.evaluation import evaluate
from rag.retrieve.retriever import Retriever

VARIANTS = {
    "full": {},
    "rrf fusion instead of weighted": {"retriever": {"fusion": "rrf"}},
    "dense only (no BM25)": {"retriever": {"lexical_weight": 0.0}},
    "no answer-type checks": {"weights": {"missing_type": 0.0, "missing_name": 0.0, "type_found": 0.0}},
    "answer-type cost 0.1 (as before)": {"weights": {"missing_type": 0.1, "type_found": 0.0}},
    "answer-type cost 0.25": {"weights": {"missing_type": 0.25}},
    "no bonus for a found fact": {"weights": {"type_found": 0.0}},
    "bonus 0.1 for a found fact": {"weights": {"type_found": 0.1}},
    "who-questions cost 0.4 too": {"weights": {"missing_name": 0.4}},
    "no missing-name penalty": {"weights": {"missing_entity": 0.0}},
    "no fused paragraph score": {"weights": {"paragraph_rank": 0.0}},
    "extra quotes within 0.05, not 0.08": {"settings": {"margin": 0.05}},
    "extra quotes must add question terms": {"settings": {"require_new_terms": True}},
    "no numbered-reference bonus": {"weights": {"reference": 0.0}},
    "sentence cosine only": {
        "weights": {
            "sentence_cosine": 1.0,
            "sentence_coverage": 0.0,
            "paragraph_coverage": 0.0,
            "paragraph_cosine": 0.0,
            "missing_entity": 0.0,
            "missing_type": 0.0,
            "missing_name": 0.0,
            "type_found": 0.0,
            "reference": 0.0,
            "paragraph_rank": 0.0,
        }
    },
}


def run(index: str, questions: str) -> None:
    base = Assistant.load(index)
    print(f"\n{questions} on {index}")
    print(
        f"{'variant':38} r@1   r@5   correct prec  abst.unans abst.ans | at <=10% wrong: threshold abst.unans correct"
    )
    for name, change in VARIANTS.items():
        settings = replace(base.settings, **change.get("settings", {}))
        assistant = Assistant(
            base.data,
            base.embedder,
            settings,
            index_dir=base.index_dir,
            scorer=replace(HandScorer(), **change.get("weights", {})),
        )
        assistant.retriever = Retriever(base.data, **change.get("retriever", {}))
        report = evaluate(assistant, questions)
        f = report.figures
        r, a, ab = f.retrieval, f.answers, f.abstention
        t = ab.suggested_threshold or 0.0
        point = min(report.curve, key=lambda c: abs(c.threshold - t))
        print(
            f"{name:38} {r.recall[1] or 0:.3f} {r.recall[5] or 0:.3f} {a.correct_cited or 0:.3f}   "
            f"{a.citation_precision or 0:.3f} {ab.abstained_unanswerable or 0:.3f}      "
            f"{ab.abstained_answerable or 0:.3f}    | {t:.3f}     {point.abstained_unanswerable:.3f}"
            f"      {point.correct_cited:.3f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("questions")
    parser.add_argument("--index", default="index")
    parser.add_argument("--also", action="append", default=[], help="INDEX:QUESTIONS, another set to measure")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    run(args.index, args.questions)
    for pair in args.also:
        index, questions = pair.split(":", 1)
        run(index, questions)


if __name__ == "__main__":
    main()
