from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from conftest import BUNDLED, DOC, ROOT, write

from rag.assistant import Assistant
from rag.embedding import Embedder
from rag.errors import CorruptIndex, EmptyCorpus, IndexMissing, StaleIndex, UnsafeIndexFolder
from rag.index import build_index, load_index, read_manifest, write_atomically


class CountingEmbedder(Embedder):
    """The real model, counting the texts it is asked to encode."""

    def __init__(self, base: Embedder) -> None:  # share the loaded model
        self.__dict__.update(base.__dict__)
        self.encoded = 0

    def encode(self, texts, *, progress=False):
        self.encoded += len(texts)
        return super().encode(texts, progress=progress)


def small_corpus(tmp_path):
    write(
        tmp_path / "corpus" / "alpha.md",
        "# Alpha\n\n1. The alpha group met in Geneva in May.\n2. It adopted a plan on water.\n",
    )
    write(
        tmp_path / "corpus" / "beta.txt",
        "The beta committee discussed railway safety.\n\nIt recommended new signals for level crossings.\n",
    )
    return tmp_path / "corpus", tmp_path / "index"


def test_manifest_records_model_windows_and_hashes(bundled_index):
    manifest = json.loads((bundled_index / "manifest.json").read_text())
    assert manifest["format_version"] == 5 and len(manifest["checksum"]) == 64
    assert manifest["model"] == "all-MiniLM-L6-v2"
    assert manifest["dimension"] == 384
    assert manifest["window"] == {"tokens": 200, "overlap": 48}
    doc = manifest["documents"][DOC]
    assert doc["paragraphs"] == 60 and len(doc["sha256"]) == 64
    assert doc["file"] == "cybercrime-expert-group-2017.md"


def test_faiss_search_agrees_with_numpy(assistant, embedder):
    from rag.retrieval import Retriever

    data = assistant.data
    dense_only = Retriever(data, lexical_weight=0.0)
    for question in (
        "Which government provided extrabudgetary resources?",
        "Who opened the meeting?",
        "What did speakers say about the Budapest Convention?",
    ):
        q = embedder.encode_query(question)
        hits = dense_only.search(q, [], k=5).hits
        windows = data.window_vectors @ q
        sentences = data.sentence_vectors @ q
        brute = np.zeros(len(data.paragraphs))
        np.maximum.at(brute, data.window_owner, windows)
        np.maximum.at(brute, data.sentences[data.sentence_window_owner, 0], sentences)
        expected = np.argsort(-brute)[:5]
        assert [h.paragraph.number for h in hits] == [data.paragraphs[i].number for i in expected]
        np.testing.assert_allclose([h.score for h in hits], brute[expected], atol=1e-5)
        row = int(expected[0])
        assert np.isclose(data.paragraph_cosine(row, q), windows[data.window_owner == row].max(), atol=1e-6)


def test_document_filter_matches_an_index_of_that_document_alone(tmp_path, embedder):
    from rag.retrieval import Retriever

    corpus, index = small_corpus(tmp_path)
    build_index(corpus, index, embedder=embedder, progress=False)
    shutil.copytree(corpus, tmp_path / "alone")
    (tmp_path / "alone" / "beta.txt").unlink()
    build_index(tmp_path / "alone", tmp_path / "alone-index", embedder=embedder, progress=False)
    q = embedder.encode_query("Where did the group meet?")
    filtered = Retriever(load_index(index)).search(q, ["group", "meet"], k=2, doc_id="alpha").hits
    alone = Retriever(load_index(tmp_path / "alone-index")).search(q, ["group", "meet"], k=2).hits
    assert [(h.paragraph.doc_id, h.paragraph.number) for h in filtered] == [
        (h.paragraph.doc_id, h.paragraph.number) for h in alone
    ]


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


def test_bundled_corpus_is_where_the_readme_says(tmp_path):
    assert (BUNDLED / "cybercrime-expert-group-2017.md").is_file()


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
        "import sys, time, rag.index as ix\n"
        "from rag.embedding import Embedder\n"
        "ix.GROUP_TEXTS = 1\n"  # one document per call, so one checkpoint per document
        "slow = Embedder.encode_windows\n"
        "def encode_windows(self, texts, **kw):\n"
        "    out = slow(self, texts, **kw); time.sleep(0.7); return out\n"
        "Embedder.encode_windows = encode_windows\n"
        f"ix.build_index({str(corpus)!r}, {str(index)!r}, progress=False)\n"
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
    from rag.index import _Checkpoints, _doc_part
    from rag.readers import read_document
    from rag.settings import WindowSettings

    corpus, index = small_corpus(tmp_path)
    clean = tmp_path / "clean"
    build_index(corpus, clean, embedder=embedder, progress=False)
    fresh = load_index(clean)
    doc = read_document(corpus / "alpha.md", root=corpus)
    part = _doc_part(fresh, doc.doc_id)
    wv, sv = part.vectors()
    _Checkpoints(index, embedder.name, WindowSettings()).save(doc.doc_id, doc.sha256, part, wv[:-1], sv)

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
    manifest = build_index(corpus, index, embedder=embedder, progress=False, max_file_mb=1)
    reasons = {name: v["reason"] for name, v in manifest.skipped.items()}
    assert set(manifest.documents) == {"alpha", "beta"}
    assert "same content as alpha.md" in reasons["copy-of-alpha.md"]
    assert "is empty" in reasons["blank.md"]
    assert "MB; the limit is 1 MB" in reasons["huge.txt"]
    assert "hidden" in reasons[".draft.md"] and "does not exist" in reasons["gone.md"]
    assert "not a regular file" in reasons["pipe.md"] and "no reader for .odt" in reasons["notes.odt"]
    assert "links to folders are not followed" in reasons["linked"]
    load_index(index)  # nothing of that makes the index stale


