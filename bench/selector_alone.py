"""The answer selector on its own: does it pick the right sentence, and does it know when none is?

Reads the sets `bench/compare_sets.py` prepared (their indexes and question files under WORK).
For each question, over the best `--top` sentences by the hand weights: is the hand weights'
first one right, is the selector's best-read one right, is any of them right; and the ROC AUC
of the selector's best logit, answerable against unanswerable questions.

    python bench/selector_alone.py --work WORK [--sets paraphrase,un-test,squad-test] [--top 8]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare_sets import ROOT  # noqa: E402

from rag.answer.confidence import selector_inputs  # noqa: E402
from rag.answer.scorer import HandScorer  # noqa: E402
from rag.answer.selector import AnswerSelector  # noqa: E402
from rag.answer.selector_data import squash  # noqa: E402
from rag.assistant import Assistant  # noqa: E402
from rag.encode.embedding import Embedder  # noqa: E402
from rag.evaluate.evaluation import gold_fields  # noqa: E402
from rag.evaluate.results import roc_auc  # noqa: E402
from rag.index import load_index  # noqa: E402

QUESTIONS = {
    "dev": ROOT / "eval" / "dev.jsonl",
    "paraphrase": ROOT / "eval" / "paraphrase.jsonl",
    "held-out": ROOT / "eval" / "held-out" / "a-res-80-9.jsonl",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True, help="the WORK folder of bench/compare_sets.py")
    parser.add_argument("--sets", default="paraphrase,un-test,squad-test")
    parser.add_argument("--top", type=int, default=8)
    parser.add_argument("--selector", type=Path, default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    selector = AnswerSelector.load(args.selector)
    embedder = Embedder("all-MiniLM-L6-v2", threads=1)
    print(
        f"| set ({selector.label}, best {args.top} by the hand weights) | answerable | hand's first right "
        "| selector's first right | a right one among them | answerability AUC of the best logit |"
    )
    print("|---|---|---|---|---|---|")
    for name in args.sets.split(","):
        work = args.work / name
        questions = QUESTIONS.get(name, work / "questions.jsonl")
        if not (work / "index" / "manifest.json").is_file() or not questions.is_file():
            parser.exit(2, f"error: {work} has no index or questions; run bench/compare_sets.py first\n")
        assistant = Assistant(load_index(work / "index"), embedder, index_dir=work / "index", scorer=HandScorer())
        hand, chosen, any_right, best_a, best_u = [], [], [], [], []
        for line in questions.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            gold, keys = gold_fields(row)
            considered = assistant.consider(row["question"], doc_id=row.get("doc"))
            top = list(considered.candidates[: args.top])
            if gold is None or not top:
                continue
            keys = [squash(k) for k in (row.get("answers") or keys) if squash(k)]
            right = [
                c.paragraph.number in gold and any(k in squash(c.paragraph.text[c.start : c.end]) for k in keys)
                for c in top
            ]
            logits = selector.logits(considered.question, selector_inputs(top, assistant.data))
            if gold:
                hand.append(right[0])
                chosen.append(right[int(np.argmax(logits))])
                any_right.append(any(right))
                best_a.append(float(logits.max()))
            else:
                best_u.append(float(logits.max()))
        print(
            f"| {name} | {len(hand)} | {np.mean(hand):.2f} | {np.mean(chosen):.2f} | {np.mean(any_right):.2f} "
            f"| {roc_auc(best_a, best_u)} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
