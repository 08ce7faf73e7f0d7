"""Build an index folder from a corpus, re-embedding only the documents that changed.

The whole build is described by one `BuildSettings` (model, windows, file size limit, when to add
an approximate search index); the manifest stores it whole, so every rebuild of an index is
`build_index(corpus, index, manifest.build)`.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from rag.cite.documents import short_title_of
from rag.encode.embedding import Embedder
from rag.errors import BadSetting, CorruptIndex, EmptyCorpus, IndexMissing, StaleIndex, UnreadableDocument
from rag.index.ann import ANN_FILE, build_ann
from rag.index.checkpoints import Checkpoints, Part, doc_part, embed_documents, write_vectors
from rag.index.data import IndexData
from rag.index.files import bytes_sha256, file_record, stat_key
from rag.index.folder import build_lock, check_index_folder, write_atomically
from rag.index.load import load_index, read_manifest
from rag.index.manifest import MANIFEST, Manifest, pipeline_fingerprint
from rag.index.store import write_paragraphs
from rag.readers import corpus_files, ignored_files, read_document
from rag.settings import BuildSettings
from rag.text.outside import left_out_lines
from rag.text.paragraphs import split_paragraphs
from rag.text.sentences import split_sentences
from rag.text.terms import terms
from rag.types import Document, DocumentInfo, Paragraph

log = logging.getLogger(__name__)


def build_index(
    corpus: str | Path = "corpus",
    index_dir: str | Path = "index",
    build: BuildSettings = BuildSettings(),
    *,
    embedder: Embedder | None = None,
    progress: bool = True,
) -> Manifest:
    """Index every document of `corpus` into `index_dir`, re-embedding only changed documents.
    Beyond `build.ann_threshold` paragraph windows, they also get an approximate search index.
    Files that cannot be indexed (unreadable, too large, empty, a duplicate, a link out of the
    corpus, not a document) are listed with the reason in the manifest's `skipped`. Builds of one
    index run one at a time (`build_lock`). An `embedder` given encodes the texts: its model is
    the one the manifest records, and it must cut text into the windows the build asks for.

    Raises:
        EmptyCorpus, DuplicateDocument, UnreadableDocument: the corpus cannot be indexed;
            the existing index is left as it was.
    """
    if embedder is not None:
        if embedder.window != build.window:
            raise BadSetting(
                f"the embedder cuts text into windows of {embedder.window.tokens} tokens "
                f"({embedder.window.overlap} overlapping), the build asks for {build.window.tokens} "
                f"({build.window.overlap}); give it the build's windows"
            )
        build = replace(build, model=embedder.name)
    check_index_folder(Path(index_dir), Path(corpus))  # before the lock file is made beside it
    with build_lock(Path(index_dir)):
        return _build_index(Path(corpus), Path(index_dir), build, embedder, progress)


@dataclass
class _Read:
    """The corpus as read: the documents to index, the files skipped with why, and the state
    (size, times, inode) of each document's file when it was read."""

    documents: list[Document]
    skipped: dict[str, dict[str, str]]
    stats: dict[str, tuple[int, ...] | None]


def _read_corpus(corpus: Path, index_dir: Path, max_file_mb: float) -> _Read:
    read = _Read([], {}, {})
    root = corpus.resolve()
    seen: dict[str, str] = {}  # sha256 of a document's content -> its file
    try:  # of two files with the same content, the one already indexed stays
        indexed = {i.sha256: i.file for i in read_manifest(index_dir).documents.values()}
    except (IndexMissing, CorruptIndex):
        indexed = {}
    for doc_id, path in corpus_files(corpus):
        rel = path.relative_to(corpus).as_posix()
        try:
            if path.is_symlink() and root not in path.resolve().parents:
                raise UnreadableDocument(
                    f"{rel}: a link to a file outside the corpus folder; copy the file in if it should be indexed"
                )
            st = path.stat()  # before the file is read: a later change shows in its times
            size = st.st_size
            read.stats[doc_id] = stat_key(st)
            if size > max_file_mb * 1024 * 1024:
                raise UnreadableDocument(
                    f"{rel}: is {size / 1024 / 1024:.1f} MB; the limit is {max_file_mb:g} MB (rag index --max-file-mb)"
                )
            doc = read_document(path, doc_id=doc_id, root=corpus)
            if not any(line.strip() for line in doc.lines):
                raise UnreadableDocument(f"{rel}: is empty (no text to index)")
            keeper = indexed.get(doc.sha256)
            if keeper is not None and keeper != rel and (corpus / keeper).is_file():
                raise UnreadableDocument(f"{rel}: has the same content as {keeper}; indexed once")
            if doc.sha256 in seen:
                raise UnreadableDocument(f"{rel}: has the same content as {seen[doc.sha256]}; indexed once")
            seen[doc.sha256] = rel
            read.documents.append(doc)
        except UnreadableDocument as exc:
            # One bad file does not stop the others; it is named in the manifest and the log.
            log.warning("skipped %s", exc)
            read.skipped[rel] = {"sha256": bytes_sha256(path), "reason": str(exc)}
    for rel, why in ignored_files(corpus).items():
        read.skipped.setdefault(rel, {"sha256": "", "reason": f"{rel}: {why}"})
    return read


