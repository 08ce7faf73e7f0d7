"""Answering from a library of a million paragraphs: build, load, search, memory.

    python bench/scale.py --data DATA --work WORK [--paragraphs 1000000]
                          [--questions training/un-paraphrase.jsonl]

The corpus: the documents of `DATA/un-scale`, copied as many times as it takes to reach
`--paragraphs` (each copy a folder of its own, with a line naming the copy first, so that no
copy is a duplicate of another). The vectors: random unit vectors, not the model's; embedding
a million paragraphs would take this machine hours (see bench/speed.py), and what is measured
here does not depend on what the vectors say: how long building the rest of the index takes
(reading, splitting, BM25, the approximate search indexes) and the building process's peak
RSS, and then, in a fresh process that loads the index as `rag ask` does, how long loading
takes, the median and 95th percentile time of `ask` (the questions encoded by the real model),
and the process's peak RSS, then at the end
how much of its resident memory is its own (RssAnon) and how much is pages of the index files it
has memory-mapped (RssFile: paragraphs, vectors, term index, approximate search indexes). Retrieval
quality at this size is what bench/ann.py measures; the questions that name a document of
un-scale and give an answer are scored too (is that document among the 5 best paragraphs, and
does one of its paragraphs there hold the answer's words), which says something only of an
index whose vectors are real (WORK holding an index of un-scale built by `rag index`).

With `--memory-limit MB` the answering process runs in a memory cgroup of its own with that hard
limit (cgroup v1 or v2; needs the right to create one, e.g. root). A cgroup counts the pages of
the files the process reads, as RSS does, but takes them back when the group reaches its limit:
this measures whether answering keeps its speed when the machine has only that much memory for
it. The index's and corpus's files are dropped from the page cache first (a page another group
read first is charged to that group, not this one). The group's peak usage and how often it hit
the limit are printed.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ASK = r"""
import json, statistics, sys, time
t = time.perf_counter()
from rag.assistant import Assistant
assistant = Assistant.load(sys.argv[1], corpus=sys.argv[2])
loaded = time.perf_counter() - t
rows = json.loads(sys.argv[3])
questions = [r["question"] for r in rows]
for q in questions[:5]:
    assistant.ask(q)
times, tops = [], []
for q in questions:
    t = time.perf_counter()
    answer = assistant.ask(q)
    times.append(time.perf_counter() - t)
    tops.append([(h.paragraph.doc_id, h.paragraph.text) for h in answer.hits[:5]])
times.sort()
def norm(text):
    return " ".join(text.lower().split())
scored = [(r, top) for r, top in zip(rows, tops) if r.get("doc_id") and r.get("answer")]
doc_hits = sum(any(d == r["doc_id"] or d.endswith("/" + r["doc_id"]) for d, _ in top) for r, top in scored)
text_hits = sum(
    any((d == r["doc_id"] or d.endswith("/" + r["doc_id"])) and norm(r["answer"]) in norm(t) for d, t in top)
    for r, top in scored
)
status = {line.split(":")[0]: int(line.split()[1]) for line in open("/proc/self/status") if line.startswith(("Vm", "Rss"))}
print(json.dumps({"load_s": loaded, "p50_ms": 1000 * statistics.median(times),
                  "p95_ms": 1000 * times[int(0.95 * (len(times) - 1))], "rss_mb": status["VmHWM"] / 1024,
                  "anon_mb": status["RssAnon"] / 1024, "file_mb": status["RssFile"] / 1024,
                  "paragraphs": len(assistant.data.paragraphs), "scored": len(scored),
                  "doc_hits": doc_hits, "text_hits": text_hits}))
"""


def make_corpus(source: Path, target: Path, paragraphs: int, per_copy: int) -> int:
    """Copies of the documents of `source` under `target`; returns how many copies."""
    copies = max(1, math.ceil(paragraphs / per_copy))
    files = sorted(p for p in source.rglob("*") if p.suffix in (".md", ".txt"))
    for k in range(copies):
        folder = target / f"copy-{k:02d}"
        if folder.is_dir():
            continue
        tmp = target / f".copy-{k:02d}"
        shutil.rmtree(tmp, ignore_errors=True)
        for f in files:
            out = tmp / f.relative_to(source)
            out.parent.mkdir(parents=True, exist_ok=True)
            text = f.read_text(encoding="utf-8")
            if text.startswith("---\n"):  # front matter stays first
                end = text.find("\n---", 4)
                text = text[: end + 4] + f"\n\nCopy {k}.\n" + text[end + 4 :]
            else:
                text = f"Copy {k}.\n\n" + text
            out.write_text(text, encoding="utf-8")
        tmp.rename(folder)
    return copies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="the shared public data folder")
    parser.add_argument("--work", type=Path, required=True, help="a scratch folder (corpus and index go there)")
    parser.add_argument("--paragraphs", type=int, default=1_000_000)
    parser.add_argument(
        "--per-copy", type=int, default=82_727, help="paragraphs in one copy of un-scale, as this version splits it"
    )
    parser.add_argument("--questions", default="training/un-paraphrase.jsonl")
    parser.add_argument("--answer-only", action="store_true", help="measure answering over the index WORK holds")
    parser.add_argument(
        "--memory-limit", type=int, metavar="MB", help="answer inside a memory cgroup with this hard limit"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from rag.encode.embedding import Embedder

    source = args.data / "un-scale"
    if not source.is_dir():
        raise SystemExit(f"{source} not found: give the shared public data folder with --data")

    class RandomVectors(Embedder):
        """The real model for questions and windows; random unit vectors for the corpus."""

        def encode_windows(self, texts: list[str], *, progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
            owners = [row for row, text in enumerate(texts) for _ in self.windows(text)]
            rng = np.random.default_rng(len(texts))
            vectors = rng.standard_normal((len(owners), self.dimension)).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            return vectors, np.asarray(owners, dtype=np.int32)

    corpus, index = args.work / "corpus", args.work / "index"
    if not args.answer_only:
        build(args, source, corpus, index, RandomVectors)
    answer(args, corpus, index)


def build(args: argparse.Namespace, source: Path, corpus: Path, index: Path, embedder: type) -> None:
    from rag.index import build_index, read_manifest

    t = time.perf_counter()
    copies = make_corpus(source, corpus, args.paragraphs, args.per_copy)
    print(f"corpus: {copies} copies of {source} in {corpus} ({time.perf_counter() - t:.0f} s)", flush=True)
    t = time.perf_counter()
    build_index(corpus, index, embedder=embedder(), progress=False)
    manifest = read_manifest(index)
    print(
        f"built: {len(manifest.documents):,} documents, {manifest.paragraphs:,} paragraphs, "
        f"{manifest.sentences:,} sentences, {manifest.windows:,} paragraph windows in "
        f"{time.perf_counter() - t:.0f} s (vectors random, not embedded); index on disk "
        f"{sum(f['bytes'] for f in manifest.files.values()) / 2**20:,.0f} MB; peak RSS of the building "
        f"process {peak_rss_mb():,.0f} MB",
        flush=True,
    )


def peak_rss_mb() -> float:
    """This process's peak resident size so far (VmHWM), in MB."""
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:")) / 1024


