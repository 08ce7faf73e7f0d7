"""Embedder: loads a sentence-transformers model once, windows long text, encodes."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from rag.encode.models import quiet_transformers, resolve_model
from rag.errors import BadSetting
from rag.settings import DEFAULT_MODEL, WindowSettings

log = logging.getLogger(__name__)


def _mean_pooling_folder(path: str) -> Path | None:
    """The folder of a sentence-transformers model that is a transformer, mean pooling and
    (optionally) normalisation, nothing else; None for any other model."""
    folder = Path(path)
    try:
        modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
        kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
        pooling = next(m["path"] for m in modules if m["type"].endswith("Pooling"))
        pool = json.loads((folder / pooling / "config.json").read_text(encoding="utf-8"))
        config = json.loads((folder / "sentence_bert_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, StopIteration):
        return None
    modes = {k for k, v in pool.items() if k.startswith("pooling_mode") and v}
    if (
        kinds[:2] != ["Transformer", "Pooling"]
        or kinds[2:] not in ([], ["Normalize"])
        or modes != {"pooling_mode_mean_tokens"}
        or config.get("do_lower_case")
    ):
        return None
    return folder


class MeanPoolingEncoder:
    """The same vectors as sentence-transformers gives for a mean-pooling model, computed with
    transformers alone: importing sentence-transformers costs several seconds that a process
    answering one question should not pay. Used only for models `_mean_pooling_folder` accepts."""

    def __init__(self, folder: Path) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        quiet_transformers()
        self._torch = torch
        config = json.loads((folder / "sentence_bert_config.json").read_text(encoding="utf-8"))
        self.tokenizer = AutoTokenizer.from_pretrained(str(folder))
        self.transformer = AutoModel.from_pretrained(str(folder)).eval()
        self.max_seq_length = int(config.get("max_seq_length") or self.tokenizer.model_max_length)
        self.dimension = int(self.transformer.config.hidden_size)

    def encode(self, texts: list[str], *, batch_size: int = 32) -> np.ndarray:
        torch = self._torch
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))  # less padding per batch
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        with torch.inference_mode():
            for first in range(0, len(order), batch_size):
                rows = order[first : first + batch_size]
                batch = self.tokenizer(
                    [texts[i] for i in rows],
                    padding=True,
                    truncation=True,
                    max_length=self.max_seq_length,
                    return_tensors="pt",
                )
                hidden = self.transformer(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                out[rows] = torch.nn.functional.normalize(mean, dim=1).numpy()
        return out


def _onnx_runtime_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("onnxruntime") is not None and importlib.util.find_spec("tokenizers") is not None


BACKENDS = ("auto", "onnx", "transformers", "sentence-transformers")


class Embedder:
    """A loaded model that turns text (of any length) into unit vectors.

    Backends, all giving the same vectors (tests check it on the packaged model):
    "sentence-transformers" loads that library (the reference, and the only one for models that
    are not a transformer with mean pooling); "transformers" computes mean pooling with
    transformers alone; "onnx" runs the model on ONNX Runtime, exported once from its weights,
    and imports neither torch nor transformers once the export is cached. "auto" takes "onnx"
    for mean-pooling models when onnxruntime is installed, else "transformers", else
    sentence-transformers."""

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        *,
        threads: int | None = 1,
        window: WindowSettings = WindowSettings(),
        backend: str = "auto",
    ) -> None:
        if backend not in BACKENDS:
            raise BadSetting(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
        self.name = model
        self.window = window
        path = resolve_model(model)
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        folder = _mean_pooling_folder(path) if backend != "sentence-transformers" else None
        automatic = backend == "auto"
        if automatic:
            backend = ("onnx" if _onnx_runtime_available() else "transformers") if folder else "sentence-transformers"
        elif folder is None and backend != "sentence-transformers":
            raise BadSetting(
                f"model '{model}' is not a mean-pooling transformer; the {backend} backend "
                "cannot run it (use backend 'sentence-transformers')"
            )
        self.backend = backend
        try:
            if backend == "onnx":
                from rag.encode.onnx import OnnxEncoder

                try:
                    self.model: Any = OnnxEncoder(folder, threads=threads)  # type: ignore[arg-type]
                except Exception as exc:
                    if not automatic:
                        raise
                    # The export needs torch.onnx and the onnx package; without them, or if it
                    # fails, the same vectors come from transformers, only slower to load.
                    log.warning("ONNX Runtime encoder unavailable (%s); using transformers", exc)
                    backend = self.backend = "transformers"
            if backend == "onnx":
                self.max_tokens = self.model.max_seq_length
                self.dimension = self.model.dimension
            else:
                import torch

                if threads:
                    torch.set_num_threads(threads)
                if backend == "transformers":
                    self.model = MeanPoolingEncoder(folder)  # type: ignore[arg-type]
                    self.max_tokens = self.model.max_seq_length
                    self.dimension = self.model.dimension
                else:
                    from sentence_transformers import SentenceTransformer

                    quiet_transformers()
                    self.model = SentenceTransformer(path, device="cpu")
                    self.max_tokens = int(self.model.max_seq_length or 256)
                    dim = (
                        self.model.get_embedding_dimension()
                        if hasattr(self.model, "get_embedding_dimension")
                        else self.model.get_sentence_embedding_dimension()
                    )
                    self.dimension = int(dim or 0)
        except Exception as exc:  # the libraries raise many types for a missing model
            raise BadSetting(
                f"cannot load embedding model '{model}': {exc}. Give a sentence-transformers "
                "model folder or a name available offline"
            ) from exc
        self._splitter: Any = None

    def _token_count(self, text: str) -> int:
        if self.backend == "onnx":
            return self.model.count_tokens(text)
        return len(self.model.tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"])

    def windows(self, text: str) -> list[str]:
        """The text itself if the model reads all of it, else overlapping windows of it."""
        if self._token_count(text) <= self.max_tokens - 2:
            return [text]
        if self._splitter is None:
            from langchain_text_splitters import RecursiveCharacterTextSplitter

            size = min(self.window.tokens, self.max_tokens - 2)
            if self.backend == "onnx":  # the same word-piece count, from the `tokenizers` tokenizer
                self._splitter = RecursiveCharacterTextSplitter(
                    chunk_size=size, chunk_overlap=self.window.overlap, length_function=self._token_count
                )
            else:
                self._splitter = RecursiveCharacterTextSplitter.from_huggingface_tokenizer(
                    self.model.tokenizer, chunk_size=size, chunk_overlap=self.window.overlap
                )
        return [w for w in self._splitter.split_text(text) if w.strip()] or [text]

    def encode(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        """Unit vectors (float32, one row per text) for texts that fit the model."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if self.backend in ("transformers", "onnx"):
            if progress:
                from tqdm import tqdm

                step = 256
                parts = [
                    self.model.encode(texts[i : i + step])
                    for i in tqdm(range(0, len(texts), step), desc="Embedding", unit="x256")
                ]
                return np.ascontiguousarray(np.concatenate(parts), dtype=np.float32)
            return np.ascontiguousarray(self.model.encode(texts), dtype=np.float32)
        vectors = self.model.encode(
            texts,
            batch_size=32,
            normalize_embeddings=True,
            convert_to_numpy=True,
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
        # The same text is encoded once: a one-sentence paragraph is also its own sentence, and
        # documents repeat their formulas. Identical input, identical vector.
        unique = list(dict.fromkeys(pieces))
        if len(unique) == len(pieces):
            return self.encode(pieces, progress=progress), np.asarray(owners, dtype=np.int32)
        where = {text: i for i, text in enumerate(unique)}
        vectors = self.encode(unique, progress=progress)
        return vectors[[where[piece] for piece in pieces]], np.asarray(owners, dtype=np.int32)

    def encode_query(self, text: str) -> np.ndarray:
        """One unit vector for a question (windows averaged if it is longer than the model reads)."""
        vectors = self.encode(self.windows(text))
        mean = vectors.mean(axis=0)
        norm = float(np.linalg.norm(mean)) or 1.0
        return (mean / norm).astype(np.float32)
