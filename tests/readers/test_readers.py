from __future__ import annotations

import pytest
from conftest import write

from rag.errors import DuplicateDocument, EmptyCorpus, UnreadableDocument
from rag.readers import corpus_files, read_corpus, read_document


def test_missing_and_empty_corpus(tmp_path):
    with pytest.raises(EmptyCorpus, match="does not exist"):
        corpus_files(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    write(tmp_path / "empty" / "picture.png", "not a document")
    with pytest.raises(EmptyCorpus, match="holds no document"):
        corpus_files(tmp_path / "empty")


def test_binary_and_non_utf8_files_are_refused_by_name(tmp_path):
    (tmp_path / "bin.md").write_bytes(b"\x00\x01\x02 binary")
    with pytest.raises(UnreadableDocument, match="bin.md: looks like a binary file"):
        read_document(tmp_path / "bin.md")
    (tmp_path / "latin.txt").write_bytes("Résumé of the meeting".encode("latin-1"))
    with pytest.raises(UnreadableDocument, match="latin.txt: is not valid UTF-8"):
        read_document(tmp_path / "latin.txt")


def test_two_files_with_the_same_name_are_refused(tmp_path):
    write(tmp_path / "report.md", "1. One.\n2. Two.\n")
    write(tmp_path / "report.txt", "1. One.\n2. Two.\n")
    with pytest.raises(DuplicateDocument, match="report.md and report.txt would both be document 'report'"):
        corpus_files(tmp_path)


def test_front_matter_gives_metadata_and_keeps_line_numbers(tmp_path):
    write(
        tmp_path / "res.md",
        '---\nsymbol: A/RES/1/1\ntitle: "A resolution"\ndate: "2025-11-25"\n---\n\n'
        "1. First paragraph.\n2. Second paragraph.\n",
    )
    (doc,) = list(read_corpus(tmp_path))
    assert (doc.title, doc.symbol, doc.date) == ("A resolution", "A/RES/1/1", "2025-11-25")
    assert doc.lines[6] == "1. First paragraph."


def test_utf8_bom_and_crlf_are_read(tmp_path):
    (tmp_path / "win.txt").write_bytes("\ufeff1. First.\r\n2. Second.\r\n".encode("utf-8"))
    doc = read_document(tmp_path / "win.txt")
    assert doc.lines[:2] == ("1. First.", "2. Second.")
