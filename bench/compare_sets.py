"""Every change, reported on several question sets side by side (one table).

    python bench/compare_sets.py --data ../shared/data --work WORK [--scorer selector|hand]
        [--threshold T] [--squad-per-doc 40] [--sets dev,paraphrase,held-out,squad-test,un-test]

- dev: eval/dev.jsonl over the bundled report (questions that reuse its wording);
- paraphrase: eval/paraphrase.jsonl over the bundled report (written without its wording);
- held-out: eval/held-out/a-res-80-9.jsonl over the two GA resolutions of un-related;
- squad-test: the 12 SQuAD 2.0 articles of the test split, retrieval over all 12;
- un-test: the in-domain UN paraphrase questions of the test split (training/un-paraphrase.jsonl);
- new-test: the questions written for the reader over public UN documents, test split
  (training/un-questions.jsonl; new-calibration and new-train are there to study misses on);
- lists-test: questions asking for several things, each in a sentence of its own, test split
  (training/un-lists.jsonl; lists-train and lists-calibration are there to tune on).

None of them is trained or calibrated on (rag.answer.selector_data). Each set's full report is written
under WORK/<set>/report; the table is printed as Markdown and written to WORK/table.md.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from public_sets import prepare, prepare_un  # noqa: E402

from rag.answer.confidence import SelectorScorer  # noqa: E402
from rag.answer.reader import ReaderScorer  # noqa: E402
from rag.answer.scorer import HandScorer  # noqa: E402
from rag.answer.selector_data import INDOMAIN_FILE  # noqa: E402
from rag.assistant import Assistant  # noqa: E402
from rag.encode.adapter import QueryAdapter  # noqa: E402
from rag.encode.delta import is_delta  # noqa: E402
from rag.encode.embedding import Embedder  # noqa: E402
from rag.encode.query_encoder import QueryEncoder  # noqa: E402
from rag.evaluate.evaluation import evaluate_file  # noqa: E402
from rag.index import build_index, load_index  # noqa: E402
from rag.settings import Settings  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SETS = ("dev", "paraphrase", "held-out", "squad-test", "un-test", "new-test", "lists-test")
#: The questions written over public UN documents for the reader (split by document like the others).
QUESTIONS_FILE = ROOT / "training" / "un-questions.jsonl"
LISTS_FILE = ROOT / "training" / "un-lists.jsonl"


def make_set(name: str, data: Path, work: Path, squad_per_doc: int, seed: int) -> Path:
    """Write the set's corpus under work/corpus and return its question file."""
    corpus = work / "corpus"
    if name in ("dev", "paraphrase"):
        corpus.mkdir(parents=True, exist_ok=True)
        for f in (ROOT / "corpus").iterdir():
            shutil.copyfile(f, corpus / f.name)
        return ROOT / "eval" / ("dev.jsonl" if name == "dev" else "paraphrase.jsonl")
    if name == "held-out":
        shutil.copytree(data / "un-related" / "ga-resolutions", corpus, dirs_exist_ok=True)
        return ROOT / "eval" / "held-out" / "a-res-80-9.jsonl"
    if name == "squad-test":
        return prepare(data / "squad2_dev", work, 12, squad_per_doc, seed, split="test")
    if name == "un-test":
        return prepare_un(data, INDOMAIN_FILE, work, "test")
    if name in ("new-test", "new-calibration", "new-train"):  # study misses on the last two only
        return prepare_un(data, QUESTIONS_FILE, work, name.removeprefix("new-"))
    if name in ("lists-train", "lists-calibration", "lists-test"):  # tune on the first two only
        return prepare_un(data, LISTS_FILE, work, name.removeprefix("lists-"))
    raise SystemExit(f"unknown set {name!r}; choose from {', '.join(SETS)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="the public data folder (shared/data)")
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--scorer", default="hand", choices=("selector", "hand", "reader"))
    parser.add_argument("--threshold", type=float, default=None)
    parser.add_argument("--selector", type=Path, default=None, help="a selector folder (default: the shipped one)")
    parser.add_argument("--reader", type=Path, default=None, help="a reader folder (default: models/reader)")
    parser.add_argument("--squad-per-doc", type=int, default=40)
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--adapter", default="shipped", help="a query adapter or query encoder folder, 'shipped' or 'none'"
    )
    parser.add_argument("--lexical-weight", type=float, default=None)
    parser.add_argument("--list-margin", type=float, default=None)
    parser.add_argument("--document-weight", type=float, default=None)
    parser.add_argument("--topic-weight", type=float, default=None)
    parser.add_argument("--k", type=int, default=None, help="paragraphs retrieved (default: the settings')")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if not args.data.is_dir():
        parser.exit(2, f"error: data folder {args.data} not found\n")

    embedder = Embedder("all-MiniLM-L6-v2", threads=1)
    scorer = (
        HandScorer()
        if args.scorer == "hand"
        else ReaderScorer.load(args.reader)
        if args.scorer == "reader"
        else SelectorScorer.load(args.selector)
    )
    adapter: QueryAdapter | QueryEncoder | None
    if args.adapter == "none":
        adapter = None
    elif args.adapter == "shipped":
        adapter = QueryEncoder.shipped_for(embedder.name, embedder.dimension) or QueryAdapter.shipped_for(
            embedder.name, embedder.dimension
        )
    elif is_delta(args.adapter):
        adapter = QueryEncoder.load(args.adapter)
    else:
        adapter = QueryAdapter.load(args.adapter)
    settings = Settings(threshold=args.threshold)
    if args.lexical_weight is not None:
        settings = replace(settings, lexical_weight=args.lexical_weight)
    if args.list_margin is not None:
        settings = replace(settings, list_margin=args.list_margin)
    if args.document_weight is not None:
        settings = replace(settings, document_weight=args.document_weight)
    if args.topic_weight is not None:
        settings = replace(settings, topic_weight=args.topic_weight)
    if args.k is not None:
        settings = replace(settings, k=args.k)
    rows = []
    for name in args.sets.split(","):
        work = args.work / name
        questions = make_set(name, args.data, work, args.squad_per_doc, args.seed)
        # Incremental: nothing is embedded again unless a document or the index format changed.
        build_index(work / "corpus", work / "index", embedder=embedder, progress=False)
        assistant = Assistant(
            load_index(work / "index"),
            embedder,
            settings,
            index_dir=work / "index",
            scorer=scorer,
            adapter=adapter or False,
        )
        report = evaluate_file(assistant, questions, work / "report")
        f = report.figures
        rows.append(
            (
                name,
                f.questions,
                f.retrieval.recall[5],
                f.answers.correct_cited,
                f.abstention.abstained_answerable,
                f.abstention.abstained_unanswerable,
                f.calibration.expected_calibration_error,
                f.confidence.answerability_auc,
                f.confidence.correct_cited_no_threshold,
                f.confidence.answerable_median,
                f.confidence.unanswerable_median,
                f.latency_ms.median,
            )
        )
        print(f"{name}: {report.summary().splitlines()[2]}", flush=True)
    threshold = assistant.settings.threshold
    head = (
        f"| set ({assistant.scorer.label}, threshold {threshold}, {adapter.label if adapter else 'no adapter'}, "
        f"lexical weight {settings.lexical_weight}, k {settings.k}) | questions | recall@5 | correct, gold cited "
        "| wrongly abstains (answerable) | abstains (unanswerable) | ECE | answerability AUC "
        "| correct, no threshold | median confidence (answerable) | (unanswerable) | median ms |"
    )
    lines = [head, "|---" * 12 + "|"]
    lines += ["| " + " | ".join("-" if v is None else str(v) for v in row) + " |" for row in rows]
    table = "\n".join(lines)
    (args.work / "table.md").write_text(table + "\n", encoding="utf-8")
    (args.work / "table.json").write_text(json.dumps(rows), encoding="utf-8")
    print(table)


if __name__ == "__main__":
    main()
