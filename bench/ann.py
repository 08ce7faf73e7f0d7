"""Dense search at a million vectors: exact against approximate FAISS indexes, measured.

    python bench/ann.py --index INDEX [--size 1000000] [--kinds flat,sq8,hnsw-sq8,ivf-sq8,ivf-pq]
                        [--questions eval/dev.jsonl eval/paraphrase.jsonl]

The vectors: the real window and sentence vectors of `--index` (an index built by `rag index`,
e.g. of a folder of un-scale), then synthetic ones up to `--size`, each a random mixture of two
real vectors plus Gaussian noise, normalised (so they follow the real vectors' spread without
being copies of them). The queries: the questions of `--questions` (by default the project's
paraphrased questions over UN documents), encoded by the packaged model as the assistant
encodes them.

For each kind of index it prints the time to build it from the vectors, its size on disk, and
then, in a fresh process that loads only that index (as an answering process would) and
searches one query at a time on one thread, the search p50 and p95 in ms, that process's peak
RSS, and recall@10 against exact search (the share of the exact top 10 found in the approximate
top 10, averaged over the queries). With `refine`, the index gives that many candidates and
their vectors, read from a memory-mapped file, decide the top 10 (the time includes the reads).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SEARCH = r"""
import json, sys, time
import faiss, numpy as np
faiss.omp_set_num_threads(1)
index = faiss.read_index(sys.argv[1])
params = json.loads(sys.argv[3])
vectors = np.load(sys.argv[4], mmap_mode="r") if params.get("refine") else None
if "nprobe" in params:
    faiss.extract_index_ivf(index).nprobe = params["nprobe"]
if "ef" in params:
    index.hnsw.efSearch = params["ef"]
queries = np.load(sys.argv[2])
times, ids = [], []
for q in queries:
    t = time.perf_counter()
    if vectors is None:
        _, found = index.search(q.reshape(1, -1), 10)
    else:  # the best `refine` by their codes, scored again from the vectors (read from disk)
        _, cand = index.search(q.reshape(1, -1), params["refine"])
        rows = np.sort(cand[0][cand[0] >= 0])
        found = rows[np.argsort(-(vectors[rows] @ q), kind="stable")[:10]].reshape(1, -1)
    times.append(time.perf_counter() - t)
    ids.append(found[0].tolist())
