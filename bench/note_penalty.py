"""How much to hold footnotes back as answers: the UN paraphrase questions of the tuning splits
(calibration and train of training/un-paraphrase.jsonl), answered at several note penalties.

    python bench/note_penalty.py --data DATA --work WORK [--penalties 0,0.05,0.1,0.2,1]

For each split and penalty: correct with a gold citation, abstention on answerable and on
unanswerable questions, and how many answers quote a footnote.
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
from rag.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, type=Path)
    parser.add_argument("--work", required=True, type=Path)
    parser.add_argument("--penalties", default="0,0.05,0.1,0.2,1")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    embedder = Embedder(threads=None)
    for split in ("calibration", "train"):
        work = args.work / split
        questions = prepare_un(args.data, ROOT / "training" / "un-paraphrase.jsonl", work, split)
        build_index(work / "corpus", work / "index", embedder=embedder, progress=False)
        assistant = Assistant(load_index(work / "index"), embedder)
        threshold = assistant.settings.threshold
        for penalty in (float(x) for x in args.penalties.split(",")):
            assistant.settings = Settings(threshold=threshold, note_penalty=penalty)
            report = evaluate(assistant, questions)
            a, ab = report.figures.answers, report.figures.abstention
            notes = sum(1 for r in report.rows if r.answer and any(c.kind == "note" for c in r.answer.citations))
            print(
                f"{split} (n={len(report.rows)}) penalty {penalty}: correct {a.correct_cited or 0:.3f}, "
                f"abstains answerable {ab.abstained_answerable or 0:.3f}, unanswerable "
                f"{ab.abstained_unanswerable or 0:.3f}; answers quoting a footnote: {notes}"
            )


if __name__ == "__main__":
    main()
