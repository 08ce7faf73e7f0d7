"""Are two runs' answers the same? Compares the answers.jsonl of each set between two work folders
of bench/compare_sets.py (or two `rag eval --out` folders), leaving out the latency.

    python bench/compare_sets.py --data DATA --work BEFORE      # on the commit before
    python bench/compare_sets.py --data DATA --work AFTER       # on the change
    python bench/same_answers.py BEFORE AFTER

Prints, set by set, how many answer records there are and which differ (their ids, the first few);
exits 1 when any differs.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def records(path: Path) -> dict[str, dict]:
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        row.pop("latency_ms", None)
        out[str(row.get("id"))] = row
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    args = parser.parse_args()
    files = sorted(args.before.glob("**/answers.jsonl"))
    if not files:
        print(f"no answers.jsonl under {args.before}", file=sys.stderr)
        return 2
    total = differ = 0
    for path in files:
        rel = path.relative_to(args.before)
        other = args.after / rel
        if not other.is_file():
            print(f"{rel}: missing in {args.after}")
            differ += 1
            continue
        a, b = records(path), records(other)
        changed = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
        total += len(a)
        differ += len(changed)
        print(f"{rel}: {len(a)} answers, {len(changed)} differ" + (f" ({', '.join(changed[:5])})" if changed else ""))
    print(f"all: {total} answers, {differ} differ")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
