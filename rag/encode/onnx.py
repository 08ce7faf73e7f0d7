"""A mean-pooling sentence encoder on ONNX Runtime: the same vectors as sentence-transformers,
without importing torch or transformers when answering.

The ONNX file is exported once from the model's own weights (torch is needed for that step
only) into a cache folder, with a record of the weights it came from; a later process loads it
if the record still matches, and exports again if the weights changed or the file is damaged.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import os
import tempfile
import threading
import warnings
from functools import cached_property
from pathlib import Path

import numpy as np

from rag.errors import ModelProblem
from rag.hashing import sha256_file

log = logging.getLogger(__name__)

EXPORT_VERSION = 1  # bump when the exported graph changes


def cache_root() -> Path:
    """Where exported models are kept: $RAG_CACHE, else the user's cache folder."""
    if os.environ.get("RAG_CACHE"):
        return Path(os.environ["RAG_CACHE"])
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "rag-citations"


def _weights_file(folder: Path) -> Path:
    for name in ("model.safetensors", "pytorch_model.bin"):
        if (folder / name).is_file():
            return folder / name
    raise ModelProblem(f"no model.safetensors or pytorch_model.bin in {folder}")


def _fingerprint(folder: Path) -> str:
    """What identifies the weights cheaply: their file's size and modification time and the
    model config; the full hash is recorded at export and checked when these change."""
    weights = _weights_file(folder)
    stat = weights.stat()
    config = (folder / "config.json").read_bytes() if (folder / "config.json").is_file() else b""
    return hashlib.sha256(f"{EXPORT_VERSION}:{stat.st_size}:{int(stat.st_mtime)}:".encode() + config).hexdigest()[:16]


def export(folder: Path, target: Path) -> None:
    """Export the transformer of a mean-pooling model folder to `target` (an ONNX file)."""
    import torch
    from transformers import AutoModel

    from rag.encode.models import quiet_transformers

    quiet_transformers()
    model = AutoModel.from_pretrained(str(folder)).eval()

    # Models without segment ids (MPNet, RoBERTa, ...) take two inputs, BERT-like models three.
    names = ["input_ids", "attention_mask"]
    if "token_type_ids" in inspect.signature(model.forward).parameters:
        names.append("token_type_ids")

    class Hidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *inputs):  # noqa: ANN002, ANN201
            return self.model(**dict(zip(names, inputs, strict=True))).last_hidden_state

    ids = torch.ones((2, 8), dtype=torch.long)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's notes on shapes, expected for this graph
        out = Path(tmp) / "model.onnx"
        torch.onnx.export(
            Hidden(),
            (ids, torch.ones_like(ids), torch.zeros_like(ids))[: len(names)],
            str(out),
            input_names=names,
            output_names=["hidden"],
            opset_version=17,
            dynamo=False,
            dynamic_axes={name: {0: "batch", 1: "tokens"} for name in (*names, "hidden")},
        )
        os.replace(out, target)


def exported_model(folder: Path) -> Path:
    """The ONNX file for this model folder, exported now if the cache has none that matches."""
    place = cache_root() / "onnx" / _fingerprint(folder)
    onnx_file, record_file = place / "model.onnx", place / "export.json"
    if onnx_file.is_file() and record_file.is_file():
        try:
            record = json.loads(record_file.read_text(encoding="utf-8"))
            if record.get("onnx_bytes") == onnx_file.stat().st_size and record.get("source") == str(folder):
                return onnx_file
        except (OSError, ValueError):
            pass
        log.warning("the cached ONNX export in %s does not match its record; exporting again", place)
    log.info("preparing the model for first use: exporting %s to ONNX (once; about 20 s)", folder)
    export(folder, onnx_file)
    record = {
        "source": str(folder),
        "weights_sha256": sha256_file(_weights_file(folder)),
        "onnx_bytes": onnx_file.stat().st_size,
        "onnx_sha256": sha256_file(onnx_file),
        "export_version": EXPORT_VERSION,
    }
    record_file.write_text(json.dumps(record, indent=2), encoding="utf-8")
    return onnx_file


class OnnxEncoder:
    """Tokenize with `tokenizers`, run the exported transformer, mean-pool, normalise."""

    def __init__(self, folder: Path, *, threads: int | None = 1) -> None:
        import onnxruntime as ort

        config = json.loads((folder / "sentence_bert_config.json").read_text(encoding="utf-8"))
        model_config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        self.max_seq_length = int(config.get("max_seq_length") or 256)
        self.dimension = int(model_config["hidden_size"])
        self._folder, self._threads = folder, threads
        self._session: ort.InferenceSession | None = None
        self._lock = threading.Lock()

    # The tokenizers and the session are made when first needed: a process that loads a model it
    # may not use (the packaged one, when questions go to the query encoder) does not pay for them.
    @cached_property
    def tokenizer(self):  # type: ignore[no-untyped-def]
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(self._folder / "tokenizer.json"))
        tokenizer.enable_truncation(self.max_seq_length)
        tokenizer.no_padding()
        return tokenizer

    @cached_property
    def counter(self):  # type: ignore[no-untyped-def]
        """A second tokenizer, never truncating, that counts word pieces: settings are not toggled
        on a tokenizer that another thread may be encoding with."""
        from tokenizers import Tokenizer

        counter = Tokenizer.from_file(str(self._folder / "tokenizer.json"))
        counter.no_truncation()
        counter.no_padding()
        return counter

    @property
    def session(self):  # type: ignore[no-untyped-def]
        """The ONNX Runtime session, made at the first encoding (exported first if the cache has none)."""
        if self._session is None:
            import onnxruntime as ort

            with self._lock:
                if self._session is None:
                    options = ort.SessionOptions()
                    options.intra_op_num_threads = self._threads or 0
                    options.inter_op_num_threads = 1
                    options.log_severity_level = 3
                    session = ort.InferenceSession(
                        str(exported_model(self._folder)), options, providers=["CPUExecutionProvider"]
                    )
                    self.inputs = [i.name for i in session.get_inputs()]
                    self._session = session
        return self._session

    def count_tokens(self, text: str) -> int:
        """Word pieces of a text, without the special tokens and without truncation."""
        return len(self.counter.encode(text, add_special_tokens=False).ids)

    def encode(self, texts: list[str], *, batch_size: int = 32) -> np.ndarray:
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))  # less padding per batch
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for first in range(0, len(order), batch_size):
            rows = order[first : first + batch_size]
            encoded = self.tokenizer.encode_batch([texts[i] for i in rows])
            width = max(len(e.ids) for e in encoded)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for j, e in enumerate(encoded):
                ids[j, : len(e.ids)] = e.ids
                mask[j, : len(e.ids)] = 1
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            session = self.session
            hidden = session.run(["hidden"], {name: feed[name] for name in self.inputs})[0]
            weights = mask[..., None].astype(np.float32)
            mean = (hidden * weights).sum(1) / np.clip(weights.sum(1), 1e-9, None)
            out[rows] = mean / np.clip(np.linalg.norm(mean, axis=1, keepdims=True), 1e-12, None)
        return out
