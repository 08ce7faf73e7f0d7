"""Building an index: what the manifest records, incremental and resumable builds, the atomic swap, files refused by name."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import BUNDLED, DOC, ROOT, small_corpus, write

from rag.encode.embedding import Embedder
from rag.errors import EmptyCorpus, StaleIndex, UnsafeIndexFolder
from rag.index import build_index, load_index, read_manifest, write_atomically
from rag.settings import BuildSettings


class CountingEmbedder(Embedder):
    """The real model, counting the texts it is asked to encode."""

    def __init__(self, base: Embedder) -> None:  # share the loaded model
        self.__dict__.update(base.__dict__)
        self.encoded = 0

    def encode(self, texts, *, progress=False):
        self.encoded += len(texts)
        return super().encode(texts, progress=progress)


def test_manifest_records_model_windows_and_hashes(bundled_index):
    manifest = json.loads((bundled_index / "manifest.json").read_text())
    assert manifest["format_version"] == 6 and len(manifest["checksum"]) == 64
    # The build settings, whole: what every rebuild passes on.
    assert manifest["build"] == {
        "model": "all-MiniLM-L6-v2",
        "window": {"tokens": 200, "overlap": 48},
        "max_file_mb": 20.0,
        "ann_threshold": 100_000,
    }
    assert manifest["dimension"] == 384
    doc = manifest["documents"][DOC]
    assert doc["paragraphs"] == 60 and len(doc["sha256"]) == 64
    assert doc["file"] == "cybercrime-expert-group-2017.md"


def test_incremental_rebuild_embeds_only_the_changed_document(tmp_path, embedder):
    corpus, index = small_corpus(tmp_path)
    counting = CountingEmbedder(embedder)
    build_index(corpus, index, embedder=counting, progress=False)
    first = counting.encoded
    assert first > 0
    counting.encoded = 0
    build_index(corpus, index, embedder=counting, progress=False)
    assert counting.encoded == 0  # nothing changed, nothing embedded
    write(corpus / "beta.txt", "The beta committee discussed railway safety.\n\nIt closed the old depot.\n")
    build_index(corpus, index, embedder=counting, progress=False)
    assert 0 < counting.encoded < first  # beta only: 2 one-sentence paragraphs, each encoded once
    assert counting.encoded == 2
    fresh = tmp_path / "fresh"
    build_index(corpus, fresh, embedder=embedder, progress=False)
    a, b = load_index(index), load_index(fresh)
    assert [p.text for p in a.paragraphs] == [p.text for p in b.paragraphs]
    np.testing.assert_allclose(a.window_vectors, b.window_vectors, atol=1e-5)
    np.testing.assert_array_equal(a.sentences, b.sentences)
    np.testing.assert_allclose(a.sentence_vectors, b.sentence_vectors, atol=1e-5)


def test_a_failed_write_leaves_the_old_index_intact(tmp_path, bundled_index):
    target = tmp_path / "index"
    shutil.copytree(bundled_index, target)
    before = (target / "manifest.json").read_text()

    def crash(tmp):
        (tmp / "manifest.json").write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_atomically(target, crash)
    assert (target / "manifest.json").read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["index"]  # no temporary folder left behind


def test_bad_corpus_does_not_touch_the_index(tmp_path, embedder):
    corpus, index = small_corpus(tmp_path)
    build_index(corpus, index, embedder=embedder, progress=False)
    before = (index / "manifest.json").read_text()
    solo = tmp_path / "solo"
    solo.mkdir()
    (solo / "bad.md").write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(EmptyCorpus, match="bad.md"):  # nothing readable: the index is kept
        build_index(solo, index, embedder=embedder, progress=False)
    assert (index / "manifest.json").read_text() == before
    with pytest.raises(EmptyCorpus):
        build_index(tmp_path / "missing", index, embedder=embedder, progress=False)
    assert (index / "manifest.json").read_text() == before


def test_an_unreadable_file_is_skipped_named_and_the_rest_indexed(tmp_path, embedder):
    corpus, index = small_corpus(tmp_path)
    (corpus / "bad.md").write_bytes(b"\xff\xfe\x00bad")
    (corpus / "fake.pdf").write_bytes(b"this is no PDF")
    manifest = build_index(corpus, index, embedder=embedder, progress=False)
    assert set(manifest.documents) == {"alpha", "beta"}
    assert set(manifest.skipped) == {"bad.md", "fake.pdf"}
    assert "not a PDF" in manifest.skipped["fake.pdf"]["reason"]
    load_index(index)  # the skipped files, unchanged, do not make the index stale
    (corpus / "fake.pdf").write_bytes(b"still no PDF")
    with pytest.raises(StaleIndex, match="fake.pdf"):
        load_index(index)


def test_bundled_corpus_is_where_the_readme_says(tmp_path):
    assert (BUNDLED / "cybercrime-expert-group-2017.md").is_file()


def test_a_folder_that_is_not_an_index_is_never_replaced(tmp_path, embedder):
    corpus, _ = small_corpus(tmp_path)
    mine = tmp_path / "mydocs"
    write(mine / "thesis.md", "My thesis, not an index.")
    with pytest.raises(UnsafeIndexFolder, match="not an index"):
        build_index(corpus, mine, embedder=embedder, progress=False)
    assert (mine / "thesis.md").read_text() == "My thesis, not an index."
    for index in (corpus, corpus / "index", tmp_path):  # the corpus itself, inside it, above it
        with pytest.raises(UnsafeIndexFolder, match="overlap"):
            build_index(corpus, index, embedder=embedder, progress=False)
    assert sorted(p.name for p in corpus.iterdir()) == ["alpha.md", "beta.txt"]
    build_index(corpus, tmp_path / "empty-dir", embedder=embedder, progress=False)  # new: fine
    (tmp_path / "empty").mkdir()
    build_index(corpus, tmp_path / "empty", embedder=embedder, progress=False)  # empty: fine


def test_a_kill_between_the_two_renames_leaves_the_old_index_and_strays_are_cleaned(tmp_path, embedder):
    corpus, index = small_corpus(tmp_path)
    build_index(corpus, index, embedder=embedder, progress=False)
    # what a kill leaves after the first rename of a swap, and a killed build's temporary folder
    index.rename(tmp_path / ".index-old")
    (tmp_path / ".index-tmp-dead").mkdir()
    (tmp_path / ".index-tmp-dead" / "paragraphs.npy").write_bytes(b"half")
    assert len(load_index(index).paragraphs) == 4  # reading finds the old index beside
    build_index(corpus, index, embedder=embedder, progress=False)
    assert (index / "manifest.json").is_file()
    assert not (tmp_path / ".index-old").exists() and not (tmp_path / ".index-tmp-dead").exists()


def test_a_killed_build_resumes_from_its_checkpoints(tmp_path, embedder):
    """A build killed (SIGKILL) after some documents were embedded: the next build embeds only
    the others, and gives the same index as a build that was never stopped."""
    import signal
    import subprocess
    import sys
    import time

    corpus = tmp_path / "corpus"
    topics = ["water", "rail", "ports", "forests", "schools", "roads", "power", "health"]
    for i, topic in enumerate(topics):
        write(
            corpus / f"doc{i}.md",
            f"# Report on {topic}\n\n1. The committee on {topic} met in spring.\n"
            f"2. It adopted a plan on {topic} for the next five years.\n",
        )
    index = tmp_path / "index"
    child = (
        "import sys, time, rag.index.checkpoints as ck\nfrom rag.index import build_index\n"
        "from rag.encode.embedding import Embedder\n"
        "ck.GROUP_TEXTS = 1\n"  # one document per call, so one checkpoint per document
        "slow = Embedder.encode_windows\n"
        "def encode_windows(self, texts, **kw):\n"
        "    out = slow(self, texts, **kw); time.sleep(0.7); return out\n"
        "Embedder.encode_windows = encode_windows\n"
        f"build_index({str(corpus)!r}, {str(index)!r}, progress=False)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", child])
    checkpoints = tmp_path / ".index-build"
    deadline = time.time() + 120
    while len(list(checkpoints.glob("*.npz"))) < 3 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    saved = len(list(checkpoints.glob("*.npz")))
    assert 3 <= saved < len(topics) and not (index / "manifest.json").exists()

    counting = CountingEmbedder(embedder)
    build_index(corpus, index, embedder=counting, progress=False)
    per_doc = 2  # two one-sentence paragraphs each: a paragraph and its sentence are encoded once
    assert counting.encoded == (len(topics) - saved) * per_doc
    assert not checkpoints.exists()  # cleared once the index is written
    resumed = load_index(index)
    clean = tmp_path / "clean"
    build_index(corpus, clean, embedder=embedder, progress=False)
    fresh = load_index(clean)
    assert list(resumed.paragraphs) == list(fresh.paragraphs)
    assert np.allclose(resumed.window_vectors, fresh.window_vectors, atol=1e-5)
    assert np.array_equal(resumed.sentences, fresh.sentences)


def test_a_checkpoint_whose_vectors_do_not_fit_is_embedded_again(tmp_path, embedder, caplog):
    """A checkpoint that a full disk or a bad copy left with too few vectors is ignored with a
    warning; its document is embedded again and the index is the same as a clean build's."""
    from rag.index.checkpoints import Checkpoints, doc_part
    from rag.readers import read_document
    from rag.settings import WindowSettings

    corpus, index = small_corpus(tmp_path)
    clean = tmp_path / "clean"
    build_index(corpus, clean, embedder=embedder, progress=False)
    fresh = load_index(clean)
    doc = read_document(corpus / "alpha.md", root=corpus)
    part = doc_part(fresh, doc.doc_id)
    wv, sv = part.vectors()
    Checkpoints(index, embedder.name, WindowSettings()).save(doc.doc_id, doc.sha256, part, wv[:-1], sv)

    counting = CountingEmbedder(embedder)
    with caplog.at_level("WARNING", logger="rag.index"):
        build_index(corpus, index, embedder=counting, progress=False)
    assert "ignoring a damaged checkpoint" in caplog.text
    assert counting.encoded > 0
    built = load_index(index)
    assert list(built.paragraphs) == list(fresh.paragraphs)
    assert np.allclose(built.window_vectors, fresh.window_vectors, atol=1e-5)
    assert np.allclose(built.sentence_vectors, fresh.sentence_vectors, atol=1e-5)


