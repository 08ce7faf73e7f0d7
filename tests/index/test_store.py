"""The stored index: paragraphs read from disk, vector files, and the binary searches over its columns."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import small_corpus, write

from rag.errors import CorruptIndex
from rag.index import build_index, load_index


def test_sentence_cosines_at_once_equal_one_at_a_time_for_sentences_of_several_windows(tmp_path, embedder):
    clause = "the committee examined the regional water treaty, its annexes and the reports of the basin states, "
    write(tmp_path / "corpus" / "long.md", "1. Short first. " + clause * 30 + "end.\n2. Another short one.\n")
    build_index(tmp_path / "corpus", tmp_path / "index", embedder=embedder, progress=False)
    data = load_index(tmp_path / "index")
    counts = np.bincount(data.sentence_window_owner, minlength=len(data.sentences))
    assert counts.max() > 1 and counts.min() == 1  # one sentence needs several windows
    query = embedder.encode_query("What did the committee examine about the water treaty?")
    rows = np.array([2, 1, 0, 1, len(data.sentences) - 1])
    one_by_one = [data.sentence_cosine(int(r), query) for r in rows]
    np.testing.assert_allclose(data.sentence_cosines(rows, query), one_by_one, atol=1e-6)
    assert data.sentence_cosines(np.array([], dtype=int), query).shape == (0,)


def test_the_sentences_of_some_paragraphs_are_found_by_binary_search(bundled_index):
    data = load_index(bundled_index)
    rng = np.random.default_rng(0)
    for _ in range(20):
        rows = rng.integers(0, len(data.paragraphs), 6).tolist()
        np.testing.assert_array_equal(data.sentences_of(rows), np.flatnonzero(np.isin(data.sentences[:, 0], rows)))
    assert data.sentences_of([]).shape == (0,)


def test_each_documents_windows_are_found_by_binary_search(tmp_path, embedder):
    from rag.retrieve.retriever import Retriever

    corpus = tmp_path / "corpus"
    for name, body in (
        ("a", "1. Alpha met.\n2. It ended."),
        ("b", "No numbers here."),
        ("c", "1. Gamma met. Long.\n2. Done."),
    ):
        write(corpus / f"{name}.md", f"# {name}\n\n{body}\n")
    build_index(corpus, tmp_path / "index", embedder=embedder, progress=False)
    data = load_index(tmp_path / "index")
    retriever = Retriever(data)
    for doc, (first, last) in data.doc_rows.items():
        windows = np.flatnonzero((data.window_owner >= first) & (data.window_owner < last))
        sentences = np.flatnonzero((data.sentences[:, 0] >= first) & (data.sentences[:, 0] < last))
        sentence_windows = np.flatnonzero(np.isin(data.sentence_window_owner, sentences))
        assert retriever._window_rows[doc] == (windows.min(), windows.max() + 1)
        assert retriever._sentence_rows[doc] == (sentence_windows.min(), sentence_windows.max() + 1)


def test_a_loaded_index_reads_its_paragraphs_from_disk_and_they_are_the_ones_built(tmp_path, embedder):
    from rag.index.store import ParagraphStore
    from rag.readers import read_corpus
    from rag.text.paragraphs import split_paragraphs

    corpus, index = small_corpus(tmp_path)
    write(corpus / "gamma.md", "# Gamma\n\n1. Ünïcode “quotes” and a line\\nbreak stay as written.\n")
    build_index(corpus, index, embedder=embedder, progress=False)
    data = load_index(index)
    assert isinstance(data.paragraphs, ParagraphStore)
    built = [p for doc in read_corpus(corpus) for p in split_paragraphs(doc)]
    assert list(data.paragraphs) == built
    assert data.paragraphs[-1] == built[-1] and data.paragraphs[1:3] == built[1:3]
    with pytest.raises(IndexError):
        data.paragraphs[len(built)]
    # Where each document's paragraphs lie comes from the manifest; reading them all agrees.
    scanned: dict[str, tuple[int, int]] = {}
    for i, p in enumerate(built):
        scanned[p.doc_id] = (scanned.get(p.doc_id, (i, i))[0], i + 1)
    assert data.doc_rows == scanned and len(scanned) == 3


def test_paragraph_offsets_that_do_not_fit_their_file_are_a_corrupt_index(tmp_path, embedder):
    from rag.index.store import OFFSETS, ParagraphStore

    corpus, index = small_corpus(tmp_path)
    build_index(corpus, index, embedder=embedder, progress=False)
    np.save(index / OFFSETS, np.array([0, 5], dtype=np.int64))
    with pytest.raises(CorruptIndex, match="does not describe"):
        ParagraphStore(index)
    with pytest.raises(CorruptIndex, match="paragraphs.offsets.npy"):
        load_index(index)


def test_a_damaged_paragraph_line_is_a_corrupt_index_when_read(tmp_path):
    """Files above the size hashed on load are checked by size only; a paragraph whose bytes
    were overwritten in place is caught when it is read, not quoted."""
    from rag.index.store import ParagraphStore, write_paragraphs
    from rag.types import Paragraph

    write_paragraphs(tmp_path, [Paragraph("d", 1, "The board met."), Paragraph("d", 2, "It adjourned.")])
    store = ParagraphStore(tmp_path)
    assert [p.text for p in store] == ["The board met.", "It adjourned."]
    text = tmp_path / "paragraphs.jsonl"
    raw = text.read_bytes()
    text.write_bytes(raw[:5] + b"#" * 10 + raw[15:])  # same size, first line no longer JSON
    store = ParagraphStore(tmp_path)
    with pytest.raises(CorruptIndex, match="paragraph 0 of the index is unreadable"):
        store[0]
    assert store[1].text == "It adjourned."


def test_vector_file_reads_rows_as_numpy_would_and_refuses_a_short_file(tmp_path):
    from rag.index.store import RELEASE_ROWS, VectorFile

    matrix = np.random.default_rng(0).standard_normal((3000, 8)).astype(np.float32)
    np.save(tmp_path / "v.npy", matrix)
    rows = VectorFile(tmp_path / "v.npy")
    assert len(rows) == 3000 and rows.shape == (3000, 8)
    picked = np.array([5, 3, 3, 2999, 0, 4])  # unsorted, repeated, neighbouring
    for key in (picked, 7, -1, slice(10, 20), slice(None, None, 500)):
        assert np.array_equal(rows[key], matrix[key])
    for _ in range(RELEASE_ROWS // len(picked) + 1):  # past the budget, pages are unmapped ...
        rows[picked]
    assert np.array_equal(rows[picked], matrix[picked])  # ... and read again when asked for
    assert np.array_equal(np.asarray(rows), matrix) and np.allclose(rows @ matrix[0], matrix @ matrix[0])
    with pytest.raises(IndexError):
        rows[3000]
    np.save(tmp_path / "empty.npy", np.zeros((0, 8), np.float32))
    assert VectorFile(tmp_path / "empty.npy")[np.array([], dtype=np.int64)].shape == (0, 8)
    raw = (tmp_path / "v.npy").read_bytes()
    (tmp_path / "short.npy").write_bytes(raw[:-8])
    with pytest.raises(CorruptIndex, match="does not hold the array its header describes"):
        VectorFile(tmp_path / "short.npy")