def _corpus_ref(corpus: Path, index_dir: Path) -> str:
    try:
        return os.path.relpath(corpus.resolve(), index_dir.resolve())
    except ValueError:
        return str(corpus.resolve())


def _reusable(index_dir: Path, build: BuildSettings) -> IndexData | None:
    """The index already there, when its vectors can be reused (same model, same windows)."""
    try:
        old = load_index(index_dir, check_corpus=False)
    except (IndexMissing, StaleIndex, CorruptIndex) as exc:
        log.debug("not reusing %s: %s", index_dir, exc)
        return None
    if old.manifest.build.model != build.model or old.manifest.build.window != build.window:
        return None
    return old


def _parts(
    documents: list[Document],
    old: IndexData | None,
    checkpoints: Checkpoints,
    embedder: Callable[[], Embedder],
    progress: bool,
) -> dict[str, Part]:
    """Each document's part: from the old index (unchanged), from a checkpoint of a build that was
    stopped, or embedded now (`embedder` is called only if a document needs it)."""
    parts: dict[str, Part] = {}
    todo: list[tuple[str, list[Paragraph], np.ndarray]] = []
    for doc in documents:
        prev = old.manifest.documents.get(doc.doc_id) if old else None
        if old is not None and prev is not None and prev.sha256 == doc.sha256:
            log.info("%s unchanged: reusing its vectors", doc.path)
            parts[doc.doc_id] = doc_part(old, doc.doc_id)
            continue
        saved = checkpoints.load(doc.doc_id, doc.sha256)
        if saved is not None:
            log.info("%s: vectors from the stopped build's checkpoint", doc.path)
            parts[doc.doc_id] = saved
            continue
        paras = split_paragraphs(doc)
        if not paras:
            log.warning("%s has no text to index", doc.path)
        rows = [(i, s.start, s.end) for i, p in enumerate(paras) for s in split_sentences(p.text)]
        todo.append((doc.doc_id, paras, np.asarray(rows, dtype=np.int32).reshape(-1, 3)))
    if todo:
        embed_documents(todo, embedder(), parts, checkpoints, {d.doc_id: d.sha256 for d in documents}, progress)
    return parts


@dataclass
class _Assembled:
    """The small arrays of the whole index, in the corpus's order (the vectors stay in the parts)."""

    paragraphs: list[Paragraph]
    window_owner: np.ndarray
    sentences: np.ndarray
    sentence_window_owner: np.ndarray
    infos: dict[str, DocumentInfo]


def _assemble(read: _Read, parts: dict[str, Part], old: IndexData | None) -> _Assembled:
    paragraphs: list[Paragraph] = []
    owners: list[np.ndarray] = []
    sentence_rows: list[np.ndarray] = []
    sentence_owners: list[np.ndarray] = []
    infos: dict[str, DocumentInfo] = {}
    sentence_total = 0
    for doc in read.documents:
        part = parts[doc.doc_id]
        base = len(paragraphs)
        owners.append(part.window_owner + base)
        shifted = np.array(part.sentences, dtype=np.int32).reshape(-1, 3)
        shifted[:, 0] += base
        sentence_rows.append(shifted)
        sentence_owners.append(part.sentence_window_owner + sentence_total)
        sentence_total += len(shifted)
        paragraphs.extend(part.paragraphs)
        infos[doc.doc_id] = DocumentInfo(
            doc_id=doc.doc_id,
            file=doc.path,
            sha256=doc.sha256,
            paragraphs=len(part.paragraphs),
            title=doc.title,
            date=doc.date,
            symbol=doc.symbol,
            numbered=all(p.numbered_by_source for p in part.paragraphs) if part.paragraphs else False,
            pages=max(doc.pages, default=0),
            format=doc.kind,
            short_title=short_title_of(doc.short_title) or short_title_of(doc.title),
            stat=read.stats.get(doc.doc_id),
            ocr_pages=doc.ocr_pages,
            left_out=_left_out(doc, part, old),
        )
    return _Assembled(
        paragraphs,
        np.concatenate(owners).astype(np.int32),
        np.concatenate(sentence_rows).astype(np.int32),
        np.concatenate(sentence_owners).astype(np.int32),
        infos,
    )