def test_a_link_to_a_file_outside_the_corpus_is_refused_by_name(tmp_path, embedder):
    corpus, index = small_corpus(tmp_path)
    secret = write(tmp_path / "outside" / "secret.txt", "The password is swordfish.\n")
    (corpus / "passwd.txt").symlink_to(secret)
    (corpus / "inside.md").symlink_to(corpus / "alpha.md")  # within the corpus: read, and a duplicate
    manifest = build_index(corpus, index, embedder=embedder, progress=False)
    assert "outside the corpus" in manifest.skipped["passwd.txt"]["reason"]
    assert "same content as alpha.md" in manifest.skipped["inside.md"]["reason"]
    assert set(manifest.documents) == {"alpha", "beta"}
    assert all("swordfish" not in p.text for p in load_index(index).paragraphs)


def test_every_file_not_indexed_is_listed_with_its_reason(tmp_path, embedder):
    import os

    corpus, index = small_corpus(tmp_path)
    (corpus / "copy-of-alpha.md").write_bytes((corpus / "alpha.md").read_bytes())
    (corpus / "blank.md").write_text("\n\n   \n", encoding="utf-8")
    (corpus / "huge.txt").write_text("The committee met. " * 80_000, encoding="utf-8")  # about 1.5 MB
    (corpus / ".draft.md").write_text("A hidden draft.", encoding="utf-8")
    (corpus / "gone.md").symlink_to(tmp_path / "nowhere.md")
    os.mkfifo(corpus / "pipe.md")
    (corpus / "notes.odt").write_bytes(b"PK")
    write(tmp_path / "elsewhere" / "gamma.md", "# Gamma\n\n1. A document in a linked folder.\n")
    (corpus / "linked").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    manifest = build_index(corpus, index, BuildSettings(max_file_mb=1), embedder=embedder, progress=False)
    reasons = {name: v["reason"] for name, v in manifest.skipped.items()}
    assert set(manifest.documents) == {"alpha", "beta"}
    assert "same content as alpha.md" in reasons["copy-of-alpha.md"]
    assert "is empty" in reasons["blank.md"]
    assert "MB; the limit is 1 MB" in reasons["huge.txt"]
    assert "hidden" in reasons[".draft.md"] and "does not exist" in reasons["gone.md"]
    assert "not a regular file" in reasons["pipe.md"] and "no reader for .odt" in reasons["notes.odt"]
    assert "links to folders are not followed" in reasons["linked"]
    load_index(index)  # nothing of that makes the index stale


