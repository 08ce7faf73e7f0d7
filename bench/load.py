"""Many people asking the chat page at once: p50/p95 latency and errors, on 127.0.0.1 only.

    python bench/load.py [--index index] [--users 50] [--questions eval/dev.jsonl] [--workers 4]

Starts the page (`rag serve`, its own process) on a free local port over an existing index, then
lets `--users` clients
(gradio_client, one thread each) ask one question each at the same moment, through the same
endpoint the page's Ask button calls. Prints errors, p50 and p95 of the time from asking to the
answer, and the total wall time. Bounded: one question per user, local only.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import statistics
import subprocess
import sys
import threading
import time

from rag.assistant import Assistant


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", default="index")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--questions", default="eval/dev.jsonl")
    parser.add_argument("--workers", type=int, default=4, help="the page's --workers")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import httpx
    from gradio_client import Client

    questions = [json.loads(line)["question"] for line in open(args.questions, encoding="utf-8") if line.strip()]
    threshold = Assistant.load(args.index).settings.threshold
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "rag.cli", "serve", "--index", args.index, "--port", str(port),
                               "--workers", str(args.workers)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    for _ in range(600):
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    clients = [Client(url, verbose=False) for _ in range(args.users)]
    times: list[float] = []
    errors: list[str] = []
    start = threading.Barrier(args.users)

    def ask(i: int) -> None:
        q = questions[i % len(questions)]
        start.wait()
        t = time.perf_counter()
        try:
            history = clients[i].predict(q, [], 5, "All documents", threshold, api_name="/on_ask")[0]
            if not history or "[para." not in json.dumps(history) and "do not answer" not in json.dumps(history):
                errors.append(f"question {i}: no answer in the reply")
        except Exception as exc:  # any failure of a request is what this benchmark counts
            errors.append(f"question {i}: {exc}")
        times.append(time.perf_counter() - t)

    began = time.perf_counter()
    threads = [threading.Thread(target=ask, args=(i,)) for i in range(args.users)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - began
    server.terminate()
    server.wait()
    times.sort()
    print(f"{args.users} users at once, page --workers {args.workers}: {len(errors)} errors; "
          f"p50 {statistics.median(times):.2f} s, p95 {times[int(0.95 * (len(times) - 1))]:.2f} s; "
          f"all answered in {wall:.2f} s")
    for e in errors[:5]:
        print("  " + e)


if __name__ == "__main__":
    main()
