"""Hand-weight variants on one question set, through the evaluation harness (rag eval's).

    python bench/hand_weights.py --index WORK/calibration/index --questions WORK/calibration/questions.jsonl \
        base year_not_in_document=0 year_not_in_document=0.3 missing_entity=0.4 [--by-trap training/un-questions.jsonl]

Each variant is `name=value[,name=value]` over the fields of rag.answer.scorer.HandScorer ("base": the
defaults). For each it prints the confidence's answerability AUC, correct answers, wrong refusals and
refusals of unanswerable questions at the default threshold, and the same at the highest threshold that
refuses at most 15 % of the answerable questions. With --by-trap, the unanswerable questions are also
grouped by the kind of trap their question file records (`trap`): refusals and AUC per kind. Tune on a
calibration split only, never on eval/.
"""

from __future__ import annotations

import argparse
import collections
import json
import logging
from dataclasses import fields, replace
from pathlib import Path

from rag.answer.scorer import HandScorer
from rag.assistant import Assistant
from rag.evaluate.evaluation import evaluate
from rag.evaluate.results import Report, roc_auc
from rag.index import load_index


def variant(spec: str) -> HandScorer:
    """The hand weights with the fields a spec changes ("name=value,name=value", or "base")."""
    if spec == "base":
        return HandScorer()
    known = {f.name for f in fields(HandScorer)} - {"label"}
    changes = {}
    for pair in spec.split(","):
        name, _, value = pair.partition("=")
        if name not in known:
            raise SystemExit(f"{spec}: {name!r} is not a hand weight (known: {', '.join(sorted(known))})")
        try:
            changes[name] = float(value)
        except ValueError:
            raise SystemExit(f"{spec}: {value!r} is not a number") from None
    return replace(HandScorer(), **changes)


def by_trap(report: Report, traps: dict[str, str], threshold: float) -> None:
    answerable = [r.best_confidence for r in report.rows if r.answerable]
    groups: dict[str, list] = collections.defaultdict(list)
    for r in report.rows:
        if r.unanswerable:
            groups[traps.get(r.id, "other")].append(r)
    for kind, rows in sorted(groups.items()):
        refused = sum(r.abstained for r in rows) / len(rows)
        auc = roc_auc(answerable, [r.best_confidence for r in rows])
        print(f"    {kind:18} {len(rows):4} questions: refused at {threshold} {refused:.2f}, AUC {auc}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variants", nargs="+")
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--questions", type=Path, required=True)
    parser.add_argument("--by-trap", type=Path, help="the question file that records each question's trap")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    traps: dict[str, str] = {}
    if args.by_trap:
        for line in args.by_trap.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if row.get("trap"):
                traps[row["id"]] = row["trap"]
    scorers = {spec: variant(spec) for spec in args.variants}  # every spec checked before any work
    data = load_index(args.index, check_corpus=False)
    base = Assistant.load(args.index)
    for spec in args.variants:
        assistant = Assistant(data, base.embedder, index_dir=base.index_dir, scorer=scorers[spec])
        report = evaluate(assistant, args.questions)
        f = report.figures
        kept = max((c for c in report.curve if c.abstained_answerable <= 0.15), key=lambda c: c.threshold)
        print(
            f"{spec}: AUC {f.confidence.answerability_auc} | at {assistant.threshold}: correct "
            f"{f.answers.correct_cited}, wrongly refused {f.abstention.abstained_answerable}, unanswerable "
            f"refused {f.abstention.abstained_unanswerable} | at {kept.threshold}: correct {kept.correct_cited:.3f}, "
            f"wrongly refused {kept.abstained_answerable:.3f}, unanswerable refused {kept.abstained_unanswerable:.3f}",
            flush=True,
        )
        if traps:
            by_trap(report, traps, assistant.threshold)


if __name__ == "__main__":
    main()
