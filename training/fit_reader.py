"""Fit the reader (rag.answer.reader.ReaderModel) on mined candidates and read its threshold off the calibration split.

    python training/fit_reader.py --train CANDS.jsonl [...] --calibration CANDS.jsonl [...]
        [--selector models/answer-selector] [--top 8] [--max-wrong 0.10] [--C 1.0] [--dry-run]

CANDS files are written by `training/mine_candidates.py` (the hand weights' best sentences of each
question, labelled). The cross-encoder in `--selector` reads the best `--top` of each question
(its readings are cached beside each file, per cross-encoder), and a logistic model is fitted on
one row per candidate: does this sentence answer the question? Each source (the file's `source`:
the questions written over UN documents, SQuAD, ...) weighs as given by `--weight SOURCE=W`
(default 1 each, spread over its questions). The threshold is then read off the calibration
files: the one that refuses the most unanswerable questions while refusing at most `--max-wrong`
of the answerable ones (the rule `rag eval` uses for its suggested threshold). Writes
`reader.json` into the selector folder unless `--dry-run`, and prints the figures.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from rag.answer.reader import COLUMNS, DEFAULT_READER, READER_FILE, ReaderModel, reader_rows
from rag.answer.selector import AnswerSelector, SelectorInput
from rag.evaluate.results import roc_auc

log = logging.getLogger("fit_reader")


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def logits_of(selector: AnswerSelector, path: Path, questions: list[dict], top: int) -> list[np.ndarray]:
    """The cross-encoder's readings of each question's best `top` candidates, cached per file and model."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    cache = path.with_name(f"{path.stem}.{selector.label.replace('@', '-')}.{selector.runtime}.top{top}.{digest}.npz")
    if cache.is_file():
        saved = np.load(cache)
        return [saved[str(i)] for i in range(len(questions))]
    out = []
    for q in questions:
        items = [SelectorInput(c["sentence"], c["previous"], c["heading"]) for c in q["candidates"][:top]]
        out.append(selector.logits(q["question"], items).astype(np.float64))
    np.savez(cache, **{str(i): v for i, v in enumerate(out)})
    return out