class MemoryGroup:
    """A memory cgroup with a hard limit, made for one process and removed after it."""

    def __init__(self, limit_mb: int) -> None:
        v2 = Path("/sys/fs/cgroup/cgroup.controllers").is_file()
        root = Path("/sys/fs/cgroup") if v2 else Path("/sys/fs/cgroup/memory")
        self.v2 = v2
        self.folder = root / f"rag-scale-{os.getpid()}"
        try:
            self.folder.mkdir()
            limit = str(limit_mb * 2**20)
            (self.folder / ("memory.max" if v2 else "memory.limit_in_bytes")).write_text(limit)
            if not v2 and (self.folder / "memory.memsw.limit_in_bytes").exists():
                (self.folder / "memory.memsw.limit_in_bytes").write_text(limit)  # no way round it by swap
        except OSError as exc:
            self.remove()
            raise SystemExit(
                f"cannot make a memory cgroup under {root} ({exc}); run as root, or without --memory-limit"
            ) from None

    def enter(self) -> None:
        """Run in the child before it starts: move it into the group."""
        (self.folder / "cgroup.procs").write_text(str(os.getpid()))

    def usage(self) -> tuple[float, int]:
        """The group's peak memory (MB, page cache included) and how many times it hit its limit."""
        if self.v2:
            peak_file = self.folder / "memory.peak"
            peak = int(peak_file.read_text()) if peak_file.exists() else 0
            events = dict(line.split() for line in (self.folder / "memory.events").read_text().splitlines())
            return peak / 2**20, int(events.get("max", 0))
        peak = int((self.folder / "memory.max_usage_in_bytes").read_text())
        return peak / 2**20, int((self.folder / "memory.failcnt").read_text())

    def remove(self) -> None:
        try:
            self.folder.rmdir()
        except OSError:
            pass


def evict(folders: list[Path]) -> None:
    """Drop the files' pages from the page cache (those not mapped by a running process)."""
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file():
                fd = os.open(path, os.O_RDONLY)
                try:
                    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                finally:
                    os.close(fd)


def answer(args: argparse.Namespace, corpus: Path, index: Path) -> None:
    from rag.readers import doc_id_for

    questions = [json.loads(line) for line in open(args.questions, encoding="utf-8") if line.strip()]
    for q in questions:  # "doc": a path under DATA; the questions over un-scale's files are scored
        doc = Path(q.get("doc") or "")
        if doc.parts[:1] == ("un-scale",):
            q["doc_id"] = doc_id_for(doc.relative_to("un-scale"))
    group = MemoryGroup(args.memory_limit) if args.memory_limit else None
    if group is not None:
        evict([index, corpus])
    try:
        out = subprocess.run(
            [sys.executable, "-c", ASK, str(index), str(corpus), json.dumps(questions)],
            capture_output=True,
            text=True,
            preexec_fn=group.enter if group else None,
        )
        if out.returncode != 0:
            raise SystemExit(f"the answering process failed ({out.returncode}): {out.stderr.strip()[-2000:]}")
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"answering ({len(questions)} questions, one process): load {r['load_s']:.1f} s; ask p50 "
            f"{r['p50_ms']:.0f} ms, p95 {r['p95_ms']:.0f} ms; peak RSS {r['rss_mb']:,.0f} MB; at the end "
            f"{r['anon_mb']:,.0f} MB the process's own, {r['file_mb']:,.0f} MB pages of memory-mapped index "
            "files (the kernel drops those when it needs the memory)"
        )
        if r["scored"]:
            print(
                f"of the {r['scored']} questions over un-scale's documents with an answer: the right document "
                f"among the 5 best paragraphs for {r['doc_hits'] / r['scored']:.3f}, a paragraph of it holding "
                f"the answer's words for {r['text_hits'] / r['scored']:.3f}"
            )
        if group is not None:
            peak, hits = group.usage()
            print(
                f"inside a memory cgroup limited to {args.memory_limit:,} MB: its peak usage {peak:,.0f} MB "
                f"(page cache included), limit reached {hits:,} times"
            )
    finally:
        if group is not None:
            group.remove()


if __name__ == "__main__":
    main()
