"""The hand weights' default threshold, read off the in-domain calibration split.

    python bench/threshold.py --data DATA --work WORK [--split calibration]

Answers the paraphrased questions over UN documents of one split of
training/un-paraphrase.jsonl (never eval/), prints the abstention curve and the threshold that
`rag eval` suggests by its rule: the largest gap between refused unanswerable and refused
answerable questions, among thresholds refusing at most 10 % of the answerable ones.
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

from public_sets import prepare_un

from rag.assistant import Assistant
from rag.encode.embedding import Embedder
from rag.evaluate.evaluation import evaluate
from rag.index import build_index, load_index

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, type=Path)
    parser.add_argument("--work", required=True, type=Path)
    parser.add_argument("--split", default="calibration", choices=["calibration", "train"])
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    embedder = Embedder(threads=None)
    questions = prepare_un(args.data, ROOT / "training" / "un-paraphrase.jsonl", args.work, args.split)
    build_index(args.work / "corpus", args.work / "index", embedder=embedder, progress=False)
    report = evaluate(Assistant(load_index(args.work / "index"), embedder), questions)
    answerable = sum(r.answerable for r in report.rows)
    unanswerable = sum(r.unanswerable for r in report.rows)
    print(f"{args.split} split: {answerable} answerable, {unanswerable} unanswerable questions")
    print("| threshold | abstained, unanswerable | abstained, answerable | correct with a gold citation |")
    print("|---|---|---|---|")
    for point in report.curve:
        if 0.35 <= point.threshold <= 0.65 and round(point.threshold * 100) % 5 == 0:
            print(
                f"| {point.threshold:.2f} | {point.abstained_unanswerable:.2f} | "
                f"{point.abstained_answerable:.2f} | {point.correct_cited:.2f} |"
            )
    print(f"suggested threshold: {report.figures.abstention.suggested_threshold}")


if __name__ == "__main__":
    main()
