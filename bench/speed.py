"""Print the speed figures of the assistant on a corpus: build time, warm and cold answers.

    python bench/speed.py [--corpus corpus] [--questions eval/dev.jsonl] [--rounds 3]

Figures are medians over repeated runs on a shared machine; compare ratios, not single runs.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rag.answer.confidence import SelectorScorer, selector_inputs
from rag.answer.reader import ReaderScorer
from rag.assistant import Assistant
from rag.encode.embedding import Embedder
from rag.index import build_index


def compare_backends(index: Path) -> None:
    """Texts per second of each encoder on the same texts (the index's paragraphs and sentences),
    all cores, median of 3 runs."""
    from rag.index import load_index

    data = load_index(index, check_corpus=False)
    texts = [p.text for p in data.paragraphs] + [data.paragraphs[r].text[a:b] for r, a, b in data.sentences]
    for backend in ("sentence-transformers", "transformers", "onnx"):
        encoder = Embedder(threads=None, backend=backend)
        encoder.encode_windows(texts[:32])
        runs = []
        for _ in range(3):
            t = time.perf_counter()
            encoder.encode_windows(texts)
            runs.append(time.perf_counter() - t)
        print(
            f"encoding {len(texts)} texts with {backend}: median {statistics.median(runs):.2f} s = "
            f"{len(texts) / statistics.median(runs):.0f} texts/s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="corpus")
    parser.add_argument("--questions", default="eval/dev.jsonl")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--selector", action="store_true", help="answer with the answer selector (--scorer selector)")
    parser.add_argument("--reader", action="store_true", help="answer with the reader (--scorer reader)")
    parser.add_argument(
        "--backends",
        action="store_true",
        help="also compare the encoders' throughput on the corpus's paragraphs and sentences",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    questions = [json.loads(line)["question"] for line in open(args.questions, encoding="utf-8") if line.strip()]

    with tempfile.TemporaryDirectory() as tmp:
        index = Path(tmp) / "index"
        started = time.perf_counter()
        embedder = Embedder(threads=None)
        model_s = time.perf_counter() - started
        started = time.perf_counter()
        manifest = build_index(args.corpus, index, embedder=embedder, progress=False)
        build_s = time.perf_counter() - started
        started = time.perf_counter()
        build_index(args.corpus, index, embedder=embedder, progress=False)
        rebuild_s = time.perf_counter() - started
        print(f"index: {manifest.paragraphs} paragraphs, {manifest.sentences} sentences, {manifest.windows} windows")
        print(f"model load {model_s:.2f} s; full build {build_s:.2f} s; rebuild with nothing changed {rebuild_s:.2f} s")
        pages = sum(info.pages for info in manifest.documents.values())
        if pages:
            print(
                f"paged documents (PDF): {pages} pages; full build {pages / build_s:.1f} pages/s "
                "(reading, splitting and embedding)"
            )

        if args.backends:
            compare_backends(index)
        scorer = SelectorScorer.load() if args.selector else ReaderScorer.load() if args.reader else None
        assistant = Assistant.load(index, corpus=args.corpus, scorer=scorer)
        assistant.ask(questions[0])
        times = []
        encode_times = []
        for _ in range(args.rounds):
            for q in questions:
                t = time.perf_counter()
                assistant.encode_question(q)
                encode_times.append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                assistant.ask(q)
                times.append((time.perf_counter() - t) * 1000)
        times.sort()
        med, enc = statistics.median(times), statistics.median(encode_times)
        print(
            f"warm ask ({assistant.scorer.label}): median {med:.1f} ms, p95 "
            f"{times[int(0.95 * (len(times) - 1))]:.1f} ms over {len(times)} questions; question encoding "
            f"alone median {enc:.1f} ms ({enc / med:.0%} of an answer)"
        )
        selector = getattr(assistant.scorer, "selector", None)
        if selector is not None:
            share = []
            for q in questions:
                considered = assistant.consider(q)
                items = selector_inputs(list(considered.candidates[: assistant.scorer.top]), assistant.data)
                t = time.perf_counter()
                selector.logits(q, items)
                share.append((time.perf_counter() - t) * 1000)
            sel = statistics.median(share)
            print(
                f"the answer selector alone (reading the best {assistant.scorer.top} candidates): "
                f"median {sel:.1f} ms ({sel / med:.0%} of an answer)"
            )
            from rag.answer.scorer import HandScorer

            assistant.scorer = HandScorer()
            hand = []
            for q in questions:
                t = time.perf_counter()
                assistant.ask(q)
                hand.append((time.perf_counter() - t) * 1000)
            print(f"warm ask with the hand weights only: median {statistics.median(hand):.1f} ms")

        cold = []
        for _ in range(args.rounds):
            t = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "rag", "ask", questions[0], "--index", str(index), "--corpus", args.corpus],
                check=True,
                capture_output=True,
            )
            cold.append(time.perf_counter() - t)
        print(f"cold `rag ask` in a new process: median {statistics.median(cold):.2f} s over {len(cold)} runs")
        for what in ("import onnxruntime, tokenizers", "import torch, transformers", "import sentence_transformers"):
            imports = []
            for _ in range(args.rounds):
                t = time.perf_counter()
                subprocess.run([sys.executable, "-c", what], check=True, capture_output=True)
                imports.append(time.perf_counter() - t)
            print(
                f"`{what}` in a new process: median {statistics.median(imports):.2f} s"
                + (" (answering does this)" if "onnx" in what else " (only building does this)")
            )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of this process: {rss:.0f} MiB")


if __name__ == "__main__":
    main()