def question_rows(questions: list[dict], logits: list[np.ndarray], top: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per question: the model's rows of its candidates read, and their labels."""
    out = []
    for q, lg in zip(questions, logits, strict=True):
        cands = q["candidates"][:top]
        matrix = np.asarray([c["features"] for c in cands], dtype=np.float64)
        hand = np.asarray([c["hand"] for c in cands], dtype=np.float64)
        out.append((reader_rows(matrix, hand, lg), np.asarray([c["label"] for c in cands], dtype=np.float64)))
    return out


def curve(model: ReaderModel, rows: list[tuple[np.ndarray, np.ndarray]], answerable: list[bool], t: float) -> dict:
    best, right = [], []
    for (x, y), _ in zip(rows, answerable, strict=True):
        p = model.probability(x)
        best.append(float(p.max()))
        right.append(bool(y[int(np.argmax(p))]))
    best_a = np.asarray([b for b, a in zip(best, answerable, strict=True) if a])
    best_u = np.asarray([b for b, a in zip(best, answerable, strict=True) if not a])
    right_a = np.asarray([r for r, a in zip(right, answerable, strict=True) if a])
    return {
        "answerable": len(best_a),
        "unanswerable": len(best_u),
        "top_right": round(float(right_a.mean()), 4) if len(best_a) else None,
        "right_and_kept": round(float((right_a & (best_a >= t)).mean()), 4) if len(best_a) else None,
        "wrong_abstention": round(float((best_a < t).mean()), 4) if len(best_a) else None,
        "abstention_unanswerable": round(float((best_u < t).mean()), 4) if len(best_u) else None,
        "answerability_auc": roc_auc(best_a.tolist(), best_u.tolist()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=Path, action="append", required=True)
    parser.add_argument("--calibration", type=Path, action="append", required=True)
    parser.add_argument("--selector", type=Path, default=DEFAULT_READER)
    parser.add_argument("--top", type=int, default=8)
    parser.add_argument("--max-wrong", type=float, default=0.10)
    parser.add_argument("--C", type=float, default=1.0)
    parser.add_argument("--weight", action="append", default=[], help="SOURCE=W: the weight of a source's questions")
    parser.add_argument("--dry-run", action="store_true", help="print the figures, write nothing")
    parser.add_argument(
        "--columns", default=None, help="ablation: comma-separated columns the model may read (the others get weight 0)"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    import torch

    torch.set_num_threads(2)
    selector = AnswerSelector.load(args.selector)
    weights = {k: float(v) for k, v in (w.split("=", 1) for w in args.weight)}

    def gather(paths: list[Path]) -> tuple[list[dict], list[tuple[np.ndarray, np.ndarray]]]:
        questions, rows = [], []
        for path in paths:
            qs = load(path)
            rows += question_rows(qs, logits_of(selector, path, qs, args.top), args.top)
            questions += qs
        return questions, rows

    train_q, train_rows = gather(args.train)
    per_source: dict[str, int] = {}
    for q in train_q:
        per_source[q["source"]] = per_source.get(q["source"], 0) + 1
    if args.columns:  # an ablation: the other columns read as zeros, so they get no weight
        keep = [COLUMNS.index(c) for c in args.columns.split(",")]
        drop = [i for i in range(len(COLUMNS)) if i not in keep]
        for x_rows, _ in train_rows:
            x_rows[:, drop] = 0.0
    x = np.concatenate([r[0] for r in train_rows])
    y = np.concatenate([r[1] for r in train_rows])
    w = np.concatenate(
        [
            np.full(len(r[1]), weights.get(q["source"], 1.0) / per_source[q["source"]])
            for q, r in zip(train_q, train_rows, strict=True)
        ]
    )
    fit = LogisticRegression(C=args.C, max_iter=5000).fit(x, y, sample_weight=w * len(w) / w.sum())
    model = ReaderModel(fit.coef_[0].astype(np.float64), float(fit.intercept_[0]), top=args.top)  # threshold below

    cal_q, cal_rows = gather(args.calibration)
    if args.columns:
        for x_rows, _ in cal_rows:
            x_rows[:, drop] = 0.0
    answerable = [bool(q["answerable"]) for q in cal_q]
    best_t, best_gain = 0.0, -1.0
    for t in np.round(np.arange(0.01, 0.951, 0.01), 2):
        f = curve(model, cal_rows, answerable, float(t))
        if f["wrong_abstention"] <= args.max_wrong and f["abstention_unanswerable"] - f["wrong_abstention"] > best_gain:
            best_t, best_gain = float(t), f["abstention_unanswerable"] - f["wrong_abstention"]
    figures = {
        "train": curve(model, train_rows, [bool(q["answerable"]) for q in train_q], best_t),
        "calibration": curve(model, cal_rows, answerable, best_t),
    }
    about = {
        "selector": selector.label,
        "runtime": selector.runtime,
        "fitted_on": sorted({f"{q['source']}" for q in train_q}),
        "train_questions": per_source,
        "calibration_questions": len(cal_q),
        "train_files": [p.name for p in args.train],
        "calibration_files": [p.name for p in args.calibration],
        "C": args.C,
        "max_wrong_abstention": args.max_wrong,
        "figures_at_threshold": figures,
    }
    model = ReaderModel(model.coef, model.intercept, threshold=best_t, about=about, top=args.top)
    print(json.dumps({"threshold": best_t, "figures": figures}, indent=1))
    print(json.dumps(dict(zip(COLUMNS, np.round(model.coef, 3).tolist()))))
    if not args.dry_run:
        (selector.folder / READER_FILE).write_text(model.to_json() + "\n", encoding="utf-8")
        print(f"wrote {selector.folder / READER_FILE}")


if __name__ == "__main__":
    main()