def _left_out(doc: Document, part: Part, old: IndexData | None) -> tuple[int, ...]:
    """The document's lines left out on purpose: as the old index recorded them when the document
    is unchanged (the same splitter made it: an index of another is not reused), else found now."""
    prev = old.manifest.documents.get(doc.doc_id) if old is not None else None
    if prev is not None and prev.sha256 == doc.sha256:
        return prev.left_out
    return left_out_lines(doc, part.paragraphs)


def _term_index(paragraphs: list[Paragraph]) -> Any:
    """BM25 over each paragraph's text and the heading it stands under."""
    import bm25s

    bm25 = bm25s.BM25()
    texts = [terms(" ".join(p.section[-1:]) + " " + p.text) for p in paragraphs]
    # The vocabulary in sorted order (bm25s would order it by a set's, which changes from process to
    # process): the same corpus gives the same files.
    vocab = {t: i for i, t in enumerate(sorted({t for text in texts for t in text}))}
    bm25.index(([[vocab[t] for t in text] for text in texts], vocab), show_progress=False)
    return bm25


def _build_index(
    corpus: Path, index_dir: Path, build: BuildSettings, embedder: Embedder | None, progress: bool
) -> Manifest:
    started = time.perf_counter()
    check_index_folder(index_dir, corpus)
    read = _read_corpus(corpus, index_dir, build.max_file_mb)
    if not read.documents:
        raise EmptyCorpus(
            f"no document of {corpus} could be read: " + "; ".join(v["reason"] for v in read.skipped.values())
        )
    old = _reusable(index_dir, build) if index_dir.exists() else None

    def get_embedder() -> Embedder:
        nonlocal embedder
        if embedder is None:  # ONNX Runtime for mean-pooling models
            embedder = Embedder(build.model, threads=None, window=build.window)
        return embedder

    checkpoints = Checkpoints(index_dir, build.model, build.window)
    parts = _parts(read.documents, old, checkpoints, get_embedder, progress)
    whole = _assemble(read, parts, old)
    if embedder is None and old is not None:
        dim, max_tokens = old.manifest.dimension, old.manifest.max_seq_length
    else:
        dim, max_tokens = get_embedder().dimension, get_embedder().max_tokens
    bm25 = _term_index(whole.paragraphs)
    manifest = Manifest(
        build=build,
        dimension=dim,
        max_seq_length=max_tokens,
        documents=whole.infos,  # type: ignore[arg-type]  # made a Documents table by the manifest
        corpus=_corpus_ref(corpus, index_dir),
        paragraphs=len(whole.paragraphs),
        sentences=len(whole.sentences),
        windows=len(whole.window_owner),
        pipeline=pipeline_fingerprint(),
        skipped=read.skipped,
        created=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        build_seconds=round(time.perf_counter() - started, 3),
    )

    def write(tmp: Path) -> None:
        write_paragraphs(tmp, whole.paragraphs)
        np.save(tmp / "windows.npy", whole.window_owner, allow_pickle=False)
        np.save(tmp / "sentences.npy", whole.sentences, allow_pickle=False)
        np.save(tmp / "sentence_windows.npy", whole.sentence_window_owner, allow_pickle=False)
        window_vectors, _ = write_vectors(
            tmp,
            [parts[doc.doc_id] for doc in read.documents],
            dim,
            len(whole.window_owner),
            len(whole.sentence_window_owner),
        )
        bm25.save(str(tmp / "bm25"), show_progress=False)
        if len(window_vectors) > build.ann_threshold:
            import faiss

            log.info("building the approximate search index of %d window vectors", len(window_vectors))
            faiss.write_index(build_ann(window_vectors), str(tmp / ANN_FILE))
        # Every file's size and hash go into the manifest, written last.
        files = {
            path.relative_to(tmp).as_posix(): file_record(path) for path in sorted(tmp.rglob("*")) if path.is_file()
        }
        (tmp / MANIFEST).write_text(replace(manifest, files=files).sealed().to_json(), encoding="utf-8")

    write_atomically(index_dir, write)
    checkpoints.clear()
    log.debug(  # `rag index` prints the summary; this is for library callers who log
        "indexed %d documents, %d paragraphs, %d sentences in %.1f s",
        len(whole.infos),
        len(whole.paragraphs),
        len(whole.sentences),
        manifest.build_seconds,
    )
    return manifest
