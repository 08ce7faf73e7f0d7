"""What a change to the paragraph splitter does to real documents: every unit of every document.

    python bench/paragraph_changes.py --data DATA --out NEW.json [--code FOLDER] [--compare OLD.json]

Splits every document of DATA's un-related folder and of un-scale's GA resolutions and treaties
(at most 400 a folder) and writes each document's units as (kind, number, reference, length).
`--code` reads them with the `rag` package of another checkout (a `git worktree` of an earlier
commit), so the same command gives the figures before and after; `--compare` prints how many
documents changed their numbered paragraphs, and which gained unnumbered text blocks.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--code", type=Path, default=None, help="a checkout whose rag package to use")
    parser.add_argument("--compare", type=Path, default=None, help="units written by an earlier run")
    args = parser.parse_args()
    if args.code is not None:
        sys.path.insert(0, str(args.code.resolve()))
    logging.disable(logging.WARNING)
    from rag.errors import RagError
    from rag.readers import READERS, read_document
    from rag.text.paragraphs import split_paragraphs

    roots = [args.data / "un-related", args.data / "un-scale" / "ga-res-80", args.data / "un-scale" / "treaties"]
    units: dict[str, list[tuple[str, int, str, int]]] = {}
    for root in roots:
        files = [f for f in sorted(root.rglob("*")) if f.suffix.lower() in READERS][:400]
        for f in files:
            try:
                doc = read_document(f, root=root)
            except RagError:
                continue
            units[str(f.relative_to(args.data))] = [
                (p.kind, p.number, p.ref, len(p.text)) for p in split_paragraphs(doc)
            ]
    args.out.write_text(json.dumps(units), encoding="utf-8")
    print(f"{len(units)} documents split; units written to {args.out}")
    if args.compare is None:
        return
    old = json.loads(args.compare.read_text(encoding="utf-8"))
    changed = [
        d
        for d in old
        if d in units and [list(u) for u in units[d] if u[0] != "text"] != [u for u in old[d] if u[0] != "text"]
    ]
    gained = {d: [u for u in units[d] if u[0] == "text"] for d in units if any(u[0] == "text" for u in units[d])}
    print(f"{len(changed)} of {len(old)} documents changed their numbered paragraphs or notes")
    print(
        f"{len(gained)} documents have text outside their numbered paragraphs, {sum(map(len, gained.values()))} blocks:"
    )
    for d, blocks in gained.items():
        print(f"  {d}: " + "; ".join(f"{ref} ({length} characters)" for _, _, ref, length in blocks))


if __name__ == "__main__":
    main()
