"""Is every sentence the index could quote printed in one piece in its document's source?

    python bench/grounded_sentences.py "DATA/un-related/treaties/*" "DATA/un-scale/treaties/*" [...] [--code FOLDER]
        [--long 1500] [--find TEXT]

Reads every file the patterns match, splits it into paragraphs and sentences as `rag index` does,
and looks for each sentence in the source lines its paragraph spans, the way the grounding check of
`rag eval` reads them (markup stripped, whitespace collapsed). Prints how many sentences are not
found, in how many documents, and the first few; how many sentences are longer than `--long`
characters; and with `--find`, how many paragraphs hold a text ("Treedt in werking"). `--code`
reads with the `rag` package of another checkout (a `git worktree` of an earlier commit), so the
same command gives the figure before.
"""

from __future__ import annotations

import argparse
import glob
import logging
import sys
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("patterns", nargs="+", help="file patterns (quoted, so the shell leaves them)")
    parser.add_argument("--code", type=Path, default=None, help="a checkout whose rag package to use")
    parser.add_argument("--show", type=int, default=5)
    parser.add_argument("--long", type=int, default=1500, help="count the sentences longer than this many characters")
    parser.add_argument("--find", default=None, help="count the paragraphs (and documents) whose text holds this")
    args = parser.parse_args()
    if args.code is not None:
        sys.path.insert(0, str(args.code.resolve()))
    logging.disable(logging.WARNING)
    from rag.cite.grounding import normalise
    from rag.readers import read_document
    from rag.text.lines import quotable
    from rag.text.paragraphs import split_paragraphs
    from rag.text.sentences import split_sentences

    files = sorted({f for pattern in args.patterns for f in glob.glob(pattern)})
    total, missing, documents, shown = 0, 0, set(), []
    paragraphs, long, found, found_in = 0, 0, 0, set()
    for f in files:
        doc = read_document(Path(f))
        for p in split_paragraphs(doc):
            paragraphs += 1
            if args.find is not None and args.find in p.text:
                found += 1
                found_in.add(f)
            first, last = p.lines
            source = normalise(" ".join(quotable(line) for line in doc.lines[first - 1 : last]))
            for s in split_sentences(p.text):
                total += 1
                long += s.end - s.start > args.long
                if normalise(p.text[s.start : s.end]) not in source:
                    missing += 1
                    documents.add(f)
                    if len(shown) < args.show:
                        shown.append(f"{Path(f).name} para {p.number} ({p.ref}): {p.text[s.start : s.end][:100]}")
    print(
        f"{len(files)} documents, {total} sentences: {missing} not in their source lines, in {len(documents)} documents"
    )
    for line in shown:
        print(f"  {line}")
    print(f"{paragraphs} paragraphs; {long} sentences longer than {args.long} characters")
    if args.find is not None:
        print(f"{found} paragraphs hold {args.find!r}, in {len(found_in)} documents")


if __name__ == "__main__":
    main()
