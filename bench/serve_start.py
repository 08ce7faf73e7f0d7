"""How soon does the page answer after `rag serve`? Median of a few starts, on 127.0.0.1 only.

    python bench/serve_start.py [--index index] [--rounds 3]

Starts `rag serve` on a free local port, times until the page answers HTTP and until it has
answered one question through the Ask button's endpoint, stops it, and repeats.
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
from load import ask_once, free_port


async def first(url: str) -> str:
    async with httpx.AsyncClient(timeout=60) as client:
        return await ask_once(client, url, "What is agenda item 6 of the meeting?", 0.45)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", default="index")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    ups, firsts = [], []
    for _ in range(args.rounds):
        port = free_port()
        url = f"http://127.0.0.1:{port}/"
        began = time.perf_counter()
        server = subprocess.Popen(
            [sys.executable, "-m", "rag.cli", "serve", "--index", args.index, "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            while True:
                try:
                    if httpx.get(url, timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.05)
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


if __name__ == "__main__":
    main()