def test_a_folder_the_build_did_not_make_is_never_emptied(tmp_path, embedder):
    """Another program's manifest.json, or a file a user put beside an index, makes the folder one
    the build refuses with one line; nothing in it is deleted."""
    corpus = tmp_path / "corpus"
    write(corpus / "a.md", "# A\n\n1. The committee met in Geneva in May.\n")
    site = tmp_path / "site"
    write(site / "manifest.json", "{}")
    write(site / "data.csv", "x\n")
    with pytest.raises(UnsafeIndexFolder, match="not the manifest of an index built by rag"):
        build_index(corpus, site, embedder=embedder, progress=False)
    assert (site / "data.csv").read_text() == "x\n" and (site / "manifest.json").read_text() == "{}"

    index = tmp_path / "index"
    build_index(corpus, index, embedder=embedder, progress=False)
    write(index / "notes.txt", "mine\n")
    write(index / "sub" / "keep.txt", "mine too\n")
    write(corpus / "b.md", "# B\n\n1. A second document.\n")
    with pytest.raises(UnsafeIndexFolder, match=r"not part of the index \(notes.txt, sub/keep.txt\)"):
        build_index(corpus, index, embedder=embedder, progress=False)
    assert (index / "notes.txt").read_text() == "mine\n" and (index / "sub" / "keep.txt").is_file()
    assert sorted(read_manifest(index).documents) == ["a"]


