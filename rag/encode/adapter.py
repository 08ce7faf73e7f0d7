"""The query adapter: a learned linear map applied to a question's vector before paragraphs are searched.

Documents keep the vectors of the packaged model; only the question's vector moves, towards the way
official documents word what it asks (q' = normalise(q + q A)). It is trained here
(`training/train_adapter.py`) on questions written in users' words over public UN documents and
public QA sets, and shipped as `models/query-adapter/` (the matrix and `adapter.json`, which names
the embedding model it was trained for and the sha256 of the matrix). The adapted vector ranks the
paragraphs; the question's own vector still scores the sentences (`rag.answer.features`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rag.errors import ModelProblem
from rag.hashing import sha256_file
from rag.paths import MODELS

#: Where the adapter shipped with the project lives (a source checkout or an editable install).
DEFAULT_ADAPTER = MODELS / "query-adapter"
MATRIX = "adapter.npy"
ABOUT = "adapter.json"
FIX = "restore it with `git checkout models/` or retrain it with `python training/train_adapter.py`"


@dataclass(frozen=True)
class QueryAdapter:
    """q -> normalise(q + q A), for the embedding model named in `about`."""

    matrix: np.ndarray  # (dimension, dimension), float32
    about: dict = field(default_factory=dict, compare=False)

    @property
    def model(self) -> str:
        return str(self.about.get("model", ""))

    @property
    def label(self) -> str:
        return f"query-adapter@{self.about.get('version', '?')}"

    def __call__(self, query: np.ndarray) -> np.ndarray:
        moved = query + query @ self.matrix
        return (moved / max(float(np.linalg.norm(moved)), 1e-12)).astype(np.float32)

    @classmethod
    def load(cls, folder: str | Path | None = None) -> QueryAdapter:
        """Load an adapter folder, checking the matrix against the hash its record gives.

        Raises:
            ModelProblem: a file is missing, damaged or not the one adapter.json names.
        """
        folder = Path(folder) if folder is not None else DEFAULT_ADAPTER
        about_path, matrix_path = folder / ABOUT, folder / MATRIX
        try:
            about = json.loads(about_path.read_text(encoding="utf-8"))
            expected = about["sha256"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelProblem(f"the query adapter's {about_path} is missing or unreadable ({exc}); {FIX}") from exc
        if not matrix_path.is_file() or sha256_file(matrix_path) != expected:
            raise ModelProblem(f"the query adapter's {matrix_path} is missing or does not match {ABOUT}; {FIX}")
        matrix = np.load(matrix_path, allow_pickle=False).astype(np.float32)
        if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
            raise ModelProblem(f"the query adapter's {matrix_path} is not a square matrix; {FIX}")
        return cls(matrix, about)

    @classmethod
    def shipped_for(cls, model: str, dimension: int) -> QueryAdapter | None:
        """The shipped adapter if it was trained for this embedding model, else None."""
        if not (DEFAULT_ADAPTER / ABOUT).is_file():
            return None
        adapter = cls.load(DEFAULT_ADAPTER)
        if adapter.model != model or adapter.matrix.shape[0] != dimension:
            return None
        return adapter

    def save(self, folder: Path) -> None:
        """Write the matrix and its record (with the matrix's hash) into a folder."""
        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / MATRIX, self.matrix.astype(np.float32), allow_pickle=False)
        about = {**self.about, "sha256": sha256_file(folder / MATRIX)}
        (folder / ABOUT).write_text(json.dumps(about, indent=1) + "\n", encoding="utf-8")
