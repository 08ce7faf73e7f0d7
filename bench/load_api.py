"""Many clients asking the HTTP API at once: p50/p95 latency, errors, and each worker's memory.

    python bench/load_api.py [--index index] [--clients 50] [--workers 1,2] [--rounds 3]
        [--questions eval/dev.jsonl]

For each number of worker processes, starts `rag api --workers N` (its own process) on a free
port of 127.0.0.1 over an existing index, then lets `--clients` clients (asyncio and httpx) ask
one question each at the same moment, `--rounds` times. Prints errors, p50 and p95 of the time
from asking to the answer, the wall time of a round, and the resident memory (RSS, from /proc)
of every worker process, of which the memory-mapped index files are shared.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        for child in Path(f"/proc/{parent}/task/{parent}/children").read_text().split():
            found.append(int(child))
            todo.append(int(child))
    return found


async def ask_all(url: str, questions: list[str]) -> tuple[list[float], list[str], float]:
    import httpx

    times: list[float] = []
    errors: list[str] = []
    limits = httpx.Limits(max_connections=2 * len(questions), max_keepalive_connections=2 * len(questions))
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:

        async def one(q: str) -> None:
            started = time.perf_counter()
            try:
                r = await client.post(f"{url}/ask", json={"question": q})
                r.raise_for_status()
                r.json()["answer"]
                times.append(time.perf_counter() - started)
            except Exception as exc:  # counted and shown, not raised: this is a measurement
                errors.append(f"{type(exc).__name__}: {exc}")

        started = time.perf_counter()
        await asyncio.gather(*(one(q) for q in questions))
        wall = time.perf_counter() - started
    return times, errors, wall


def run(index: str, workers: int, questions: list[str], rounds: int) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "RAG_API_TOKEN": ""}
    server = subprocess.Popen(
        [sys.executable, "-m", "rag", "api", "--index", index, "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    try:
        import httpx

        deadline = time.time() + 180
        while True:
            try:
                if httpx.get(f"{url}/ready", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.time() > deadline:
                raise SystemExit("the API did not start")
            time.sleep(0.5)
        asyncio.run(ask_all(url, questions[:2]))  # every worker past its first question
        for r in range(1, rounds + 1):
            times, errors, wall = asyncio.run(ask_all(url, questions))
            times.sort()
            p95 = times[max(0, int(round(0.95 * len(times))) - 1)] if times else float("nan")
            print(
                f"workers {workers}, round {r}: {len(questions)} clients, {len(errors)} errors, "
                f"p50 {statistics.median(times):.3f} s, p95 {p95:.3f} s, wall {wall:.2f} s"
            )
            for e in errors[:3]:
                print(f"  error: {e}")
        pids = descendants(server.pid) if workers > 1 else [server.pid]
        workers_rss = [rss_mb(p) for p in pids if Path(f"/proc/{p}").exists()]
        print(f"workers {workers}: RSS per process {', '.join(f'{m:.0f} MB' for m in workers_rss)}")
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", default="index")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--workers", default="1,2", help="comma-separated numbers of worker processes")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--questions", default="eval/dev.jsonl")
    args = parser.parse_args()
    rows = [json.loads(line) for line in Path(args.questions).read_text(encoding="utf-8").splitlines() if line]
    questions = [rows[i % len(rows)]["question"] for i in range(args.clients)]
    for workers in (int(w) for w in args.workers.split(",")):
        run(args.index, workers, questions, args.rounds)


if __name__ == "__main__":
    main()
