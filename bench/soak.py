"""Questions asked without pause while documents come and go: wrong answers and false errors.

    python bench/soak.py --work WORK [--minutes 10] [--askers 4]

Copies the bundled corpus into WORK, indexes it, and starts `rag api` (with a token, so that
documents can be added) and `rag serve` over the same index, each its own process on a free port
of 127.0.0.1. Then, for `--minutes`:

- `--askers` threads ask the questions of eval/dev.jsonl in turn, half through the API and half
  through the page's HTTP API, and compare each answer with the one the library gave for it at the
  start (its text, quotes and citations);
- one thread adds a document through the API, asks about it, removes it, and in between runs
  `rag index` on the corpus (a rebuild with nothing changed, as a cron job would), over and over.

The added document is about another subject (a water board's fees), so no answer about the report
should change. Prints asks, answers that differ from the reference, errors of any kind, and the
cycles of the document thread; exits 1 if any answer differed or any error was seen.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "soak-token"
DOCUMENT = "# Water board fees\n\n1. The water board charges a connection fee of 85 euros per household.\n\n2. Fees are reviewed every March.\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(url: str, process: subprocess.Popen, seconds: float = 180) -> None:
    import httpx

    deadline = time.time() + seconds
    while time.time() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{url}: the server exited")
        try:
            if httpx.get(url, timeout=5).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"{url} did not start")


def shape(record: dict) -> tuple:
    """What must not change between two answers to one question: whether it abstained, and each
    quote with its document, paragraph and offsets (the inline markers name the document only
    while the index holds several, so the answer's text may differ)."""
    return (
        record["abstained"],
        tuple((c["doc"], c["cite"], c["start"], c["end"], c["quote"]) for c in record["citations"]),
    )


def chat_text(content: object) -> str:
    """The text of a chat message as the page's API returns it (a string, or a list of parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(chat_text(part) for part in content)
    if isinstance(content, dict):
        return str(content.get("text") or content.get("content") or "")
    return str(content)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--askers", type=int, default=4)
    args = parser.parse_args()
    import httpx
    from gradio_client import Client

    from rag.assistant import Assistant
    from rag.cite.serialize import answer_record
    from rag.index import build_index

    if args.work.exists():
        shutil.rmtree(args.work)
    corpus, index = args.work / "corpus", args.work / "index"
    corpus.mkdir(parents=True)
    shutil.copy(ROOT / "corpus" / "cybercrime-expert-group-2017.md", corpus)
    build_index(corpus, index, progress=False)
    questions = [
        json.loads(line)["question"] for line in (ROOT / "eval" / "dev.jsonl").read_text().splitlines() if line
    ]
    reference_assistant = Assistant.load(index)
    reference = {q: shape(json.loads(json.dumps(answer_record(reference_assistant.ask(q))))) for q in questions}
    threshold = reference_assistant.threshold

    env = {**os.environ, "RAG_API_TOKEN": TOKEN, "HF_HUB_OFFLINE": "1"}
    api_port, page_port = free_port(), free_port()
    rag = [sys.executable, "-m", "rag"]
    api = subprocess.Popen(
        [*rag, "api", "--index", str(index), "--port", str(api_port)], env=env, stdout=subprocess.DEVNULL
    )
    page = subprocess.Popen(
        [*rag, "serve", "--index", str(index), "--port", str(page_port)], env=env, stdout=subprocess.DEVNULL
    )
    api_url, page_url = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{page_port}/"
    counts = {
        "api asks": 0,
        "page asks": 0,
        "different answers": 0,
        "errors": 0,
        "document cycles": 0,
        "rag index runs": 0,
    }
    problems: list[str] = []
    lock = threading.Lock()
    stop = time.time() + args.minutes * 60

    def problem(kind: str, text: str) -> None:
        with lock:
            counts[kind] += 1
            if len(problems) < 20:
                problems.append(text)

    def asker(n: int) -> None:
        rng = random.Random(n)
        via_page = n % 2 == 1
        client = Client(page_url, verbose=False) if via_page else httpx.Client(timeout=60)
        while time.time() < stop:
            q = rng.choice(questions)
            try:
                if via_page:
                    history, *_ = client.predict(q, [], 5, "All documents", threshold, api_name="/on_ask")
                    said = chat_text(history[-1]["content"]).replace("\\", "")
                    abstained, quotes = reference[q]
                    ok = ("(Why:" in said) == abstained and all(quote[-1] in said for quote in quotes)
                    if not ok:
                        problem("different answers", f"page: {q!r}: {said[:120]!r}")
                    with lock:
                        counts["page asks"] += 1
                else:
                    r = client.post(
                        f"{api_url}/ask", json={"question": q}, headers={"Authorization": f"Bearer {TOKEN}"}
                    )
                    r.raise_for_status()
                    if shape(r.json()) != reference[q]:
                        problem("different answers", f"api: {q!r}: {r.json()['answer'][:120]!r}")
                    with lock:
                        counts["api asks"] += 1
            except Exception as exc:  # counted and shown: this is a measurement
                problem("errors", f"{'page' if via_page else 'api'}: {type(exc).__name__}: {str(exc)[:200]}")

    def documents() -> None:
        client = httpx.Client(timeout=300, headers={"Authorization": f"Bearer {TOKEN}"})
        while time.time() < stop:
            try:
                r = client.post(f"{api_url}/documents", files={"file": ("water-board.md", DOCUMENT.encode())})
                r.raise_for_status()
                doc = r.json()["added"]["doc"]
                a = client.post(
                    f"{api_url}/ask", json={"question": "How much is the water board's connection fee?"}
                ).json()
                if not a["citations"] or a["citations"][0]["doc"] != doc:
                    problem("different answers", f"the added document was not cited: {a['answer'][:120]!r}")
                client.delete(f"{api_url}/documents", params={"doc": doc}).raise_for_status()
                subprocess.run(
                    [*rag, "index", "--corpus", str(corpus), "--index", str(index), "--quiet"],
                    env=env,
                    check=True,
                    capture_output=True,
                )
                with lock:
                    counts["document cycles"] += 1
                    counts["rag index runs"] += 1
            except Exception as exc:  # counted and shown: this is a measurement
                problem("errors", f"documents: {type(exc).__name__}: {str(exc)[:200]}")
                time.sleep(1)

    try:
        wait_for(f"{api_url}/health", api)
        wait_for(page_url, page)
        threads = [threading.Thread(target=asker, args=(n,)) for n in range(args.askers)]
        threads.append(threading.Thread(target=documents))
        started = time.time()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print(f"{(time.time() - started) / 60:.1f} minutes: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        for p in problems:
            print(f"  {p}")
    finally:
        for process in (api, page):
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
    sys.exit(1 if counts["different answers"] or counts["errors"] else 0)


if __name__ == "__main__":
    main()
