"""The approximate search index (faiss IVF) a large index holds beside its vectors."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

#: The approximate search index a large index holds beside its window vectors. (Sentences are
#: searched only inside the paragraphs found, above the threshold: no index of them.)
ANN_FILE = "paragraphs.ivf"


TRAIN_PER_CLUSTER = 64


def build_ann(vectors: np.ndarray, *, seed: int = 0) -> Any:
    """An IVF index with 8-bit scalar codes over unit vectors (inner product), trained on a
    sample: chosen by bench/ann.py over flat, SQ8 and HNSW-SQ8 indexes at a million vectors."""
    import faiss

    d = vectors.shape[1]
    nlist = max(1, min(len(vectors) // 39, int(4 * np.sqrt(len(vectors)))))
    index = faiss.IndexIVFScalarQuantizer(
        faiss.IndexFlatIP(d), d, nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
    )
    # 64 training vectors a cluster: k-means time grows with the sample, and with 256 a cluster
    # (the most FAISS would use) training took much of a million-paragraph build.
    rng = np.random.default_rng(seed)
    sample = vectors[rng.choice(len(vectors), min(len(vectors), TRAIN_PER_CLUSTER * nlist), replace=False)]
    index.train(np.ascontiguousarray(sample, dtype=np.float32))
    for start in range(0, len(vectors), 100_000):
        index.add(np.ascontiguousarray(vectors[start : start + 100_000], dtype=np.float32))
    return index
