"""Where does a compound question's missing answer stand among its part's sentences?

    python bench/compound_parts.py WORK/lists-train WORK/lists-calibration [--code FOLDER]

Each folder is one of `bench/compare_sets.py`'s sets (its `index/` and the `report/report.json`
that `rag eval` wrote). For every answered question that was split into parts and still misses an
answer key, prints where the part holding the key ranks it among its 5 best sentences, and whether
the part's best sentence is already in the answer; then counts the questions whose key sits in a
part's 2nd to 5th sentence while that part's best was quoted anyway. `--code` reads with the `rag`
package of another checkout (a `git worktree` of an earlier commit).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="+", type=Path, help="folders written by bench/compare_sets.py")
    parser.add_argument("--code", type=Path, default=None, help="a checkout whose rag package to use")
    args = parser.parse_args()
    if args.code is not None:
        sys.path.insert(0, str(args.code.resolve()))
    logging.disable(logging.WARNING)
    from rag.assistant import Assistant
    from rag.cite.grounding import normalise

    behind_a_quoted_best = 0
    for folder in args.sets:
        assistant = Assistant.load(folder / "index")
        rows = json.loads((folder / "report" / "report.json").read_text(encoding="utf-8"))["rows"]
        for row in rows:
            if row["correct"] or not row["gold_paras"] or row["abstained"]:
                continue
            considered = assistant.consider(row["question"])
            text = normalise(row["answer"]).lower()
            missing = [k for k in row["answer_keys"] if normalise(k).lower() not in text]
            counted = False
            for part in considered.parts:
                quoted = normalise(part[0].paragraph.text[part[0].start : part[0].end]).lower() in text
                for rank, cand in enumerate(part[:5]):
                    sentence = normalise(cand.paragraph.text[cand.start : cand.end]).lower()
                    if any(normalise(k).lower() in sentence for k in missing):
                        print(
                            f"{folder.name}: key at rank {rank}, part's best quoted {quoted} | {row['question'][:80]}"
                        )
                        if rank > 0 and quoted and not counted:
                            behind_a_quoted_best += 1
                            counted = True
                        break
    print(f"{behind_a_quoted_best} questions with a key behind a part's best sentence that the answer quoted")


if __name__ == "__main__":
    main()
