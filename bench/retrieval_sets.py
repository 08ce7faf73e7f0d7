"""Retrieval alone, on every question set at hand, side by side: the packaged MiniLM as it is
("before": no query encoder, no weight for the document a question names) against the shipped
retrieval ("after": the query encoder, the weight for the document a question names and the weight for the
documents closest to it as a whole, `Settings.document_weight` and `Settings.topic_weight`).

    python bench/retrieval_sets.py --data ../shared/data --work WORK [--sets dev,obliqa-test,...]

Sets: the six of bench/compare_sets.py (dev, paraphrase, held-out, squad-test, un-test,
new-test) and the test split of each other public set (PolicyQA, ObliQA, COVID-QA; documents
split as rag.answer.selector_data splits them, 30 questions a document). PolicyQA's questions
say "this website" and fit every policy, so each is asked of its own document only. Prints one
Markdown table: recall@1/5/20 and the mean reciprocal rank of the answerable questions; writes
it to WORK/retrieval.md as well. None of these sets is trained or tuned on.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare_sets import SETS, make_set  # noqa: E402
from public_sets import prepare  # noqa: E402

from rag.assistant import Assistant, shipped_query_map  # noqa: E402
from rag.encode.embedding import Embedder  # noqa: E402
from rag.index import build_index, load_index  # noqa: E402
from rag.settings import Settings  # noqa: E402
from rag.text.terms import terms  # noqa: E402

log = logging.getLogger("retrieval_sets")

#: The other public sets: folder, questions a document, asked of their own document only.
PUBLIC = {
    "policyqa-test": ("policyqa", 30, True),
    "obliqa-test": ("obliqa", 30, False),
    "covidqa-test": ("covidqa", 30, False),
}
KS = (1, 5, 20)


@dataclass(frozen=True)
class Recall:
    questions: int
    at: dict[int, float]
    mrr: float


def write_set(name: str, data: Path, work: Path) -> Path:
    if name in PUBLIC:
        folder, per_doc, scope = PUBLIC[name]
        return prepare(data / folder, work, 10_000, per_doc, 0, scope=scope, split="test")
    return make_set(name, data, work, 40, 0)


def recall(assistant: Assistant, questions: Path) -> Recall:
    found = dict.fromkeys(KS, 0)
    reciprocal = 0.0
    rows = [json.loads(line) for line in questions.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = [r for r in rows if r.get("gold_paras")]
    for r in rows:
        q = r["question"]
        evidence = assistant.evidence(q, assistant.encode_question(q), terms(q), k=max(KS), doc_id=r.get("doc"))
        ranks = [
            i
            for i, h in enumerate(evidence.hits)
            if h.paragraph.doc_id == r["gold_doc"] and h.paragraph.number in r["gold_paras"]
        ]
        if ranks:
            reciprocal += 1.0 / (ranks[0] + 1)
            for k in KS:
                found[k] += ranks[0] < k
    n = max(1, len(rows))
    return Recall(len(rows), {k: found[k] / n for k in KS}, reciprocal / n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="the public data folder (shared/data)")
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--sets", default=",".join([*SETS, *PUBLIC]))
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    embedder = Embedder()
    lines = [
        "| set | questions | before: recall@1 / @5 / @20 / MRR | after: recall@1 / @5 / @20 / MRR |",
        "|---|---|---|---|",
    ]
    for name in args.sets.split(","):
        work = args.work / name
        questions = write_set(name, args.data, work)
        build_index(work / "corpus", work / "index", embedder=embedder, progress=False)
        data = load_index(work / "index")
        shown = []
        before = Assistant(
            data, embedder, Settings(document_weight=0.0, topic_weight=0.0), index_dir=work / "index", adapter=False
        )
        after = Assistant(data, embedder, index_dir=work / "index", adapter=shipped_query_map(data.manifest) or False)
        for assistant in (before, after):
            shown.append(recall(assistant, questions))
        cells = [" / ".join(f"{r.at[k]:.3f}" for k in KS) + f" / {r.mrr:.3f}" for r in shown]
        lines.append(f"| {name} | {shown[0].questions} | {cells[0]} | {cells[1]} |")
        log.warning("%s", lines[-1])
    table = "\n".join(lines)
    print(table)
    (args.work / "retrieval.md").write_text(table + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
