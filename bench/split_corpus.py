"""Read and split every document of a folder, without embedding: does the reader cope?

    python bench/split_corpus.py CORPUS_DIR

Prints documents, paragraphs, sentences, how many documents kept their own numbering,
the longest paragraph, the time taken, and every file that could not be read.
"""

from __future__ import annotations

import argparse
import logging
import time

from rag.errors import RagError
from rag.paragraphs import split_paragraphs
from rag.readers import corpus_files, read_document
from rag.sentences import split_sentences


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    started = time.perf_counter()
    docs = paragraphs = sentences = numbered = longest = 0
    failures = []
    for doc_id, path in corpus_files(args.corpus):
        try:
            paras = split_paragraphs(read_document(path, doc_id=doc_id, root=args.corpus))
        except RagError as exc:
            failures.append(str(exc))
            continue
        docs += 1
        paragraphs += len(paras)
        numbered += bool(paras and paras[0].numbered_by_source)
        for p in paras:
            sentences += len(split_sentences(p.text))
            longest = max(longest, len(p.text))
    print(f"{docs} documents, {paragraphs} paragraphs, {sentences} sentences; {numbered} documents keep "
          f"their own numbering; longest paragraph {longest:,} characters; "
          f"{time.perf_counter() - started:.1f} s; {len(failures)} unreadable")
    for failure in failures:
        print(f"  {failure}")


if __name__ == "__main__":
    main()
