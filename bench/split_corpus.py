"""Read and split every document of a folder, without embedding: does the reader cope?

    python bench/split_corpus.py CORPUS_DIR

Prints documents, paragraphs, sentences, how many documents kept their own numbering,
the longest paragraph, the time taken, pages per second for the paged ones (PDF), and every
file that could not be read.
"""

from __future__ import annotations

import argparse
import logging
import time

from rag.errors import RagError
from rag.readers import corpus_files, read_document
from rag.text.paragraphs import split_paragraphs
from rag.text.sentences import split_sentences


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    started = time.perf_counter()
    docs = paragraphs = sentences = numbered = longest = pages = 0
    paged_seconds = 0.0
    failures = []
    for doc_id, path in corpus_files(args.corpus):
        began = time.perf_counter()
        try:
            doc = read_document(path, doc_id=doc_id, root=args.corpus)
            paras = split_paragraphs(doc)
        except RagError as exc:
            failures.append(str(exc))
            continue
        if doc.pages:
            pages += max(doc.pages)
            paged_seconds += time.perf_counter() - began
        docs += 1
        paragraphs += len(paras)
        numbered += bool(paras and paras[0].numbered_by_source)
        for p in paras:
            sentences += len(split_sentences(p.text))
            longest = max(longest, len(p.text))
    print(
        f"{docs} documents, {paragraphs} paragraphs, {sentences} sentences; {numbered} documents keep "
        f"their own numbering; longest paragraph {longest:,} characters; "
        f"{time.perf_counter() - started:.1f} s; {len(failures)} unreadable"
    )
    if pages:
        print(
            f"paged documents: {pages} pages read and split in {paged_seconds:.1f} s = "
            f"{pages / paged_seconds:.1f} pages/s"
        )
    for failure in failures:
        print(f"  {failure}")


if __name__ == "__main__":
    main()
