"""A learned answerability model against the hand weights' confidence: does it carry over?

    python bench/learned_answerability.py --train INDEX=QUESTIONS [...] --check NAME=INDEX=QUESTIONS [...]

Each question becomes one row: the feature row of its best sentence (rag.answer.features.FEATURES),
that sentence's hand score, the second best's and the gap, the mean of the best five, the
retriever's best score and its lead over the second, the best sentence cosine, term coverage and
name coverage among the candidates, the question's length, its number of names and its kind of
fact. A logistic model and a gradient-boosted one (monotone in the evidence) learn from the
`--train` sets whether the question is answerable. Printed for every `--check` set: the
answerability ROC AUC of the hand confidence, of each model and of 0.7 hand + 0.3 logistic; then,
at the blend's threshold read off the first check set (the same share of its answerable
questions refused as the hand weights refuse at the default threshold), the share of answerable
questions whose best sentence is in a gold paragraph and answered, the answerable refused and the
unanswerable refused, for the hand weights and the blend. Train on a training split only.
"""

from __future__ import annotations

import argparse
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.answer.features import FEATURES, candidate_features
from rag.answer.qtypes import question_entities, question_type
from rag.assistant import Assistant
from rag.text.terms import terms

KINDS = ("who", "person", "when", "count", "label", "country", "where", None)
UP = {
    "sentence_cosine",
    "sentence_coverage",
    "paragraph_coverage",
    "paragraph_cosine",
    "paragraph_rank",
    "entity_coverage",
    "reference",
    "type_found",
    "hand",
    "best_cosine",
    "best_coverage",
    "best_names",
    "top",
    "mean5",
}
DOWN = {"year_not_in_document", "other_reference", *(f"missing_{k}" for k in KINDS if k)}
EXTRA = (
    "hand",
    "second",
    "lead",
    "mean5",
    "top",
    "top_lead",
    "best_cosine",
    "best_coverage",
    "best_names",
    "length",
    "names",
    "same_paragraph",
)
COLUMNS = (*FEATURES, *EXTRA, *(f"kind_{k}" for k in KINDS))


@dataclass
class Rows:
    x: np.ndarray
    answerable: np.ndarray
    gold_first: np.ndarray  # the hand weights' best sentence is in a gold paragraph
    hand: np.ndarray  # the hand weights' confidence


def question_row(
    assistant: Assistant, question: str, gold: set, gold_doc: str | None
) -> tuple[np.ndarray, bool, float]:
    considered = assistant.consider(question)
    found = candidate_features(question, terms(question), considered.evidence, assistant.data, assistant.idf)
    row = np.zeros(len(COLUMNS), dtype=np.float32)
    if not found.candidates:
        return row, False, 0.0
    scores = assistant.scorer.score(found.matrix)  # type: ignore[attr-defined]
    order = np.argsort(-scores, kind="stable")
    m, s = found.matrix[order], scores[order]
    hits = [h.score for h in considered.evidence.hits] + [0.0, 0.0]
    best_para = found.candidates[order[0]].paragraph
    same = np.mean([found.candidates[i].paragraph == best_para for i in order[:5]])
    second = s[1] if len(s) > 1 else 0.0
    extra = [
        s[0],
        second,
        s[0] - second,
        float(np.mean(s[:5])),
        hits[0],
        hits[0] - hits[1],
        m[:, FEATURES.index("sentence_cosine")].max(),
        m[:, FEATURES.index("sentence_coverage")].max(),
        m[:, FEATURES.index("entity_coverage")].max(),
        len(terms(question)) / 10,
        len(question_entities(question)) / 3,
        same,
    ]
    kind = question_type(question)
    row[:] = np.concatenate([m[0], extra, [float(kind == k) for k in KINDS]])
    first = considered.candidates[0].paragraph if considered.candidates else None
    right = first is not None and first.number in gold and (gold_doc is None or first.doc_id == gold_doc)
    return row, right, float(assistant.compose(considered, threshold=0.0).confidence)


def load(spec: str) -> Rows:
    index, questions = spec.split("=", 1)
    assistant = Assistant.load(index)
    xs, ans, right, hand = [], [], [], []
    for line in Path(questions).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        r = json.loads(line)
        gold = set(r.get("gold_paras") or [])
        x, ok, conf = question_row(assistant, r["question"], gold, r.get("gold_doc"))
        xs.append(x)
        ans.append(bool(gold))
        right.append(ok)
        hand.append(conf)
    return Rows(np.stack(xs), np.array(ans), np.array(right), np.array(hand))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", action="append", required=True, help="INDEX=QUESTIONS")
    parser.add_argument(
        "--check", action="append", required=True, help="NAME=INDEX=QUESTIONS (the first sets the threshold)"
    )
    parser.add_argument("--threshold", type=float, default=0.42, help="the hand weights' threshold")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    train = [load(s) for s in args.train]
    x = np.concatenate([t.x for t in train])
    y = np.concatenate([t.answerable for t in train])
    monotone = [1 if c in UP else -1 if c in DOWN else 0 for c in COLUMNS]
    logistic = make_pipeline(StandardScaler(), LogisticRegression(C=0.3, max_iter=2000)).fit(x, y)
    boosted = HistGradientBoostingClassifier(
        max_iter=150,
        learning_rate=0.05,
        max_leaf_nodes=7,
        min_samples_leaf=60,
        l2_regularization=1.0,
        random_state=0,
        monotonic_cst=monotone,
    ).fit(x, y)
    checks = [(spec.split("=", 1)[0], load(spec.split("=", 1)[1])) for spec in args.check]

    def blend(rows: Rows) -> np.ndarray:
        return 0.7 * rows.hand + 0.3 * logistic.predict_proba(rows.x)[:, 1]

    print("| set | hand AUC | logistic AUC | boosted AUC | blend AUC |")
    print("|---|---|---|---|---|")
    for name, rows in checks:
        aucs = [
            roc_auc_score(rows.answerable, v)
            for v in (rows.hand, logistic.predict_proba(rows.x)[:, 1], boosted.predict_proba(rows.x)[:, 1], blend(rows))
        ]
        print(f"| {name} | " + " | ".join(f"{a:.3f}" for a in aucs) + " |")
    first = checks[0][1]
    share = float(np.mean(first.hand[first.answerable] < args.threshold))
    cut = float(np.quantile(blend(first)[first.answerable], share))
    print(
        f"\nblend threshold {cut:.3f}: refuses {share:.3f} of {checks[0][0]}'s answerable questions, as the hand weights do at {args.threshold}"
    )
    print("| set | hand: right first and answered / answerable refused / unanswerable refused | blend: the same |")
    print("|---|---|---|")
    for name, rows in checks:
        cells = []
        for conf, t in ((rows.hand, args.threshold), (blend(rows), cut)):
            a, u = rows.answerable, ~rows.answerable
            unans = f"{np.mean(conf[u] < t):.2f}" if u.any() else "-"
            cells.append(f"{np.mean(rows.gold_first[a] & (conf[a] >= t)):.3f} / {np.mean(conf[a] < t):.3f} / {unans}")
        print(f"| {name} | {cells[0]} | {cells[1]} |")


if __name__ == "__main__":
    main()
