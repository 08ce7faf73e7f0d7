"""Check a file of training questions written over the public UN documents.

    python training/check_questions.py QUESTIONS.jsonl [...] --data DATA
    python training/check_questions.py --overlap-of eval/paraphrase.jsonl --corpus corpus

Each line: {"id", "doc" (path under DATA), "question", "answer" (verbatim words of the document, or
null; or "answers", a list of such keys each in a sentence of its own, for questions asking
for several things), "kind", and for an unanswerable one "near" (the tempting passage, verbatim), "trap" and
"twin" (the id of the answerable question it was made from)}.

Checks, for every line: the fields and their values; the document exists and is not one kept
for evaluation by others; the answer (and "near") lies inside one paragraph as the product splits
the document (compared without case, spacing or punctuation); the question shares no run of 4
words with that paragraph (questions are written in the asker's words, not the document's); ids
are unique. Prints one line per problem and a summary (counts per kind and trap, the mean word
overlap of questions with their paragraphs). Exit status 1 if any line fails.

`--overlap-of` prints only that mean for an evaluation file (`gold_paras`, `gold_doc`) over the
documents of `--corpus`, to compare a set written here with the check sets.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections import Counter
from pathlib import Path

from rag.answer.selector_data import squash
from rag.errors import RagError
from rag.readers import read_document
from rag.text.paragraphs import split_paragraphs

#: Documents kept for evaluation by others: no training or calibration questions over them.
RESERVED = ("A_HRC_28_9", "S_2025_85", "E_2025_28", "A_80_62", "BWBV0001839", "A_RES_80_9", "A_RES_80_16")
KINDS = {"who", "when", "how-many", "what", "which", "why", "how", "list", "yes-no", "where", "what-said"}
TRAPS = {"missing-detail", "wrong-kind", "neighbour-entity", "wrong-year", "not-stated"}
STOP = set(
    "a an the of to in on for by and or is are was were be been it its as at with from that this which what".split()
)


def words(text: str) -> list[str]:
    return squash(text).split()


def shared_run(question: str, paragraph: str, n: int = 4) -> str | None:
    """A run of n words of the question that stands in the paragraph, if any (stop words alone don't count)."""
    q = words(question)
    para = " " + squash(paragraph) + " "
    for i in range(len(q) - n + 1):
        run = q[i : i + n]
        if sum(w not in STOP for w in run) >= 2 and f" {' '.join(run)} " in para:
            return " ".join(run)
    return None


def overlap(question: str, paragraph: str) -> float:
    """Share of the question's content words that the paragraph holds."""
    q = [w for w in words(question) if w not in STOP]
    have = set(words(paragraph))
    return sum(w in have for w in q) / len(q) if q else 0.0


def overlap_of(questions: Path, corpus: Path) -> float:
    """Mean content-word overlap of an evaluation file's answerable questions with their gold paragraphs."""
    paras: dict[tuple[str, int], str] = {}
    for path in sorted(corpus.iterdir()):
        if path.is_file():
            for p in split_paragraphs(read_document(path, root=corpus)):
                if p.kind == "para":
                    paras[(p.doc_id, p.number)] = p.text
    values = []
    for line in questions.read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        texts = [paras[(d, g)] for g in r.get("gold_paras") or [] for d in [r.get("gold_doc")] if (d, g) in paras]
        if texts:
            values.append(max(overlap(r["question"], t) for t in texts))
    return sum(values) / len(values) if values else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--data", type=Path, help="the shared public data folder")
    parser.add_argument("--overlap-of", type=Path, default=None, help="an evaluation file: print its mean overlap")
    parser.add_argument("--corpus", type=Path, default=Path("corpus"), help="the documents of --overlap-of")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    if args.overlap_of is not None:
        print(
            f"{args.overlap_of}: mean content-word overlap with the gold paragraph {overlap_of(args.overlap_of, args.corpus):.2f}"
        )
        return 0
    if not args.files or args.data is None:
        parser.error("give the question files and --data (or --overlap-of FILE)")
    problems: list[str] = []
    seen: set[str] = set()
    paragraphs: dict[str, list[str]] = {}
    kinds: Counter[str] = Counter()
    traps: Counter[str] = Counter()
    overlaps: list[float] = []
    docs: set[str] = set()
    rows = 0
    for file in args.files:
        for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            where = f"{file}:{number}"
            try:
                r = json.loads(line)
            except json.JSONDecodeError as exc:
                problems.append(f"{where}: not JSON ({exc})")
                continue
            rows += 1
            if "answers" in r:  # several keys, each in a sentence of its own
                if not isinstance(r["answers"], list) or not r["answers"]:
                    problems.append(f"{where}: 'answers' must list at least one key of the document's words")
                    continue
                r["answer"] = r["answers"][0]
            missing = [k for k in ("id", "doc", "question", "answer", "kind") if k not in r]
            if missing:
                problems.append(f"{where}: missing {', '.join(missing)}")
                continue
            if r["id"] in seen:
                problems.append(f"{where}: duplicate id {r['id']}")
            seen.add(r["id"])
            if r["kind"] not in KINDS:
                problems.append(f"{where}: kind {r['kind']!r} is not one of {sorted(KINDS)}")
            kinds[r["kind"]] += 1
            doc = str(r["doc"])
            if any(name in doc for name in RESERVED):
                problems.append(f"{where}: {doc} is kept for evaluation by others")
                continue
            path = args.data / doc
            if not path.is_file():
                problems.append(f"{where}: no document {doc} under {args.data}")
                continue
            docs.add(doc)
            if doc not in paragraphs:
                try:
                    parsed = split_paragraphs(read_document(path, root=path.parent))
                except RagError as exc:
                    problems.append(f"{where}: cannot read {doc}: {exc}")
                    paragraphs[doc] = []
                    continue
                paragraphs[doc] = [p.text for p in parsed]
            texts = paragraphs[doc]
            q = str(r["question"]).strip()
            request = q.split()[0] in ("Name", "List", "Give", "Identify") if q else False  # "Name the three ..."
            if not (q.endswith("?") or request and q.endswith(".")) or len(q) < 12:
                problems.append(
                    f"{where}: the question should be a full question ending with '?' (or a request: \"Name the three ...\")"
                )
            span = r["answer"] if r["answer"] is not None else r.get("near")
            if r["answer"] is None:
                if r.get("trap") not in TRAPS:
                    problems.append(f"{where}: an unanswerable question needs a trap, one of {sorted(TRAPS)}")
                traps[str(r.get("trap"))] += 1
                if not r.get("twin"):
                    problems.append(f"{where}: an unanswerable question needs the id of its answerable twin")
                if not r.get("near"):
                    problems.append(f"{where}: an unanswerable question needs 'near', the tempting passage")
                    continue
            spans = r.get("answers") or [span]
            if not all(isinstance(x, str) and words(x) for x in spans):
                problems.append(f"{where}: the answer must be a string of the document's words")
                continue
            for span in spans:
                key = squash(span)
                holding = [t for t in texts if key in squash(t)]
                if not holding:
                    problems.append(
                        f"{where}: {'answer' if r['answer'] else 'near'} {span[:60]!r} is not inside one paragraph of {doc}"
                    )
                    continue
                run = shared_run(q, holding[0])
                if run and r["answer"] is not None:
                    problems.append(f"{where}: the question copies the document's words {run!r}; ask it in other words")
                overlaps.append(overlap(q, holding[0]))
    for p in problems:
        print(p)
    answerable = rows - sum(traps.values())
    mean = sum(overlaps) / len(overlaps) if overlaps else 0.0
    print(
        f"{rows} questions over {len(docs)} documents: {answerable} answerable, {sum(traps.values())} unanswerable; "
        f"{len(problems)} problems; mean content-word overlap with the paragraph {mean:.2f}"
    )
    print("kinds: " + ", ".join(f"{k} {n}" for k, n in kinds.most_common()))
    print("traps: " + ", ".join(f"{k} {n}" for k, n in traps.most_common()))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
