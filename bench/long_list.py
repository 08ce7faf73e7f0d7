"""How long an answer takes over one paragraph that lists thousands of items.

    python bench/long_list.py [--items 2000] [--runs 3]

Writes a document of one lead-in and --items marked items in a temporary folder, indexes it, and
prints the median time to retrieve and score (`Assistant.consider`) and to compose the answer
(`Assistant.compose`, where an enumeration is made whole) for a question about the whole list and
one about a single item.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    from rag.assistant import Assistant
    from rag.index import build_index

    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        items = "\n".join(
            f"({i}) the party shall report item number {i} on water quality;" for i in range(1, args.items + 1)
        )
        (corpus / "list.md").write_text(
            f"# A long list\n\nEach Party shall adopt measures concerning:\n{items}\n", encoding="utf-8"
        )
        build_index(corpus, Path(tmp) / "index", progress=False)
        assistant = Assistant.load(Path(tmp) / "index")
        middle = args.items * 3 // 4
        for question in (
            "What measures must each Party adopt?",
            f"What must the party report about item number {middle}?",
        ):
            scoring, composing = [], []
            for _ in range(args.runs):
                t = time.perf_counter()
                considered = assistant.consider(question)
                scoring.append(time.perf_counter() - t)
                t = time.perf_counter()
                answer = assistant.compose(considered)
                composing.append(time.perf_counter() - t)
            print(
                f"{question!r}: retrieve and score {statistics.median(scoring):.3f} s, compose "
                f"{statistics.median(composing):.3f} s, {len(answer.citations)} quotes"
            )


if __name__ == "__main__":
    main()
