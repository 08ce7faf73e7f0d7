"""Loading an index: stale, corrupt, tampered and swapped indexes are caught with the fix named."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace

import numpy as np
import pytest
from conftest import small_corpus, write

from rag.assistant import Assistant
from rag.errors import CorruptIndex, IndexMissing, StaleIndex
from rag.index import build_index, load_index, read_manifest


def test_stale_index_is_detected_with_the_fix_named(tmp_path, embedder):
    corpus, index = small_corpus(tmp_path)
    build_index(corpus, index, embedder=embedder, progress=False)
    load_index(index)
    write(corpus / "alpha.md", "# Alpha\n\n1. Changed.\n2. Text.\n")
    with pytest.raises(StaleIndex, match=r"alpha.md changed since the index was built; run: rag index"):
        load_index(index)
    build_index(corpus, index, embedder=embedder, progress=False)
    write(corpus / "gamma.md", "A new document.\n")
    with pytest.raises(StaleIndex, match="gamma.md is new"):
        load_index(index)
    (corpus / "gamma.md").unlink()
    (corpus / "beta.txt").unlink()
    with pytest.raises(StaleIndex, match="beta.txt was indexed but is gone"):
        load_index(index)


def test_an_index_from_another_splitter_version_is_refused(tmp_path, embedder):
    corpus, index = small_corpus(tmp_path)
    build_index(corpus, index, embedder=embedder, progress=False)
    manifest = read_manifest(index)
    (index / "manifest.json").write_text(replace(manifest, pipeline="0" * len(manifest.pipeline)).sealed().to_json())
    with pytest.raises(StaleIndex, match="another version of the paragraph and sentence splitter; run: rag index"):
        load_index(index)
    build_index(corpus, index, embedder=embedder, progress=False)  # rebuilding mends it
    load_index(index)


def test_other_model_is_refused(bundled_index):
    with pytest.raises(StaleIndex, match="built with model 'all-MiniLM-L6-v2', not 'other-model'"):
        Assistant.load(bundled_index, model="other-model")


def test_missing_and_corrupt_index(tmp_path, bundled_index):
    with pytest.raises(IndexMissing, match="run: rag index"):
        load_index(tmp_path / "none")
    broken = tmp_path / "broken"
    shutil.copytree(bundled_index, broken)
    (broken / "manifest.json").write_text("{not json")
    with pytest.raises(CorruptIndex, match="manifest.json is unreadable"):
        load_index(broken, check_corpus=False)
    shutil.rmtree(broken)
    shutil.copytree(bundled_index, broken)
    (broken / "sentences.npy").unlink()
    with pytest.raises(CorruptIndex, match="sentences.npy is missing"):
        load_index(broken, check_corpus=False)
    shutil.rmtree(broken)
    shutil.copytree(bundled_index, broken)
    (broken / "paragraphs.npy").write_bytes(b"garbage")
    with pytest.raises(CorruptIndex, match="changed or damaged"):
        load_index(broken, check_corpus=False)
    shutil.rmtree(broken)
    shutil.copytree(bundled_index, broken)
    np.save(broken / "paragraphs.npy", np.zeros((3, 384), np.float32))
    with pytest.raises(CorruptIndex, match="changed or damaged"):
        load_index(broken, check_corpus=False)
    shutil.rmtree(broken)
    shutil.copytree(bundled_index, broken)
    manifest = json.loads((broken / "manifest.json").read_text())
    manifest["files"] = {}  # as if to turn the file checks off: the manifest's checksum catches it
    (broken / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CorruptIndex, match="does not match its own checksum"):
        load_index(broken, check_corpus=False)
    (broken / "manifest.json").write_text(replace(read_manifest(bundled_index), files={}).sealed().to_json())
    with pytest.raises(CorruptIndex, match="lists no index files"):
        load_index(broken, check_corpus=False)


def test_an_edited_manifest_is_caught_by_load_and_verify(tmp_path, bundled_index):
    """A changed title in the manifest would change every citation's reference: loading and
    `rag index --verify` refuse it."""
    from rag.index import verify_index

    broken = tmp_path / "index"
    shutil.copytree(bundled_index, broken)
    text = (broken / "manifest.json").read_text()
    assert "Expert Group" in text
    (broken / "manifest.json").write_text(text.replace("Expert Group", "Expert Panel", 1))
    with pytest.raises(CorruptIndex, match="does not match its own checksum"):
        load_index(broken, check_corpus=False)
    with pytest.raises(CorruptIndex, match="does not match its own checksum"):
        verify_index(broken)


def test_a_manifest_written_before_a_field_was_added_is_not_taken_for_an_edited_one(tmp_path, bundled_index):
    """An index from a version whose documents had fewer fields (no `left_out`, no `ocr_pages`)
    carries the checksum of the JSON it wrote: it is read, with the new fields at their defaults."""
    from rag.index.manifest import text_hash

    older = tmp_path / "index"
    shutil.copytree(bundled_index, older)
    raw = json.loads((older / "manifest.json").read_text())
    for info in raw["documents"].values():
        del info["left_out"], info["ocr_pages"]
    raw["checksum"] = text_hash(raw)  # sealed as that version sealed it
    (older / "manifest.json").write_text(json.dumps(raw, indent=2, ensure_ascii=False))
    manifest = read_manifest(older)
    assert all(info.left_out == () and info.ocr_pages == () for info in manifest.documents.values())
    load_index(older, check_corpus=False)
    raw["documents"][next(iter(raw["documents"]))]["title"] = "Another title"  # an edit is still caught
    (older / "manifest.json").write_text(json.dumps(raw, indent=2, ensure_ascii=False))
    with pytest.raises(CorruptIndex, match="does not match its own checksum"):
        read_manifest(older)


def test_a_tampered_index_file_is_caught_on_load_and_by_verify(tmp_path, embedder):
    from rag.index import verify_index

    corpus, index = small_corpus(tmp_path)
    build_index(corpus, index, embedder=embedder, progress=False)
    manifest = json.loads((index / "manifest.json").read_text())
    assert {"paragraphs.jsonl", "paragraphs.npy", "bm25/params.index.json"} <= set(manifest["files"])
    assert verify_index(index).files == manifest["files"]
    lines = (index / "paragraphs.jsonl").read_text(encoding="utf-8")
    forged = lines.replace("It adopted a plan on water.", "It adopted a plan on waste.")  # same size
    (index / "paragraphs.jsonl").write_text(forged, encoding="utf-8")
    with pytest.raises(CorruptIndex, match="paragraphs.jsonl does not match its hash"):
        load_index(index)
    with pytest.raises(CorruptIndex, match="paragraphs.jsonl"):
        verify_index(index)
    (index / "paragraphs.jsonl").write_text(lines + "\n", encoding="utf-8")
    with pytest.raises(CorruptIndex, match="bytes, the manifest says"):
        load_index(index)


def test_loading_trusts_an_untouched_file_and_catches_a_same_size_edit_with_its_time_put_back(
    tmp_path, embedder, monkeypatch
):
    """A corpus file whose size, times and inode are those recorded is not hashed again at
    load; an edit that keeps the size and puts the modification time back still shows in the
    change time, and the index is stale."""
    import os
    import time

    import rag.index.files as ix

    corpus, index = small_corpus(tmp_path)
    old = time.time_ns() - 10**10  # files written "10 s ago": past the 2 s a coarse clock needs
    for path in corpus.iterdir():
        os.utime(path, ns=(old, old))
    build_index(corpus, index, embedder=embedder, progress=False)
    assert all(info.stat is not None for info in load_index(index).manifest.documents.values())
    hashed = []
    real = ix.file_sha256
    monkeypatch.setattr(ix, "file_sha256", lambda path: hashed.append(path.name) or real(path))
    load_index(index, corpus=corpus)
    assert hashed == []
    alpha = corpus / "alpha.md"
    before = alpha.stat()
    alpha.write_text(alpha.read_text().replace("Geneva", "Lisbon"), encoding="utf-8")  # same size
    os.utime(alpha, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert alpha.stat().st_size == before.st_size and alpha.stat().st_mtime_ns == before.st_mtime_ns
    with pytest.raises(StaleIndex, match="alpha.md changed"):
        load_index(index, corpus=corpus)
    assert hashed == ["alpha.md"]


def test_loads_while_builds_swap_the_index_read_one_whole_index(tmp_path, embedder):
    """A process that loads the index while builds swap it in and out reads one complete index
    every time: no false "damaged" error, and the paragraphs always those of the manifest read."""
    import threading

    corpus, index = tmp_path / "corpus", tmp_path / "index"
    for i in range(4):
        write(corpus / f"d{i}.md", f"# D{i}\n\n1. Document {i} says the committee met {i} times.\n\n2. Text {i}.\n")
    build_index(corpus, index, embedder=embedder, progress=False)
    load_index(index, check_corpus=False)  # every module imported before the threads start
    done = threading.Event()
    errors: list[BaseException] = []

    def rebuild() -> None:
        try:
            for round_ in range(12):  # a fifth document comes and goes: two different indexes
                extra = corpus / "extra.md"
                if round_ % 2 == 0:
                    write(extra, "# Extra\n\n1. An extra document with three paragraphs.\n\n2. Two.\n\n3. Three.\n")
                else:
                    extra.unlink()
                build_index(corpus, index, embedder=embedder, progress=False)
        except BaseException as exc:  # noqa: BLE001 - the test reports any
            errors.append(exc)
        finally:
            done.set()

    builder = threading.Thread(target=rebuild)
    builder.start()
    loads = 0
    while not done.is_set():
        data = load_index(index, check_corpus=False)
        assert (
            len(data.paragraphs)
            == data.manifest.paragraphs
            == sum(d.paragraphs for d in data.manifest.documents.values())
        )
        assert {p.doc_id for p in data.paragraphs} == set(data.manifest.documents)
        loads += 1
    builder.join()
    assert errors == [] and loads > 10


def test_a_large_index_file_is_checked_by_sampled_blocks_on_load(tmp_path, embedder, monkeypatch):
    """Files above the load-time hashing limit are checked by 16 sampled blocks on every load
    (their first and last included) and whole by `rag index --verify`."""
    import rag.hashing
    import rag.index.files
    from rag.errors import CorruptIndex
    from rag.index import verify_index

    monkeypatch.setattr(rag.index.files, "HASH_ON_LOAD_BYTES", 1024)  # the vector files count as large here
    monkeypatch.setattr(rag.hashing, "SAMPLE_BLOCK_BYTES", 64)  # and their sampled blocks leave gaps
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    write(
        corpus / "a.md",
        "# A\n\n" + "".join(f"{i}. The committee met in Geneva for the {i}th time.\n\n" for i in range(1, 60)),
    )
    build_index(corpus, index, embedder=embedder, progress=False)
    vectors = index / "sentences_vectors.npy"
    meta = load_index(index).manifest.files["sentences_vectors.npy"]
    assert meta["bytes"] > 1024 and "sampled_sha256" in meta
    original = vectors.read_bytes()
    for at in (len(original) - 1, len(original) // 2 + 100):  # the last block; a byte between sampled blocks
        damaged = bytearray(original)
        damaged[at] ^= 0x80  # a sign flipped
        vectors.write_bytes(bytes(damaged))
        if at == len(original) - 1:
            with pytest.raises(CorruptIndex, match="does not match its hash"):
                load_index(index)
        else:
            load_index(index)  # not among the sampled blocks: only the whole hash sees it
        with pytest.raises(CorruptIndex, match="does not match its hash"):
            verify_index(index)
