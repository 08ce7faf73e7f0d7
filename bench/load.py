"""Many people asking the chat page at once: p50/p95 latency and errors, on 127.0.0.1 only.

    python bench/load.py [--index index] [--users 50] [--questions eval/dev.jsonl] [--workers 4] [--rounds 3]

Starts the page (`rag serve`, its own process) on a free local port over an existing index, then
lets `--users` clients
ask one question each at the same moment (asyncio and httpx: a light client, so that the
clients' own work on this machine's cores does not count as the page's), through the same
endpoint the page's Ask button calls. Prints errors, p50 and p95 of the time from asking to the
answer, and the total wall time. Bounded: one question per user, local only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import socket
import statistics
import subprocess
import sys
import time

from rag.assistant import Assistant


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def ask_once(client, url: str, question: str, threshold: float) -> str:  # type: ignore[no-untyped-def]
    """One question through the Ask button's endpoint (Gradio's two-step HTTP API: post the
    inputs, then read the event stream until the result); returns the reply's JSON text."""
    r = await client.post(f"{url}gradio_api/call/on_ask", json={"data": [question, [], 5, "All documents", threshold]})
    r.raise_for_status()
    event = r.json()["event_id"]
    async with client.stream("GET", f"{url}gradio_api/call/on_ask/{event}") as stream:
        kind = ""
        async for line in stream.aiter_lines():
            if line.startswith("event:"):
                kind = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and kind in ("complete", "error"):
                if kind == "error":
                    raise RuntimeError(line[5:].strip() or "the page reported an error")
                return line[5:].strip()
    raise RuntimeError("the event stream ended without a result")


async def ask_all(url: str, questions: list[str], users: int, threshold: float):  # type: ignore[no-untyped-def]
    """`users` questions asked at the same moment; (seconds each, errors, wall seconds)."""
    import httpx

    times: list[float] = []
    errors: list[str] = []
    limits = httpx.Limits(max_connections=2 * users, max_keepalive_connections=2 * users)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:

        async def one(i: int) -> None:
            t = time.perf_counter()
            try:
                reply = await ask_once(client, url, questions[i % len(questions)], threshold)
                if "[para." not in reply and "do not answer" not in reply:
                    errors.append(f"question {i}: no answer in the reply")
            except Exception as exc:  # any failure of a request is what this benchmark counts
                errors.append(f"question {i}: {exc!r}")
            times.append(time.perf_counter() - t)

        await one(0)  # warm: the first question loads what the page loads lazily
        times.clear()
        began = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(users)))
        wall = time.perf_counter() - began
    return sorted(times), errors, wall


def start_page(index: str, port: int, workers: int = 4) -> tuple[subprocess.Popen, str]:
    """`rag serve` in its own process on 127.0.0.1:`port`, once the page answers HTTP."""
    import httpx

    server = subprocess.Popen(
        [sys.executable, "-m", "rag", "serve", "--index", index, "--port", str(port), "--workers", str(workers)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/"
    while server.poll() is None:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return server, url
        except httpx.HTTPError:
            time.sleep(0.05)
    raise SystemExit(f"rag serve stopped before the page answered (exit status {server.returncode})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", default="index")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--questions", default="eval/dev.jsonl")
    parser.add_argument("--workers", type=int, default=4, help="the page's --workers")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of --users questions; medians are printed")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    questions = [json.loads(line)["question"] for line in open(args.questions, encoding="utf-8") if line.strip()]
    threshold = Assistant.load(args.index).threshold
    port = free_port()
    server, url = start_page(args.index, port, args.workers)
    p50s, p95s, walls, failed, clients_cpu = [], [], [], [], []
    try:
        for r in range(args.rounds):
            cpu = time.process_time()
            times, errors, wall = asyncio.run(ask_all(url, questions, args.users, threshold))
            clients_cpu.append(time.process_time() - cpu)
            p50s.append(statistics.median(times))
            p95s.append(times[int(0.95 * (len(times) - 1))])
            walls.append(wall)
            failed += errors
            print(
                f"round {r + 1}: {len(errors)} errors; p50 {p50s[-1]:.2f} s, p95 {p95s[-1]:.2f} s; "
                f"wall {wall:.2f} s; the clients' own CPU {clients_cpu[-1]:.2f} s"
            )
    finally:
        server.terminate()
        server.wait()
    print(
        f"{args.users} users at once, page --workers {args.workers}, {args.rounds} rounds: {len(failed)} errors; "
        f"median p50 {statistics.median(p50s):.2f} s, median p95 {statistics.median(p95s):.2f} s; "
        f"median wall {statistics.median(walls):.2f} s"
    )
    for e in failed[:5]:
        print("  " + e)


if __name__ == "__main__":
    main()
