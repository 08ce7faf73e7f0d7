"""Encoders: windows of long text, the ONNX encoder against sentence-transformers, answering without torch."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import write

from rag.encode.embedding import Embedder
from rag.index import build_index, load_index


def test_long_paragraphs_are_embedded_as_windows(tmp_path, embedder):
    sentence = "The committee examined the regional water treaty and its annexes in detail. "
    write(tmp_path / "corpus" / "long.md", "1. " + sentence * 40 + "\n2. Short one.\n")
    build_index(tmp_path / "corpus", tmp_path / "index", embedder=embedder, progress=False)
    data = load_index(tmp_path / "index")
    owners = data.window_owner.tolist()
    assert owners.count(0) > 1 and owners.count(1) == 1  # paragraph 1 has several windows
    for w in embedder.windows(data.paragraphs[0].text):
        assert embedder._token_count(w) <= embedder.max_tokens - 2
    assert json.loads((tmp_path / "index" / "manifest.json").read_text())["windows"] == len(owners)


@pytest.mark.parametrize("backend", ["onnx", "transformers"])
def test_the_light_encoders_give_sentence_transformers_vectors(backend):
    """Questions are encoded on ONNX Runtime (or with transformers alone), both faster to load;
    documents are indexed with sentence-transformers: the vectors must be the same."""
    embedder = Embedder("all-MiniLM-L6-v2", threads=1, backend=backend)
    assert embedder.backend == backend
    reference = Embedder("all-MiniLM-L6-v2", threads=1, backend="sentence-transformers")
    assert reference.backend == "sentence-transformers"
    texts = [
        "Who opened the meeting?",
        "What is agenda item 6?",
        "The meeting was attended by representatives of 87 Member States, 4 intergovernmental "
        "organizations and 1 specialized agency. " * 3,
        "Réunion à Genève — 12 avril",
        "x",
    ]
    ours, theirs = embedder.encode(texts), reference.encode(texts)
    assert ours.shape == theirs.shape == (5, 384)
    assert np.abs(ours - theirs).max() < 1e-4
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    assert embedder.max_tokens == reference.max_tokens == 256
    assert embedder.windows(texts[2] * 10) == reference.windows(texts[2] * 10)
    long = embedder.encode_query(texts[2] * 10) @ reference.encode_query(texts[2] * 10)
    assert long > 0.999  # a question longer than the model reads: windows averaged the same way


def test_answering_imports_neither_torch_nor_transformers(bundled_index):
    """A new process that loads the index and answers (the default backend, the ONNX export
    cached) never imports torch, transformers or sentence-transformers."""
    import subprocess
    import sys

    code = (
        "import sys; from rag.assistant import Assistant; "
        f"a = Assistant.load({str(bundled_index)!r}); print(a.ask('What is agenda item 6?').citations[0].paragraph); "
        "print(sorted(m for m in ('torch', 'transformers', 'sentence_transformers') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["56", "[]"]


def test_the_onnx_encoder_runs_a_model_without_segment_ids(tmp_path):
    """MPNet (all-mpnet-base-v2's architecture) takes no token_type_ids: the ONNX export and the
    encoder feed it only what it takes, and give sentence-transformers' vectors."""
    import json

    import torch
    from transformers import MPNetConfig, MPNetModel

    from rag.encode.models import resolve_model

    torch.manual_seed(0)
    folder = tmp_path / "tiny-mpnet"
    MPNetModel(
        MPNetConfig(vocab_size=30527, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64)
    ).save_pretrained(folder)
    base = Path(resolve_model("all-MiniLM-L6-v2"))
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        if (base / name).is_file():
            shutil.copyfile(base / name, folder / name)
    (folder / "1_Pooling").mkdir()
    (folder / "1_Pooling" / "config.json").write_text(
        json.dumps({"word_embedding_dimension": 32, "pooling_mode_mean_tokens": True})
    )
    (folder / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 64, "do_lower_case": False}))
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ]
    (folder / "modules.json").write_text(json.dumps(modules))
    onnx = Embedder(str(folder), threads=1, backend="onnx")
    reference = Embedder(str(folder), threads=1, backend="sentence-transformers")
    texts = ["Who opened the meeting?", "The meeting was attended by 87 Member States. " * 4]
    assert onnx.backend == "onnx"
    assert np.abs(onnx.encode(texts) - reference.encode(texts)).max() < 1e-4


def test_a_damaged_query_adapter_is_one_clear_error(tmp_path):
    """The shipped adapter's matrix is checked against the hash its record gives."""
    from rag.encode.adapter import DEFAULT_ADAPTER, QueryAdapter
    from rag.errors import ModelProblem

    folder = tmp_path / "adapter"
    shutil.copytree(DEFAULT_ADAPTER, folder)
    good = QueryAdapter.load(folder)
    q = np.zeros(good.matrix.shape[0], np.float32)
    q[0] = 1.0
    assert abs(float(np.linalg.norm(good(q))) - 1.0) < 1e-5
    (folder / "adapter.npy").write_bytes((folder / "adapter.npy").read_bytes()[:-8] + b"\0" * 8)
    with pytest.raises(ModelProblem, match="does not match adapter.json"):
        QueryAdapter.load(folder)
    (folder / "adapter.json").write_text("{")
    with pytest.raises(ModelProblem, match="missing or unreadable"):
        QueryAdapter.load(folder)
