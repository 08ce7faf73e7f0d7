"""Embedding on a Ray cluster: `rag index --engine ray`.

The documents are read, split into paragraphs and sentences and cut into windows here, as in
a local build (a small share of the work); the windows are then encoded by a pool of Ray Data
actors, each holding one encoder, and the vectors come back in order to be checkpointed,
assembled and written exactly as a local build writes them. Ray retries a batch whose worker
died. Ray is an optional extra: `pip install -e '.[ray]'`.
"""

from __future__ import annotations

import logging
import os
import socket

import numpy as np

from rag.encode.embedding import Embedder
from rag.errors import BadSetting, MissingExtra
from rag.settings import WindowSettings

log = logging.getLogger(__name__)

INSTALL = "pip install -e '.[ray]'"


def _check_reachable(address: str) -> None:
    """A cluster address that nothing answers at is refused at once (Ray itself would keep
    retrying for minutes). "auto" and "local" are Ray's to resolve."""
    if address in ("auto", "local"):
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except (OSError, ValueError) as exc:
        raise BadSetting(
            f"no Ray cluster answers at {address} ({exc}); give HOST:PORT of a running head node (ray start --head)"
        ) from exc


class _EncodeBatch:
    """A Ray Data actor: one encoder, loaded once, encoding batch after batch."""

    def __init__(self, model: str, tokens: int, overlap: int) -> None:
        self.embedder = Embedder(model, threads=1, window=WindowSettings(tokens, overlap))

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {"row": batch["row"], "vector": self.embedder.encode([str(t) for t in batch["text"]])}


class RayEmbedder(Embedder):
    """An `Embedder` whose `encode` runs on a Ray cluster (a local one unless `address` names
    one). Windows, token counts and questions stay on this machine's own encoder."""

    #: Texts a build sends per call: each call starts the cluster's encoders afresh, so calls
    #: are fewer than a local build's (whose checkpoints come every 2,048 texts).
    group_texts = 32_768

    def __init__(
        self,
        model: str,
        *,
        window: WindowSettings = WindowSettings(),
        address: str | None = None,
        workers: int = 2,
        batch_size: int = 64,
    ) -> None:
        if workers <= 0:
            raise BadSetting(f"ray workers must be positive, got {workers}")
        if address:
            _check_reachable(address)
        try:
            import ray
            import ray.data  # noqa: F401  (the Data library is part of the extra)
        except ImportError as exc:
            raise MissingExtra(f"--engine ray needs Ray, which is not installed; run: {INSTALL}") from exc
        super().__init__(model, threads=1, window=window)
        self.workers = workers
        self.batch_size = batch_size
        self._ray = ray
        if not ray.is_initialized():
            # Workers answer offline too, and keep their threads to the one core they hold.
            env = {"HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
            if os.environ.get("RAG_CACHE"):
                env["RAG_CACHE"] = os.environ["RAG_CACHE"]
            ray.init(
                address=address, runtime_env={"env_vars": env}, logging_level=logging.WARNING, include_dashboard=False
            )
            log.info("Ray: %s", ray.cluster_resources())

    def encode(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        import ray.data

        dataset = ray.data.from_items([{"row": i, "text": t} for i, t in enumerate(texts)])
        encoded = dataset.map_batches(
            _EncodeBatch,
            fn_constructor_args=(self.name, self.window.tokens, self.window.overlap),
            batch_size=self.batch_size,
            batch_format="numpy",
            concurrency=self.workers,
            num_cpus=1,
        )
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for batch in encoded.iter_batches(batch_size=None, batch_format="numpy"):
            out[np.asarray(batch["row"], dtype=np.int64)] = np.stack(list(batch["vector"]))
        return out

    def shutdown(self) -> None:
        """Leave the cluster (a local one stops)."""
        self._ray.shutdown()