# VmHWM: this process's own peak (ru_maxrss would count the parent's memory at the fork).
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"times": times, "ids": ids, "rss_mb": hwm / 1024}))
"""


def synthetic(real: np.ndarray, size: int, seed: int) -> np.ndarray:
    """`real`, then mixtures of two real vectors with noise, normalised, up to `size` rows."""
    rng = np.random.default_rng(seed)
    out = np.empty((size, real.shape[1]), dtype=np.float32)
    n = min(len(real), size)
    out[:n] = real[:n]
    for start in range(n, size, 100_000):
        rows = min(100_000, size - start)
        a = real[rng.integers(0, len(real), rows)]
        b = real[rng.integers(0, len(real), rows)]
        mix = 0.6 * a + 0.4 * b + rng.normal(0.0, 0.3 / np.sqrt(real.shape[1]), (rows, real.shape[1]))
        out[start : start + rows] = mix / np.linalg.norm(mix, axis=1, keepdims=True)
    return out


def build(kind: str, vectors: np.ndarray):  # type: ignore[no-untyped-def]
    import faiss

    d = vectors.shape[1]
    ip = faiss.METRIC_INNER_PRODUCT
    if kind == "flat":
        index = faiss.IndexFlatIP(d)
    elif kind == "sq8":
        index = faiss.IndexScalarQuantizer(d, faiss.ScalarQuantizer.QT_8bit, ip)
    elif kind == "hnsw-sq8":
        index = faiss.IndexHNSWSQ(d, faiss.ScalarQuantizer.QT_8bit, 32, ip)
        index.hnsw.efConstruction = 64
    elif kind == "ivf-sq8":  # what the index builds above its threshold
        from rag.index.ann import build_ann

        return build_ann(vectors)
    elif kind == "ivf-pq":  # the same clusters, 48-byte product codes (8 bits per 8 dimensions)
        nlist = int(4 * np.sqrt(len(vectors)))
        index = faiss.IndexIVFPQ(faiss.IndexFlatIP(d), d, nlist, d // 8, 8, ip)
        sample = vectors[np.random.default_rng(0).choice(len(vectors), min(len(vectors), 64 * nlist), replace=False)]
        index.train(sample)
    else:
        raise SystemExit(f"unknown kind {kind!r}")
    if not index.is_trained:
        sample = vectors[np.random.default_rng(0).choice(len(vectors), min(len(vectors), 100_000), replace=False)]
        index.train(sample)
    for start in range(0, len(vectors), 100_000):
        index.add(vectors[start : start + 100_000])
    return index


SETTINGS = {
    "flat": [{}],
    "sq8": [{}],
    "hnsw-sq8": [{"ef": 128}, {"ef": 256}, {"ef": 512}],
    "ivf-sq8": [{"nprobe": 32}, {"nprobe": 64}, {"nprobe": 128}, {"nprobe": 256}],
    "ivf-pq": [
        {"nprobe": 128},
        {"nprobe": 256},
        {"nprobe": 128, "refine": 100},
        {"nprobe": 256, "refine": 100},
        {"nprobe": 256, "refine": 250},
    ],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", required=True, help="an index folder whose vectors seed the synthetic ones")
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--kinds", default="flat,sq8,hnsw-sq8,ivf-sq8")
    parser.add_argument(
        "--questions",
        nargs="+",
        default=["training/un-paraphrase.jsonl"],
        help="question files whose questions are the queries (default: the paraphrased questions over UN documents)",
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import faiss

    from rag.encode.embedding import Embedder

    folder = Path(args.index)
    if not (folder / "manifest.json").is_file():
        raise SystemExit(f"{folder} is not an index folder (no manifest.json); build one with: rag index")
    real = np.concatenate([np.load(folder / "paragraphs.npy"), np.load(folder / "sentences_vectors.npy")]).astype(
        np.float32
    )
    vectors = synthetic(real, args.size, args.seed)
    questions = [
        json.loads(line)["question"] for f in args.questions for line in open(f, encoding="utf-8") if line.strip()
    ]
    embedder = Embedder()
    queries = np.stack([embedder.encode_query(q) for q in questions]).astype(np.float32)
    print(
        f"{len(vectors):,} vectors ({len(real):,} real from {folder}, the rest synthetic mixtures), "
        f"{len(queries)} queries (questions of {', '.join(args.questions)})"
    )
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    _, truth = exact.search(queries, 10)
    del exact
    with tempfile.TemporaryDirectory() as tmp:
        qfile, vfile = Path(tmp) / "queries.npy", Path(tmp) / "vectors.npy"
        np.save(qfile, queries)
        np.save(vfile, vectors)  # for the kinds whose candidates are scored again from the vectors
        for kind in args.kinds.split(","):
            t = time.perf_counter()
            index = build(kind, vectors)
            built = time.perf_counter() - t
            ifile = Path(tmp) / f"{kind}.faiss"
            faiss.write_index(index, str(ifile))
            del index
            for params in SETTINGS[kind]:
                out = subprocess.run(
                    [sys.executable, "-c", SEARCH, str(ifile), str(qfile), json.dumps(params), str(vfile)],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                r = json.loads(out.stdout)
                times = np.array(r["times"]) * 1000
                recall = np.mean([len(set(a) & set(b.tolist())) / 10 for a, b in zip(r["ids"], truth, strict=True)])
                shown = " ".join(f"{k} {v}" for k, v in params.items())
                print(
                    f"{kind:9} {shown:11} build {built:7.1f} s, {ifile.stat().st_size / 2**20:7.0f} MB on disk; "
                    f"search p50 {np.median(times):6.2f} ms, p95 {np.percentile(times, 95):6.2f} ms; "
                    f"peak RSS {r['rss_mb']:6.0f} MB; recall@10 {recall:.3f}",
                    flush=True,
                )
            ifile.unlink()


if __name__ == "__main__":
    main()
