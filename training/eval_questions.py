"""Write the evaluation file of one split of the questions written over the public UN documents.

    python training/eval_questions.py QUESTIONS.jsonl [...] --data DATA --split test --out OUT.jsonl [--corpus DIR]

Keeps the questions whose document falls in the split (the first hex digit of sha1 of its path,
rag.answer.selector_data), finds the paragraph holding each answer as the product splits the document,
and writes `id`, `question`, `gold_paras`, `gold_doc` (the document's id: its file name without
the extension) and `answer_keys`; an unanswerable question gets `gold_paras: []`. A question whose
answer is in no paragraph is left out and counted. With `--corpus`, every document of the
split's questions is copied into that folder (to be indexed with `rag index --corpus DIR`).
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
from pathlib import Path

from rag.answer.selector_data import hashed_split, squash
from rag.readers import read_document
from rag.text.paragraphs import split_paragraphs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--split", choices=("train", "calibration", "test"), required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--corpus", type=Path, default=None, help="copy the split's documents into this folder")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    paragraphs: dict[str, list] = {}
    written = lost = 0
    with open(args.out, "w", encoding="utf-8") as fh:
        for file in args.files:
            for line in file.read_text(encoding="utf-8").splitlines():
                if not line.strip():
                    continue
                r = json.loads(line)
                if hashed_split(r["doc"]) != args.split:
                    continue
                path = args.data / r["doc"]
                if r["doc"] not in paragraphs:
                    paragraphs[r["doc"]] = split_paragraphs(read_document(path, root=path.parent))
                    if args.corpus is not None:
                        args.corpus.mkdir(parents=True, exist_ok=True)
                        shutil.copyfile(path, args.corpus / path.name)
                gold: list[int] = []
                if r.get("answer"):
                    key = squash(r["answer"])
                    gold = [p.number for p in paragraphs[r["doc"]] if p.kind == "para" and key in squash(p.text)][:1]
                    if not gold:
                        lost += 1
                        continue
                row = {
                    "id": r["id"],
                    "question": r["question"],
                    "gold_paras": gold,
                    "gold_doc": path.stem,
                    "answer_keys": [r["answer"]] if gold else [],
                }
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
                written += 1
    print(
        f"{written} questions of the {args.split} split written to {args.out}; {lost} with no paragraph holding the answer"
    )


if __name__ == "__main__":
    main()