def test_a_rebuilt_index_keeps_its_folders_mode(tmp_path, embedder):
    import os
    import stat

    corpus = tmp_path / "corpus"
    write(corpus / "a.md", "# A\n\n1. The committee met in Geneva in May.\n")
    index = tmp_path / "index"
    build_index(corpus, index, embedder=embedder, progress=False)
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(index.stat().st_mode) == 0o777 & ~mask
    index.chmod(0o750)
    write(corpus / "b.md", "# B\n\n1. A second document.\n")
    build_index(corpus, index, embedder=embedder, progress=False)
    assert stat.S_IMODE(index.stat().st_mode) == 0o750
    assert sorted(load_index(index).manifest.documents) == ["a", "b"]


def test_two_builds_of_one_index_at_once_both_finish(tmp_path, embedder):
    """Two builds of the same index at the same time (two `rag index`, or an upload and a
    `rag index`): the second waits for the first, neither deletes the other's files, and the
    index holds every document."""
    import threading

    corpus = tmp_path / "corpus"
    for i in range(6):
        write(corpus / f"d{i}.md", f"# D{i}\n\n1. Document {i} says the committee met {i} times in Geneva.\n")
    index = tmp_path / "index"
    errors: list[BaseException] = []

    def build() -> None:
        try:
            build_index(corpus, index, embedder=embedder, progress=False)
        except BaseException as exc:  # noqa: BLE001 - the test reports any
            errors.append(exc)

    threads = [threading.Thread(target=build) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(load_index(index).manifest.documents) == [f"d{i}" for i in range(6)]


def test_two_builds_of_one_corpus_write_the_same_files(tmp_path):
    """The term index's vocabulary is sorted, not in a set's order, which changes from process to
    process (PYTHONHASHSEED): every file but the manifest (its build time) is the same."""
    import os
    import subprocess
    import sys

    from conftest import bundled_copy

    bundled_copy(tmp_path / "corpus")
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        cmd = [
            sys.executable,
            "-m",
            "rag",
            "index",
            "--corpus",
            str(tmp_path / "corpus"),
            "--index",
            str(tmp_path / seed),
            "--quiet",
        ]
        subprocess.run(cmd, env=env, cwd=ROOT, check=True, capture_output=True)
    files = sorted(p.relative_to(tmp_path / "1") for p in (tmp_path / "1").rglob("*") if p.is_file())
    assert any(f.parts[0] == "bm25" for f in files)
    differ = [f for f in files if (tmp_path / "1" / f).read_bytes() != (tmp_path / "2" / f).read_bytes()]
    assert differ == [Path("manifest.json")]
