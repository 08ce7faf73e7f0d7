"""The query encoder: a copy of MiniLM fine-tuned to place questions near the paragraphs that
answer them, the way official documents word them.

Only questions go through it: the index keeps the packaged model's vectors (nothing is
re-embedded), and the question's vector from this encoder both ranks the paragraphs and scores
their sentences (`Assistant.encode_question`). It is trained here
(`training/train_query_encoder.py`) on questions written in users' words over public UN documents
and SQuAD's training articles, with the retriever's own fused score as the objective, and shipped
as `models/query-encoder/`: the fine-tuned layers in float16 over the packaged model
(`rag.encode.delta`). The whole model is written once into the cache on first use and run on the
same backends as the Embedder.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rag.encode.delta import ABOUT, materialise, read_record
from rag.encode.embedding import Embedder
from rag.encode.onnx import cache_root
from rag.paths import MODELS

#: Where the query encoder shipped with the project lives (a source checkout or an editable install).
DEFAULT_QUERY_ENCODER = MODELS / "query-encoder"


@dataclass(frozen=True)
class QueryEncoder:
    """question -> its vector from the fine-tuned copy, for the embedding model named in `about`."""

    embedder: Embedder = field(compare=False)
    about: dict = field(default_factory=dict, compare=False)

    @property
    def model(self) -> str:
        return str(self.about.get("base", ""))

    @property
    def label(self) -> str:
        return f"query-encoder@{self.about.get('version', '?')}"

    def __call__(self, vector: np.ndarray, question: str = "") -> np.ndarray:
        """The vector paragraphs are ranked by; the packaged model's own vector when there is no
        question text to encode."""
        return self.embedder.encode_query(question) if question else vector

    @classmethod
    def load(cls, folder: str | Path | None = None, *, threads: int | None = 1) -> QueryEncoder:
        """Load an encoder folder (its layers checked against the hash its record gives).

        Raises:
            ModelProblem: a file is missing, damaged, or the packaged base model is not installed.
        """
        folder = Path(folder) if folder is not None else DEFAULT_QUERY_ENCODER
        return cls._from_record(folder, read_record(folder), threads)

    @classmethod
    def _from_record(cls, folder: Path, about: dict, threads: int | None) -> QueryEncoder:
        full = materialise(folder, about, cache_root() / "models")
        return cls(Embedder(str(full), threads=threads), about)

    @classmethod
    def shipped_for(cls, model: str, dimension: int, *, threads: int | None = 1) -> QueryEncoder | None:
        """The shipped encoder if it was trained over this embedding model, else None. Its layers
        are hashed once, here (21 MB: about 15 ms of every process's start)."""
        folder = DEFAULT_QUERY_ENCODER
        if not (folder / ABOUT).is_file():
            return None
        about = read_record(folder)
        if about.get("base") != model:
            return None
        encoder = cls._from_record(folder, about, threads)
        return encoder if encoder.embedder.dimension == dimension else None
