from __future__ import annotations

import rag


def test_all_lists_exactly_the_public_names():
    import types

    public = {name for name, value in vars(rag).items()
              if not name.startswith("_") and not isinstance(value, types.ModuleType)} - {"annotations"}
    assert set(rag.__all__) - {"__version__"} == public


def test_importing_rag_does_not_load_the_heavy_libraries():
    import subprocess
    import sys

    code = "import sys, rag; print(any(m in sys.modules for m in ('gradio', 'matplotlib', 'sentence_transformers')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
