"""How often does a question "name" something its own gold paragraph lacks? Each such name is a
false miss: the paragraph answers, yet loses confidence (HandScorer.missing_entity).

    python bench/missing_names.py --index WORK/cal/index --questions WORK/cal/questions.jsonl [--code FOLDER]

For every answerable question, the names `rag.answer.qtypes.question_entities` reads in it are
looked for in its gold paragraph as the scorer looks for them (the paragraph, its heading, the
document's title, short title and symbol). Prints the count of questions with names, of names
not found, and the most frequent of those. `--code` reads with the `rag` package of another
checkout (a `git worktree` of an earlier commit; its index must be one that checkout built).
"""

from __future__ import annotations

import argparse
import collections
import json
import logging
import sys
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--questions", type=Path, required=True)
    parser.add_argument("--code", type=Path, default=None, help="a checkout whose rag package to use")
    parser.add_argument("--most", type=int, default=25)
    args = parser.parse_args()
    if args.code is not None:
        sys.path.insert(0, str(args.code.resolve()))
    logging.disable(logging.WARNING)
    from rag.answer.features import _about
    from rag.answer.qtypes import entity_coverage, question_entities
    from rag.index import load_index

    data = load_index(args.index)
    key = {(p.doc_id, p.number): p for p in data.paragraphs if p.kind == "para"}
    asked, missing = 0, collections.Counter()
    for line in args.questions.read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        gold = [key[(r.get("gold_doc"), g)] for g in r.get("gold_paras") or [] if (r.get("gold_doc"), g) in key]
        names = question_entities(r["question"])
        if not gold or not names:
            continue
        asked += 1
        p = gold[0]
        context = " ".join(p.section[-1:]) + " " + p.text + " " + _about(p.doc_id, data)
        missing.update(n for n in names if entity_coverage([n], context) < 1.0)
    print(f"{asked} answerable questions name something; {sum(missing.values())} names not found in the gold paragraph")
    print(", ".join(f"{name} ({n})" for name, n in missing.most_common(args.most)))


if __name__ == "__main__":
    main()
