"""Load an index folder: its manifest, its files checked, its corpus checked, read from one complete index."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from rag.errors import CorruptIndex, IndexMissing, StaleIndex
from rag.index.ann import ANN_FILE
from rag.index.data import IndexData
from rag.index.files import check_corpus_current, check_files
from rag.index.folder import current_folder
from rag.index.manifest import FILES, FORMAT_VERSION, MANIFEST, Manifest, pipeline_fingerprint, text_hash
from rag.index.store import ParagraphStore, VectorFile

log = logging.getLogger(__name__)


def read_manifest(index_dir: str | Path) -> Manifest:
    """Only the manifest of an index folder.

    Raises:
        IndexMissing: there is no manifest.
        CorruptIndex: it cannot be read.
    """
    mpath = current_folder(Path(index_dir)) / MANIFEST
    if not mpath.is_file():
        raise IndexMissing(f"no index at {index_dir} (no {MANIFEST}); run: rag index")
    try:
        raw = json.loads(mpath.read_text(encoding="utf-8"))
        manifest, stored = Manifest.from_raw(raw), text_hash(raw)
    except FileNotFoundError as exc:  # gone since the check: a build swapping the folder
        raise IndexMissing(f"no index at {index_dir} (no {MANIFEST}); run: rag index") from exc
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise CorruptIndex(f"{mpath} is unreadable ({exc}); run: rag index") from exc
    if manifest.format_version >= 5 and manifest.checksum != stored:
        raise CorruptIndex(f"{mpath} does not match its own checksum: it was edited or damaged; run: rag index")
    return manifest


def verify_index(index_dir: str | Path) -> Manifest:
    """Check every file of an index against the sizes and hashes of its manifest."""
    folder = current_folder(Path(index_dir))
    manifest = read_manifest(folder)
    if not manifest.files:
        raise CorruptIndex(f"{folder} records no file hashes (built by an older version); run: rag index")
    check_files(folder, manifest, all_hashes=True)
    return manifest


#: Loads tried when the index folder was swapped by a build while it was being read.
LOAD_TRIES = 5


def _folder_id(folder: Path) -> tuple[int, int] | None:
    try:
        st = folder.stat()
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def _swapped(target: Path, folder: Path, before: tuple[int, int] | None) -> bool:
    """The folder a load read from is no longer the index at that path."""
    return current_folder(target) != folder or _folder_id(folder) != before


def load_index(
    index_dir: str | Path = "index", *, corpus: str | Path | None = None, check_corpus: bool = True
) -> IndexData:
    """Load an index folder, checking its manifest, its files and (by default) its corpus.

    The files come from one complete index, never from two: a build swaps a whole folder in by
    renaming it, so a load checks that the folder it read from is still the one at that path
    when it is done, and reads again if a build swapped it meanwhile (an error seen while the
    folder was being swapped is not reported either).

    Raises:
        IndexMissing: no index there.
        CorruptIndex: a file is missing, unreadable or inconsistent.
        StaleIndex: a corpus document changed, appeared or went away, or the format is old.
    """
    target = Path(index_dir)
    for attempt in range(1, LOAD_TRIES + 1):
        folder = current_folder(target)
        before = _folder_id(folder)

        try:
            data = _load_folder(folder, corpus, check_corpus)
        except (IndexMissing, CorruptIndex, StaleIndex):
            if attempt == LOAD_TRIES or not _swapped(target, folder, before):
                raise
            log.info("the index at %s was swapped while it was read; reading it again", target)
            continue
        if not _swapped(target, folder, before):
            return data
        log.info("the index at %s was swapped while it was read; reading it again", target)
    raise CorruptIndex(f"the index at {target} kept changing while it was read; try again when its build is done")


def _load_folder(index_dir: Path, corpus: str | Path | None, check_corpus: bool) -> IndexData:
    import bm25s

    manifest = read_manifest(index_dir)
    if manifest.format_version != FORMAT_VERSION:
        raise StaleIndex(f"index format {manifest.format_version} is not {FORMAT_VERSION}; run: rag index")
    if manifest.pipeline != pipeline_fingerprint():
        raise StaleIndex(
            "the index was built by another version of the paragraph and sentence splitter; run: rag index"
        )
    for name in FILES:
        if not (index_dir / name).is_file():
            raise CorruptIndex(f"{index_dir / name} is missing; run: rag index")
    if not manifest.files:
        raise CorruptIndex(f"{index_dir / MANIFEST} lists no index files, so none could be checked; run: rag index")
    check_files(index_dir, manifest)
    if check_corpus:
        check_corpus_current(manifest, index_dir, Path(corpus) if corpus is not None else None)
    try:
        paragraphs = ParagraphStore(index_dir)
        # The small columns are memory-mapped; the vectors are read a row at a time when used,
        # so a large index with an approximate search index reads only the rows it needs.
        arrays = {
            name: np.load(index_dir / f"{name}.npy", allow_pickle=False, mmap_mode="r")
            for name in ("windows", "sentences", "sentence_windows")
        }
        vectors = {name: VectorFile(index_dir / f"{name}.npy") for name in ("paragraphs", "sentences_vectors")}
        # The term index and the approximate search indexes are memory-mapped too: their pages
        # are the kernel's to keep or drop, and a question reads only the few it needs.
        bm25 = bm25s.BM25.load(str(index_dir / "bm25"), mmap=True, show_progress=False)
        window_ann = None
        if ANN_FILE in manifest.files:
            import faiss

            flags = faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY
            window_ann = faiss.read_index(str(index_dir / ANN_FILE), flags)
    except (OSError, ValueError, TypeError, KeyError, RuntimeError) as exc:
        raise CorruptIndex(f"{index_dir} has a damaged file ({exc}); run: rag index") from exc
    data = IndexData(
        manifest=manifest,
        paragraphs=paragraphs,
        window_vectors=vectors["paragraphs"],
        window_owner=arrays["windows"],
        sentences=arrays["sentences"],
        sentence_vectors=vectors["sentences_vectors"],
        sentence_window_owner=arrays["sentence_windows"],
        bm25=bm25,
        window_ann=window_ann,
    )
    _check_shapes(data, index_dir)
    return data


def _check_shapes(data: IndexData, index_dir: Path) -> None:
    m = data.manifest
    n, s = len(data.paragraphs), len(data.sentences)
    problems = []
    if n != m.paragraphs or s != m.sentences:
        problems.append(f"{n} paragraphs and {s} sentences, manifest says {m.paragraphs} and {m.sentences}")
    for name, vec, owner, rows in (
        ("paragraph", data.window_vectors, data.window_owner, n),
        ("sentence", data.sentence_vectors, data.sentence_window_owner, s),
    ):
        if vec.ndim != 2 or (len(vec) and vec.shape[1] != m.dimension) or len(vec) != len(owner):
            problems.append(f"{name} vectors have shape {vec.shape}, expected (*, {m.dimension})")
        elif len(owner) and (owner.min() < 0 or owner.max() >= rows):
            problems.append(f"{name} windows point outside the {rows} rows")
    for name, column in (
        ("paragraph windows", data.window_owner),
        ("sentences", data.sentence_paragraph),
        ("sentence windows", data.sentence_window_owner),
    ):
        if len(column) > 1 and bool((np.diff(column) < 0).any()):
            problems.append(f"{name} are out of order")
    if s and (data.sentence_paragraph.max() >= n or data.sentences.shape[1] != 3):
        problems.append("sentences point outside the paragraphs")
    if data.window_ann is not None and int(getattr(data.window_ann, "ntotal", -1)) != len(data.window_vectors):
        problems.append("the approximate search index of paragraph vectors does not match them")
    if int(getattr(data.bm25, "scores", {}).get("num_docs", n)) != n:
        problems.append("BM25 index does not match the paragraphs")
    docs = list(data.doc_rows)
    for doc_id in {docs[0], docs[-1]} if docs else set():
        first, last = data.doc_rows[doc_id]
        if data.paragraphs[first].doc_id != doc_id or data.paragraphs[last - 1].doc_id != doc_id:
            problems.append(f"the paragraphs of {doc_id} are not where the manifest puts them")
    if problems:
        raise CorruptIndex(f"{index_dir} is inconsistent: {'; '.join(problems)}; run: rag index")
