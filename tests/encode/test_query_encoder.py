"""The query encoder: the shipped fine-tuned layers over the packaged model, checked, written out
once, and used by default to encode questions (paragraphs keep the packaged model's vectors)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from rag.encode.adapter import QueryAdapter
from rag.encode.delta import materialise, read_record
from rag.encode.onnx import cache_root
from rag.encode.query_encoder import DEFAULT_QUERY_ENCODER, QueryEncoder
from rag.errors import ModelProblem

QUESTION = "Which country paid for the meeting?"


@pytest.fixture(scope="module")
def encoder():
    return QueryEncoder.load()


def test_it_is_the_default_and_its_vector_ranks_and_scores(assistant, encoder):
    shipped = read_record(DEFAULT_QUERY_ENCODER)
    assert isinstance(assistant.adapter, QueryEncoder)
    assert assistant.adapter.label == f"query-encoder@{shipped['version']}" == "query-encoder@1.2"
    packaged = assistant.embedder.encode_query(QUESTION)
    moved = encoder(packaged, QUESTION)
    assert abs(float(np.linalg.norm(moved)) - 1.0) < 1e-5
    assert 0.5 < float(moved @ packaged) < 0.999  # a different vector, near the original
    assert np.array_equal(encoder(packaged, ""), packaged)  # no text: nothing to encode
    # One encoding of the question: the encoder's vector ranks the paragraphs and scores the sentences.
    assert assistant.retriever.adapter is None
    assert np.allclose(assistant.encode_question(QUESTION), moved, atol=1e-6)
    assert np.allclose(assistant.consider(QUESTION).evidence.query, moved, atol=1e-6)


def test_the_written_model_gives_the_vectors_sentence_transformers_gives(encoder):
    from sentence_transformers import SentenceTransformer

    full = materialise(DEFAULT_QUERY_ENCODER, read_record(DEFAULT_QUERY_ENCODER), cache_root() / "models")
    reference = SentenceTransformer(str(full), device="cpu").encode([QUESTION], normalize_embeddings=True)[0]
    assert np.allclose(encoder(np.zeros(384, np.float32), QUESTION), reference, atol=1e-4)


def test_a_damaged_encoder_is_one_clear_error(tmp_path):
    folder = tmp_path / "query-encoder"
    shutil.copytree(DEFAULT_QUERY_ENCODER, folder)
    layers = folder / "layers.safetensors"
    layers.write_bytes(layers.read_bytes()[:-8] + b"\0" * 8)
    with pytest.raises(ModelProblem, match="does not match encoder.json"):
        QueryEncoder.load(folder)
    (folder / "encoder.json").write_text("{")
    with pytest.raises(ModelProblem, match="missing or unreadable"):
        QueryEncoder.load(folder)


def test_an_adapter_given_is_used_and_false_turns_both_off(bundled_index, embedder):
    from rag.assistant import Assistant
    from rag.index import load_index

    data = load_index(bundled_index)
    with_adapter = Assistant(data, embedder, adapter=QueryAdapter.load())
    assert isinstance(with_adapter.adapter, QueryAdapter) and with_adapter.retriever.adapter is with_adapter.adapter
    assert np.allclose(with_adapter.encode_question(QUESTION), embedder.encode_query(QUESTION))
    assert Assistant(data, embedder, adapter=False).adapter is None
