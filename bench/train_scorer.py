"""Fit a linear answer scorer (rag.answer.scorer.LinearScorer) on public QA sets, never on the dev questions.

For every question, the assistant retrieves paragraphs as it does when answering, and every
sentence of them becomes a feature row (rag/answer/features.py). A row is labelled 1 when its sentence
lies in the gold paragraph and contains one of the gold answers, else 0; questions without an
answer (SQuAD 2.0's unanswerable half) give only 0 rows. A logistic model fitted on the rows
reads as the probability that quoting the sentence answers the question.

    python bench/train_scorer.py DATA/squad2_dev --skip 12 --docs 23 --work WORK [--also DATA/policyqa]
        [--out scorer.json] [--rows rows.npz]

`--skip 12` keeps the first 12 SQuAD articles out, so that `bench/public_sets.py --docs 12` stays
a held-out check. Prints the fit's figures on a held-out fifth of the training questions.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
from pathlib import Path

import numpy as np
from public_sets import prepare
from sklearn.linear_model import LogisticRegression

from rag.answer.features import FEATURES, candidate_features
from rag.answer.scorer import HandScorer, LinearScorer
from rag.answer.selector_data import squash
from rag.assistant import Assistant
from rag.index import build_index
from rag.text.terms import terms

log = logging.getLogger("train_scorer")


def collect(assistant: Assistant, questions: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    """Feature rows, labels and question numbers for every usable question of an eval file."""
    xs, ys, qs = [], [], []
    counts = {"questions": 0, "answerable": 0, "gold_not_retrieved": 0, "answer_not_in_a_sentence": 0}
    for n, line in enumerate(questions.read_text(encoding="utf-8").splitlines()):
        row = json.loads(line)
        question = " ".join(row["question"].split())
        if not question:
            continue
        query_terms = terms(question)
        evidence = assistant.retriever.search(assistant.encode_question(question), query_terms, k=assistant.settings.k)
        found = candidate_features(question, query_terms, evidence, assistant.data, assistant.idf)
        if not found.candidates:
            continue
        gold = set(row["gold_paras"])
        answers = [squash(a) for a in row.get("answers", []) if squash(a)]
        labels = np.zeros(len(found.candidates), dtype=np.int8)
        if gold:
            counts["answerable"] += 1
            in_gold = [c.paragraph.doc_id == row["gold_doc"] and c.paragraph.number in gold for c in found.candidates]
            for i, c in enumerate(found.candidates):
                quote = squash(c.paragraph.text[c.start : c.end])
                labels[i] = in_gold[i] and any(a in quote for a in answers)
            if not any(in_gold):
                counts["gold_not_retrieved"] += 1
            elif not labels.any():
                counts["answer_not_in_a_sentence"] += 1
                continue  # the answer spans a sentence boundary: no row can be called right
        counts["questions"] += 1
        xs.append(found.matrix)
        ys.append(labels)
        qs.append(np.full(len(labels), n))
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(qs), counts


def question_figures(scores: np.ndarray, y: np.ndarray, q: np.ndarray) -> dict:
    """Per question: is the best-scored sentence a right one, and how do answerable and
    unanswerable questions' best scores separate (the abstention the scorer allows)."""
    best_right, best_score, answerable = [], [], []
    for n in np.unique(q):
        sel = q == n
        i = int(np.argmax(scores[sel]))
        best_right.append(bool(y[sel][i]))
        best_score.append(float(scores[sel][i]))
        answerable.append(bool(y[sel].any()))
    best_right, best_score, answerable = map(np.asarray, (best_right, best_score, answerable))
    out = {"questions": int(len(best_right)), "top1_right_of_answerable": float(best_right[answerable].mean())}
    unans = ~answerable
    if unans.any():
        # Threshold that refuses at most 10 % of the answerable questions whose top sentence is right.
        t = float(np.quantile(best_score[answerable & best_right], 0.10))
        out["threshold_at_10pct_refused"] = round(t, 4)
        out["abstained_no_right_answer_at_that_threshold"] = float((best_score[unans] < t).mean())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="a normalised public set with unanswerable questions")
    parser.add_argument("--skip", type=int, default=12)
    parser.add_argument("--docs", type=int, default=23)
    parser.add_argument("--per-doc", type=int, default=400)
    parser.add_argument(
        "--also",
        type=Path,
        action="append",
        default=[],
        help="more normalised sets (answerable questions only is fine)",
    )
    parser.add_argument("--also-docs", type=int, default=10)
    parser.add_argument("--also-per-doc", type=int, default=60)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--C", type=float, default=1.0, help="inverse regularisation strength")
    parser.add_argument("--out", type=Path, default=None, help="write the fitted scorer here")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rows", type=Path, default=None, help="save the labelled rows here (.npz)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    sets = [(args.data, args.skip, args.docs, args.per_doc)] + [
        (p, 0, args.also_docs, args.also_per_doc) for p in args.also
    ]
    parts = []
    for offset, (data, skip, docs, per_doc) in enumerate(sets):
        work = args.work / data.name
        questions = prepare(data, work, docs, per_doc, args.seed, skip=skip)
        build_index(work / "corpus", work / "index", progress=False)
        assistant = Assistant.load(work / "index")
        x, y, q, counts = collect(assistant, questions)
        print(f"{data.name}: {counts}, {len(y)} rows, {int(y.sum())} right")
        parts.append((x, y, q + offset * 10_000_000))
    x = np.concatenate([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    q = np.concatenate([p[2] for p in parts])
    if args.rows:
        np.savez_compressed(args.rows, x=x, y=y, q=q, features=np.asarray(FEATURES))

    rng = random.Random(args.seed)
    ids = sorted(set(q.tolist()))
    held = set(rng.sample(ids, len(ids) // 5))
    test = np.isin(q, list(held))
    model = LogisticRegression(C=args.C, max_iter=2000)
    model.fit(x[~test], y[~test])
    print("held-out fifth, fitted:", question_figures(model.predict_proba(x[test])[:, 1], y[test], q[test]))
    print("held-out fifth, hand weights:", question_figures(HandScorer().score(x[test]), y[test], q[test]))
    model.fit(x, y)
    for name, c in sorted(zip(FEATURES, model.coef_[0]), key=lambda t: -abs(t[1])):
        print(f"  {name:20} {c:+.3f}")
    print(f"  {'intercept':20} {model.intercept_[0]:+.3f}")
    if args.out:
        about = {
            "fitted_by": "bench/train_scorer.py",
            "C": args.C,
            "sets": [{"name": d.name, "skip": s, "docs": n, "per_doc": p} for d, s, n, p in sets],
            "rows": int(len(y)),
            "positive_rows": int(y.sum()),
            "questions": len(ids),
        }
        scorer = LinearScorer(model.coef_[0].astype(np.float64), float(model.intercept_[0]), about)
        args.out.write_text(scorer.to_json() + "\n", encoding="utf-8")
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