def test_a_large_index_carries_an_approximate_search_index_that_finds_what_exact_search_finds(
    tmp_path, embedder, bundled_index
):
    from conftest import bundled_copy

    from rag.retrieval import Retriever

    corpus = bundled_copy(tmp_path / "corpus")
    build_index(corpus, tmp_path / "ann", embedder=embedder, progress=False, ann_threshold=50)
    data = load_index(tmp_path / "ann")
    assert data.window_ann is not None and "paragraphs.ivf" in data.manifest.files  # 60 windows > 50
    # 189 sentences > 50: no index of them; only the sentences of the paragraphs found are scored.
    assert "sentences.ivf" not in data.manifest.files and Retriever(data)._sentences is None
    assert load_index(bundled_index).window_ann is None  # below the threshold: exact search only
    approx, exact = Assistant(data, embedder), Assistant(load_index(bundled_index), embedder)
    questions = [json.loads(line)["question"] for line in (ROOT / "eval" / "dev.jsonl").open()][:40]
    same = sum(approx.ask(q).hits[0].paragraph.number == exact.ask(q).hits[0].paragraph.number for q in questions)
    assert same >= 38  # 8-bit codes move a near tie now and then, nothing more
    only = approx.ask("What is agenda item 6?", doc_id=DOC)
    assert only.hits and all(h.paragraph.doc_id == DOC for h in only.hits)
    # A damaged approximate index is refused like any other index file.
    path = tmp_path / "ann" / "paragraphs.ivf"
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(CorruptIndex, match="paragraphs.ivf"):
        load_index(tmp_path / "ann")


def test_the_sentences_of_some_paragraphs_are_found_by_binary_search(bundled_index):
    data = load_index(bundled_index)
    rng = np.random.default_rng(0)
    for _ in range(20):
        rows = rng.integers(0, len(data.paragraphs), 6).tolist()
        np.testing.assert_array_equal(data.sentences_of(rows), np.flatnonzero(np.isin(data.sentences[:, 0], rows)))
    assert data.sentences_of([]).shape == (0,)


def test_each_documents_windows_are_found_by_binary_search(tmp_path, embedder):
    from rag.retrieval import Retriever

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
    from rag.paragraphs import split_paragraphs
    from rag.readers import read_corpus
    from rag.store import ParagraphStore

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
    from rag.store import OFFSETS, ParagraphStore

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
    from rag.store import ParagraphStore, write_paragraphs
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
    from rag.store import RELEASE_ROWS, VectorFile

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


def test_loading_trusts_an_untouched_file_and_catches_a_same_size_edit_with_its_time_put_back(
    tmp_path, embedder, monkeypatch
):
    """A corpus file whose size, times and inode are those recorded is not hashed again at
    load; an edit that keeps the size and puts the modification time back still shows in the
    change time, and the index is stale."""
    import os
    import time

    import rag.index as ix

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


def test_the_onnx_encoder_runs_a_model_without_segment_ids(tmp_path):
    """MPNet (all-mpnet-base-v2's architecture) takes no token_type_ids: the ONNX export and the
    encoder feed it only what it takes, and give sentence-transformers' vectors."""
    import json

    import torch
    from transformers import MPNetConfig, MPNetModel

    from rag.embedding import resolve_model

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


def test_a_damaged_query_adapter_is_one_clear_error(tmp_path):
    """The shipped adapter's matrix is checked against the hash its record gives."""
    from rag.adapter import DEFAULT_ADAPTER, QueryAdapter
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


def test_two_builds_of_one_corpus_write_the_same_files(tmp_path):
    """The term index's vocabulary is sorted, not in a set's order, which changes from process to
    process (PYTHONHASHSEED): every file but the manifest (its build time) is the same."""
    import os
    import subprocess
    import sys

    from conftest import ROOT, bundled_copy

    bundled_copy(tmp_path / "corpus")
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        cmd = [
            sys.executable,
            "-m",
            "rag.cli",
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
    import rag.index
    from rag.errors import CorruptIndex
    from rag.index import verify_index

    monkeypatch.setattr(rag.index, "HASH_ON_LOAD_BYTES", 1024)  # the vector files count as large here
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
