"""How soon does the page answer after `rag serve`? Median of a few starts, on 127.0.0.1 only.

    python bench/serve_start.py [--index index] [--rounds 3]

Starts `rag serve` on a free local port, times until the page answers HTTP and until it has
answered one question through the Ask button's endpoint, stops it, and repeats; then times
`import gradio` and `Assistant.load` alone, each in a fresh process.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time

import httpx
from load import ask_once, free_port, start_page


async def first(url: str) -> str:
    async with httpx.AsyncClient(timeout=60) as client:
        return await ask_once(client, url, "What is agenda item 6 of the meeting?", 0.45)


def in_fresh_process(code: str) -> float:
    """Seconds that `code` takes in a new Python process (the interpreter's own start excluded)."""
    timed = f"import time; t = time.perf_counter(); {code}; print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", timed], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", default="index")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    ups, firsts = [], []
    for _ in range(args.rounds):
        began = time.perf_counter()
        server, url = start_page(args.index, free_port())
        try:
            ups.append(time.perf_counter() - began)

            asyncio.run(first(url))
            firsts.append(time.perf_counter() - began)
        finally:
            server.terminate()
            server.wait()
        print(f"page up after {ups[-1]:.2f} s, first answer after {firsts[-1]:.2f} s", flush=True)
    print(
        f"median of {args.rounds}: page up {statistics.median(ups):.2f} s, first answer {statistics.median(firsts):.2f} s"
    )
    # Where the start goes: the two largest parts, each timed in a fresh process.
    for name, code in (
        ("import gradio", "import gradio"),
        ("Assistant.load", f"from rag.assistant import Assistant; Assistant.load({args.index!r})"),
    ):
        took = [in_fresh_process(code) for _ in range(args.rounds)]
        print(f"{name} in a fresh process: median {statistics.median(took):.2f} s")


if __name__ == "__main__":
    main()
