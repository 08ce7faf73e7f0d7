"""Fit the answer selector's confidence (rag.answer.confidence.ConfidenceModel) on the calibration split.

For every calibration question of SQuAD 2.0, PolicyQA, COVID-QA and the in-domain UN paraphrase
set (documents of the fixed calibration split, rag.answer.selector_data), the assistant retrieves and
ranks candidates as it does when answering (hand weights); the best few are read by the
selector, and the question becomes one row (the best sentence's features, hand score, the
selector's readings) labelled 1 when that sentence lies in a gold paragraph and holds a gold
answer. A logistic model is fitted on the rows (each set weighs the same), and the threshold is read off the pooled risk-coverage curve: the one that refuses most unanswerable
questions while refusing at most `--max-wrong` of the answerable ones. Writes confidence.json
into the selector folder.

    python bench/fit_confidence.py --data ../shared/data --work WORK [--selector models/answer-selector]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, str(Path(__file__).resolve().parent))
from public_sets import prepare, prepare_un  # noqa: E402

from rag.answer.confidence import COLUMNS, CONFIDENCE_FILE, ConfidenceModel, SelectorScorer  # noqa: E402
from rag.answer.features import candidate_features  # noqa: E402
from rag.answer.scorer import HandScorer  # noqa: E402
from rag.answer.selector import AnswerSelector  # noqa: E402
from rag.answer.selector_data import INDOMAIN_FILE, squash  # noqa: E402
from rag.assistant import Assistant  # noqa: E402
from rag.encode.embedding import Embedder  # noqa: E402
from rag.index import build_index, load_index  # noqa: E402
from rag.text.terms import terms  # noqa: E402

log = logging.getLogger("fit_confidence")

#: (set, documents, questions per document, keep each question to its document). PolicyQA trains
#: the selector but is left out here: its templated questions ("Does this website ...?") fit every
#: policy paragraph and its answers are spans across sentences, so the best candidate is rarely
#: "right"; fitted with it, the confidence learns that policy text is rarely right and the
#: threshold is pulled by a set unlike the documents this assistant is for.
SETS = (("squad2_dev", 6, 80, False), ("covidqa", 40, 6, False))


def collect(assistant: Assistant, scorer: SelectorScorer, questions: Path, k: int) -> list[dict]:
    """Per question: the confidence row of its best sentence and whether that sentence is right."""
    out = []
    for line in questions.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        q = " ".join(row["question"].split())
        if not q:
            continue
        query_terms = terms(q)
        doc = assistant.document_id(row.get("doc"))
        evidence = assistant.retriever.search(assistant.encode_question(q), query_terms, k=k, doc_id=doc)
        found = candidate_features(q, query_terms, evidence, assistant.data, assistant.idf)
        gold = set(row.get("gold_paras") or [])
        if not found.candidates:
            continue
        gold_doc = assistant.document_id(row.get("gold_doc"))
        keys = [squash(a) for a in (row.get("answers") or row.get("answer_keys") or []) if squash(a)]
        ranked, x = scorer.row(q, found, assistant.data)
        best = ranked[0]
        right = (
            best.paragraph.number in gold
            and gold_doc in (None, best.paragraph.doc_id)
            and any(key in squash(best.paragraph.text[best.start : best.end]) for key in keys)
        )
        out.append({"x": x[0], "y": float(right), "answerable": bool(gold)})
    return out


def curve_figures(groups: list[dict], model: ConfidenceModel, t: float) -> dict[str, float | None]:
    ans = [g for g in groups if g["answerable"]]
    una = [g for g in groups if not g["answerable"]]
    pa = model.probability(np.asarray([g["x"] for g in ans])) if ans else np.zeros(0)
    pu = model.probability(np.asarray([g["x"] for g in una])) if una else np.zeros(0)
    ya = np.asarray([g["y"] for g in ans])
    return {
        "answerable": len(ans),
        "unanswerable": len(una),
        "top_right": round(float(ya.mean()), 4) if ans else None,
        "right_and_kept": round(float((ya * (pa >= t)).mean()), 4) if ans else None,
        "wrong_abstention": round(float((pa < t).mean()), 4) if ans else None,
        "abstention_unanswerable": round(float((pu < t).mean()), 4) if una else None,
        "mean_confidence": round(float(np.concatenate([pa, pu]).mean()), 4),
        "share_right": round(float(ya.sum() / (len(ans) + len(una))), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--selector", type=Path, default=None)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--max-wrong", type=float, default=0.10)
    parser.add_argument("--C", type=float, default=0.5)
    parser.add_argument("--rerank", type=int, default=3, help="sentences the selector reads")
    parser.add_argument(
        "--columns", default=None, help="comma-separated columns the model may read (the others get weight 0)"
    )
    parser.add_argument(
        "--without-selector",
        action="store_true",
        help="ablation: fit without the selector's columns (they get weight 0)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fraction", type=float, default=1.0, help="of the questions per document (a quick run)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if not args.data.is_dir():
        parser.exit(2, f"error: data folder {args.data} not found\n")

    selector = AnswerSelector.load(args.selector)
    import torch

    torch.set_num_threads(2)
    placeholder = ConfidenceModel(np.zeros(len(COLUMNS)), 0.0)
    scorer = SelectorScorer(selector, placeholder, top=args.rerank)
    embedder = Embedder("all-MiniLM-L6-v2", threads=2)
    by_set: dict[str, list[dict]] = {}
    plans = [
        (
            name,
            lambda w, n=name, d=docs, p=max(1, int(per * args.fraction)), s=scope: prepare(  # noqa: B008
                args.data / n, w, d, p, args.seed, scope=s, split="calibration"
            ),
        )
        for name, docs, per, scope in SETS
    ]
    plans.append(("un-paraphrase", lambda w: prepare_un(args.data, INDOMAIN_FILE, w, "calibration")))
    cache = args.work / "rows.json"
    if cache.is_file():  # rows of an earlier run with the same selector
        saved = json.loads(cache.read_text())
        if saved["selector"] == selector.label and saved["rerank"] == scorer.top:
            by_set = {n: [{**g, "x": np.asarray(g["x"], np.float32)} for g in gs] for n, gs in saved["sets"].items()}
            plans = []
    for name, make in plans:
        work = args.work / name
        questions = make(work)
        build_index(work / "corpus", work / "index", embedder=embedder, progress=False)
        assistant = Assistant(load_index(work / "index"), embedder, index_dir=work / "index", scorer=HandScorer())
        by_set[name] = collect(assistant, scorer, questions, args.k)
        n_ans = sum(g["answerable"] for g in by_set[name])
        print(f"{name}: {len(by_set[name])} questions ({n_ans} answerable)", flush=True)

    cache.write_text(
        json.dumps(
            {
                "selector": selector.label,
                "rerank": scorer.top,
                "sets": {n: [{**g, "x": [float(v) for v in g["x"]]} for g in gs] for n, gs in by_set.items()},
            }
        )
    )
    # The logistic model, one row per question (was its best sentence right?); each set weighs the same.
    x = np.concatenate([np.asarray([g["x"] for g in groups]) for groups in by_set.values()])
    y = np.concatenate([np.asarray([g["y"] for g in groups]) for groups in by_set.values()])
    w = np.concatenate([np.full(len(groups), 1.0 / len(groups)) for groups in by_set.values()])
    if args.columns:
        keep = [COLUMNS.index(c) for c in args.columns.split(",")]
        x[:, [i for i in range(len(COLUMNS)) if i not in keep]] = 0.0
    if args.without_selector:
        x[:, [COLUMNS.index(c) for c in ("selector_logit", "selector_best", "selector_gap")]] = 0.0
    fit = LogisticRegression(C=args.C, max_iter=5000).fit(x, y, sample_weight=w * len(w) / w.sum())
    model = ConfidenceModel(fit.coef_[0].astype(np.float64), float(fit.intercept_[0]))

    # The threshold: most unanswerable refused, at most max-wrong of answerable refused (means over sets).
    best_t, best_gain = 0.0, -1.0
    for t in np.round(np.arange(0.01, 0.951, 0.01), 2):
        figs = [curve_figures(g, model, float(t)) for g in by_set.values()]
        wrong = float(np.mean([f["wrong_abstention"] for f in figs if f["wrong_abstention"] is not None]))
        una = [f["abstention_unanswerable"] for f in figs if f["abstention_unanswerable"] is not None]
        gain = float(np.mean(una)) - wrong
        if wrong <= args.max_wrong and gain > best_gain + 1e-9:
            best_t, best_gain = float(t), gain
    figures = {name: curve_figures(g, model, best_t) for name, g in by_set.items()}
    about = {
        "selector": selector.label,
        "fitted_on": "calibration split (rag.answer.selector_data)",
        "sets": {name: len(g) for name, g in by_set.items()},
        "rerank": scorer.top,
        "max_wrong_abstention": args.max_wrong,
        "figures_at_threshold": figures,
    }
    model = ConfidenceModel(model.coef, model.intercept, best_t, about)
    (selector.folder / CONFIDENCE_FILE).write_text(model.to_json() + "\n", encoding="utf-8")
    print(
        json.dumps(
            {"threshold": best_t, "figures": figures, "weights": dict(zip(COLUMNS, np.round(model.coef, 3).tolist()))},
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
