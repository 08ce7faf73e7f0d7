"""Build, write (atomically) and load the index folder; the manifest says what it holds."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .citations import DocumentTable, short_title_of
from .embedding import Embedder
from .errors import CorruptIndex, EmptyCorpus, IndexMissing, StaleIndex, UnreadableDocument, UnsafeIndexFolder
from .hashing import sampled_sha256, sha256_file
from .paragraphs import split_paragraphs
from .readers import corpus_files, file_sha256, ignored_files, read_document
from .selector import shipped_label
from .sentences import split_sentences
from .settings import DEFAULT_MODEL, BuildSettings, WindowSettings
from .store import ParagraphStore, VectorFile, npy_header, paragraph_from_json, paragraph_to_json, write_paragraphs
from .terms import terms
from .types import DocumentInfo, Paragraph

log = logging.getLogger(__name__)

FORMAT_VERSION = 5  # 2: paragraphs carry their reference, kind and pages; 3: file sizes and hashes;
# 4: the line offsets of paragraphs.jsonl, so that paragraphs are read when used; 5: the manifest
# carries the hash of its own content


def pipeline_fingerprint() -> str:
    """A hash of the code that turns files into paragraphs, sentences and BM25 terms.

    Vectors, offsets and term indexes are only valid for the code that made them, so an
    index built by other splitting code is stale, and its vectors are not reused.
    """
    from . import paragraphs, readers, sentences, terms

    digest = hashlib.sha256()
    sources = sorted(Path(str(readers.__file__)).parent.glob("*.py"))
    for path in sources + [Path(str(m.__file__)) for m in (paragraphs, sentences, terms)]:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


MANIFEST = "manifest.json"
FILES = (
    "paragraphs.jsonl",
    "paragraphs.offsets.npy",
    "paragraphs.npy",
    "windows.npy",
    "sentences.npy",
    "sentences_vectors.npy",
    "sentence_windows.npy",
    "bm25/params.index.json",
)


@dataclass(frozen=True)
class Manifest:
    """What an index holds and how it was made; written last, checked on load."""

    model: str
    dimension: int
    max_seq_length: int
    window: WindowSettings
    documents: dict[str, DocumentInfo]
    corpus: str
    paragraphs: int = 0
    sentences: int = 0
    windows: int = 0
    ann_threshold: int = BuildSettings().ann_threshold  # vectors above which search is approximate
    format_version: int = FORMAT_VERSION
    rag_version: str = __version__
    pipeline: str = ""
    selector: str = ""  # the answer selector shipped when the index was built (name@version)
    skipped: dict[str, dict[str, str]] = field(default_factory=dict)  # file -> sha256 of its bytes, reason
    files: dict[str, dict] = field(default_factory=dict)  # index file -> {"bytes", "sha256"}
    created: str = ""
    build_seconds: float = 0.0
    # sha256 of the manifest written with this field empty: an edit of the manifest (a title, a
    # file's hash, the file table) is caught when it is read.
    checksum: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.documents, DocumentTable):  # it knows how citations name them
            object.__setattr__(self, "documents", DocumentTable(self.documents))

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, ensure_ascii=False)

    def own_hash(self) -> str:
        """The checksum this manifest should carry: the hash of its JSON with the field empty."""
        return hashlib.sha256(replace(self, checksum="").to_json().encode("utf-8")).hexdigest()

    def sealed(self) -> Manifest:
        """This manifest carrying its own checksum, as it is written."""
        return replace(self, checksum=self.own_hash())

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        raw = json.loads(text)
        raw["window"] = WindowSettings(**raw["window"])
        raw["documents"] = {k: DocumentInfo(**v) for k, v in raw["documents"].items()}
        return cls(**raw)


@dataclass
class IndexData:
    """A loaded index: paragraphs, their sentences and vectors, and the BM25 index."""

    manifest: Manifest
    paragraphs: Sequence[Paragraph]  # a list while building; read from disk when loaded
    window_vectors: np.ndarray | VectorFile  # one row per paragraph window
    window_owner: np.ndarray  # window row -> paragraph row
    sentences: np.ndarray  # (n, 3) int32: paragraph row, start, end
    sentence_vectors: np.ndarray | VectorFile  # one row per sentence window
    sentence_window_owner: np.ndarray  # sentence window row -> sentence row
    bm25: object
    doc_rows: dict[str, tuple[int, int]] = field(default_factory=dict)  # doc -> [first, last+1)
    # The approximate search index (faiss) of a large index's windows, else None: exact search.
    window_ann: Any = None
    # The paragraph row of each sentence, contiguous: a binary search in a column of `sentences`
    # would copy the whole column first (milliseconds at a million paragraphs, per search).
    sentence_paragraph: np.ndarray = field(init=False, repr=False)

    def window_owner_of_sentences(self, sentence_windows: np.ndarray) -> np.ndarray:
        """The paragraph row of each sentence window."""
        return self.sentences[self.sentence_window_owner[sentence_windows], 0]

    def paragraph_cosine(self, row: int, query: np.ndarray) -> float:
        """Best cosine between the query and the windows of one paragraph."""
        a, b = np.searchsorted(self.window_owner, [row, row + 1])
        return float((self.window_vectors[a:b] @ query).max(initial=0.0))

    def sentence_cosine(self, row: int, query: np.ndarray) -> float:
        """Best cosine between the query and the windows of one sentence."""
        a, b = np.searchsorted(self.sentence_window_owner, [row, row + 1])
        return float((self.sentence_vectors[a:b] @ query).max(initial=0.0))

    def sentences_of(self, paragraph_rows: Sequence[int] | np.ndarray) -> np.ndarray:
        """The sentence rows of some paragraphs, ascending (a binary search in the paragraph
        column, which is sorted: no pass over all the sentences of a large index)."""
        rows = np.unique(np.asarray(paragraph_rows, dtype=np.int64))
        column = self.sentence_paragraph
        starts, ends = np.searchsorted(column, rows), np.searchsorted(column, rows + 1)
        return np.concatenate([np.arange(a, b) for a, b in zip(starts, ends, strict=True)] or [np.zeros(0, np.int64)])

    def sentence_cosines(self, rows: np.ndarray, query: np.ndarray) -> np.ndarray:
        """`sentence_cosine` of many sentences at once (one matrix product, not one per row)."""
        rows = np.asarray(rows, dtype=np.int64)
        starts = np.searchsorted(self.sentence_window_owner, rows)
        counts = np.searchsorted(self.sentence_window_owner, rows + 1) - starts
        best = np.zeros(len(rows), dtype=np.float32)
        has = counts > 0
        if has.any():
            first, n = starts[has], counts[has]
            offsets = np.cumsum(n) - n  # where each sentence's windows begin in `windows`
            windows = np.repeat(first - offsets, n) + np.arange(int(n.sum()))
            sims = self.sentence_vectors[windows] @ query
            best[has] = np.maximum(np.maximum.reduceat(sims, offsets), 0.0)
        return best

    def sentence_vector(self, row: int) -> np.ndarray:
        """The first window vector of a sentence (sentences rarely need more than one)."""
        return self.sentence_vectors[int(np.searchsorted(self.sentence_window_owner, row))]

    def __post_init__(self) -> None:
        sentences = self.sentences
        self.sentence_paragraph = np.ascontiguousarray(sentences[:, 0] if sentences.ndim == 2 else sentences[:0])
        rows: dict[str, tuple[int, int]] = {}
        counts = [(doc_id, info.paragraphs) for doc_id, info in self.manifest.documents.items()]
        if sum(n for _, n in counts) == len(self.paragraphs):
            # Paragraphs are stored document by document, in the manifest's order: no need to
            # read a million of them to know where each document's paragraphs begin.
            first = 0
            for doc_id, n in counts:
                if n:
                    rows[doc_id] = (first, first + n)
                first += n
        else:
            for i, p in enumerate(self.paragraphs):
                first, _ = rows.get(p.doc_id, (i, i))
                rows[p.doc_id] = (first, i + 1)
        self.doc_rows = rows


def _is_inside(a: Path, b: Path) -> bool:
    a, b = a.resolve(), b.resolve()
    return a == b or b in a.parents


def check_index_folder(index_dir: Path, corpus: Path | None = None) -> None:
    """Refuse an index folder that building would harm: one that holds files but is not an
    index (no manifest), or one that is, holds or sits inside the corpus.

    Raises:
        UnsafeIndexFolder: with what to do instead.
    """
    if corpus is not None and (_is_inside(index_dir, corpus) or _is_inside(corpus, index_dir)):
        raise UnsafeIndexFolder(
            f"the index folder {index_dir} and the corpus {corpus} overlap; "
            "choose an --index outside the corpus (and not above it)"
        )
    if index_dir.exists():
        if not index_dir.is_dir():
            raise UnsafeIndexFolder(f"{index_dir} is a file, not an index folder; choose another --index")
        if any(index_dir.iterdir()) and not (index_dir / MANIFEST).is_file():
            raise UnsafeIndexFolder(
                f"{index_dir} holds files but no {MANIFEST}: it is not an index, and "
                "building would replace it; choose another --index or empty it"
            )
        if (index_dir / MANIFEST).is_file():
            _check_own_files(index_dir)


def _check_own_files(index_dir: Path) -> None:
    """An index folder is replaced only when it is one this project wrote (its manifest parses as
    ours and lists its files) and holds nothing else: another program's manifest.json, or a file
    a user put beside the index, would be deleted by the swap."""
    try:
        listed = set(Manifest.from_json((index_dir / MANIFEST).read_text(encoding="utf-8")).files)
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError):
        raise UnsafeIndexFolder(
            f"{index_dir / MANIFEST} is not the manifest of an index built by rag, and building would "
            "replace the folder; choose another --index"
        ) from None
    if not listed:
        raise UnsafeIndexFolder(
            f"{index_dir / MANIFEST} lists no index files; it was not written by rag index, and building "
            "would replace the folder; choose another --index"
        )
    extra = sorted(
        f.relative_to(index_dir).as_posix()
        for f in index_dir.rglob("*")
        if not f.is_dir() and f.relative_to(index_dir).as_posix() not in listed | {MANIFEST}
    )
    if extra:
        shown = ", ".join(extra[:3]) + (f" and {len(extra) - 3} more" if len(extra) > 3 else "")
        raise UnsafeIndexFolder(
            f"{index_dir} holds files that are not part of the index ({shown}); building would delete "
            "them: move them out of the folder or choose another --index"
        )


def recover_index(target: Path) -> None:
    """Finish a swap that a crash interrupted: if the index folder is gone but the previous one
    waits beside it (`.<name>-old`), put it back; stray temporary folders of a killed build are
    removed."""
    old = target.with_name(f".{target.name}-old")
    if not target.exists() and (old / MANIFEST).is_file():
        log.warning("restoring %s from %s (a build was interrupted while swapping)", target, old)
        os.replace(old, target)


def current_folder(target: Path) -> Path:
    """The folder to read an index from: itself, or, while a build is swapping it (or after a
    kill in that instant), the previous index waiting beside it. Reading never moves anything."""
    old = target.with_name(f".{target.name}-old")
    if not target.exists() and (old / MANIFEST).is_file():
        return old
    return target


def _clean_strays(target: Path) -> None:
    for stray in target.parent.glob(f".{target.name}-tmp-*"):
        if stray.is_dir():
            log.info("removing %s, left by an interrupted build", stray)
            shutil.rmtree(stray, ignore_errors=True)
    old = target.with_name(f".{target.name}-old")
    if target.exists() and old.exists():
        shutil.rmtree(old, ignore_errors=True)


def write_atomically(target: Path, write: Callable[[Path], None]) -> None:
    """Write a folder through `write(tmp)` and move it into place; on failure keep the old one.

    At every instant either the old or the new folder is in place, or the old one waits as
    `.<name>-old` for `recover_index` to put back (a kill between the two renames)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    recover_index(target)
    _clean_strays(target)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-tmp-", dir=target.parent))
    old = target.with_name(f".{target.name}-old")
    try:
        write(tmp)
        # mkdtemp makes a private folder (0700): the index keeps the mode the folder had, or the
        # one a new folder gets under the user's umask.
        if target.exists():
            mode = target.stat().st_mode & 0o7777
        else:
            mask = os.umask(0)
            os.umask(mask)
            mode = 0o777 & ~mask
        os.chmod(tmp, mode)
        if target.exists():
            os.replace(target, old)
        os.replace(tmp, target)
    except BaseException:
        if old.exists() and not target.exists():
            os.replace(old, target)
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)


#: The approximate search index a large index holds beside its window vectors. (Sentences are
#: searched only inside the paragraphs found, above the threshold: no index of them.)
ANN_FILE = "paragraphs.ivf"


TRAIN_PER_CLUSTER = 64


def build_ann(vectors: np.ndarray, *, seed: int = 0) -> Any:
    """An IVF index with 8-bit scalar codes over unit vectors (inner product), trained on a
    sample: chosen by bench/ann.py over flat, SQ8 and HNSW-SQ8 indexes at a million vectors."""
    import faiss

    d = vectors.shape[1]
    nlist = max(1, min(len(vectors) // 39, int(4 * np.sqrt(len(vectors)))))
    index = faiss.IndexIVFScalarQuantizer(
        faiss.IndexFlatIP(d), d, nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
    )
    # 64 training vectors a cluster: k-means time grows with the sample, and with 256 a cluster
    # (the most FAISS would use) training took much of a million-paragraph build.
    rng = np.random.default_rng(seed)
    sample = vectors[rng.choice(len(vectors), min(len(vectors), TRAIN_PER_CLUSTER * nlist), replace=False)]
    index.train(np.ascontiguousarray(sample, dtype=np.float32))
    for start in range(0, len(vectors), 100_000):
        index.add(np.ascontiguousarray(vectors[start : start + 100_000], dtype=np.float32))
    return index


#: Files up to this size are hashed on every load; larger ones only by `verify_index`.
HASH_ON_LOAD_BYTES = 8 * 1024 * 1024


def check_files(index_dir: Path, manifest: Manifest, *, all_hashes: bool = False) -> None:
    """Every index file has the size the manifest records, and (for the small ones, or all of
    them with `all_hashes`) the same sha256.

    Raises:
        CorruptIndex: naming the first file that differs.
    """
    for name, meta in manifest.files.items():
        path = index_dir / name
        try:
            if not path.is_file():
                raise CorruptIndex(f"{path} is missing; run: rag index")
            size = path.stat().st_size
            if size != meta.get("bytes"):
                raise CorruptIndex(
                    f"{path} has {size} bytes, the manifest says {meta.get('bytes')}: it was "
                    "changed or damaged; run: rag index"
                )
            if all_hashes or size <= HASH_ON_LOAD_BYTES:
                same = sha256_file(path) == meta.get("sha256")
            else:  # a large file: sampled blocks on every load (indexes built before them: size only)
                same = "sampled_sha256" not in meta or sampled_sha256(path) == meta["sampled_sha256"]
        except OSError as exc:  # gone between the check and the read: a build swapping the folder
            raise CorruptIndex(f"{path} cannot be read ({exc.strerror or exc}); run: rag index") from exc
        if not same:
            raise CorruptIndex(
                f"{path} does not match its hash in the manifest: it was changed or damaged; run: rag index"
            )


def _file_record(path: Path) -> dict[str, int | str]:
    """What the manifest keeps of an index file: its size, its sha256 and, for a file too large to
    hash on every load, the hash of sampled blocks that loading checks instead."""
    size = path.stat().st_size
    record: dict[str, int | str] = {"bytes": size, "sha256": sha256_file(path)}
    if size > HASH_ON_LOAD_BYTES:
        record["sampled_sha256"] = sampled_sha256(path)
    return record


def verify_index(index_dir: str | Path) -> Manifest:
    """Check every file of an index against the sizes and hashes of its manifest."""
    folder = current_folder(Path(index_dir))
    manifest = read_manifest(folder)
    if not manifest.files:
        raise CorruptIndex(f"{folder} records no file hashes (built by an older version); run: rag index")
    check_files(folder, manifest, all_hashes=True)
    return manifest


def _bytes_sha256(path: Path) -> str:
    """The hash recorded for a skipped file ("" if it cannot be read: a pipe, a dangling link)."""
    try:
        return sha256_file(path) if path.is_file() else ""
    except OSError:
        return ""


def _corpus_ref(corpus: Path, index_dir: Path) -> str:
    try:
        return os.path.relpath(corpus.resolve(), index_dir.resolve())
    except ValueError:
        return str(corpus.resolve())


def _reusable(index_dir: Path, model: str, window: WindowSettings) -> IndexData | None:
    try:
        old = load_index(index_dir, check_corpus=False)
    except (IndexMissing, StaleIndex, CorruptIndex) as exc:
        log.debug("not reusing %s: %s", index_dir, exc)
        return None
    if old.manifest.model != model or old.manifest.window != window:
        return None
    return old


@dataclass
class _Part:
    """One document's share of an index being built. Its vectors stay where they are (the old
    index's files, a checkpoint) until they are copied into the new index's files, one
    document at a time: a build holds the small arrays of all documents, not their vectors."""

    paragraphs: list[Paragraph]
    window_owner: np.ndarray  # window -> paragraph, counted from the document's first
    sentences: np.ndarray  # (n, 3): paragraph (from the document's first), start, end
    sentence_window_owner: np.ndarray  # sentence window -> sentence, from the document's first
    vectors: Callable[[], tuple[np.ndarray, np.ndarray]]  # its window and sentence window vectors


def _doc_part(old: IndexData, doc_id: str) -> _Part:
    """One document's rows of an old index, renumbered from zero; its vectors are read (from the
    old index's memory-mapped files) when the new index is written."""
    first, last = old.doc_rows[doc_id]
    w0, w1 = (int(x) for x in np.searchsorted(old.window_owner, [first, last]))
    s0, s1 = (int(x) for x in np.searchsorted(old.sentence_paragraph, [first, last]))
    v0, v1 = (int(x) for x in np.searchsorted(old.sentence_window_owner, [s0, s1]))
    sentences = np.array(old.sentences[s0:s1], dtype=np.int32)
    sentences[:, 0] -= first
    return _Part(
        list(old.paragraphs[first:last]),
        np.asarray(old.window_owner[w0:w1] - first, dtype=np.int32),
        sentences,
        np.asarray(old.sentence_window_owner[v0:v1] - s0, dtype=np.int32),
        lambda: (old.window_vectors[w0:w1], old.sentence_vectors[v0:v1]),
    )


#: A corpus file larger than this (MB) is not read: 20 MB of text is hours of embedding here.
MAX_FILE_MB = BuildSettings().max_file_mb

#: Documents are embedded together until they hold this many texts (paragraphs and sentences):
#: one call, sorted by length, fills the batches; each document is then checkpointed.
GROUP_TEXTS = 2048


def _npz_rows(z: Any, key: str) -> int:
    """The rows of an array in an .npz file, read from its header (the array is not loaded)."""
    with z.zip.open(f"{key}.npy") as fh:
        shape = npy_header(fh)[0]
    return int(shape[0]) if shape else 0


class _Checkpoints:
    """Each embedded document's part of a build in progress, kept beside the index folder
    (`.<index>-build/`) until the index is written, so a stopped build resumes where it was."""

    def __init__(self, index_dir: Path, model: str, window: WindowSettings) -> None:
        self.folder = index_dir.with_name(f".{index_dir.name}-build")
        self.key = {
            "model": model,
            "window": asdict(window),
            "pipeline": pipeline_fingerprint(),
            "format_version": FORMAT_VERSION,
        }
        stamp = self.folder / "build.json"
        try:
            same = json.loads(stamp.read_text(encoding="utf-8")) == self.key
        except (OSError, ValueError):
            same = False
        if self.folder.exists() and not same:
            shutil.rmtree(self.folder, ignore_errors=True)  # made by another model or splitter

    def _file(self, doc_id: str, sha256: str) -> Path:
        return self.folder / f"{hashlib.sha256(doc_id.encode()).hexdigest()[:16]}-{sha256[:16]}.npz"

    def load(self, doc_id: str, sha256: str) -> _Part | None:
        """A stopped build's part of this document, its vectors left in the file until used."""
        path = self._file(doc_id, sha256)
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as z:
                paras = [paragraph_from_json(json.loads(line)) for line in str(z["paragraphs"]).splitlines()]
                part = _Part(paras, z["wo"], z["sents"], z["swo"], lambda: self._vectors(path))
                if _npz_rows(z, "wv") != len(part.window_owner) or _npz_rows(z, "sv") != len(
                    part.sentence_window_owner
                ):
                    raise CorruptIndex("its vectors do not match its windows")
                return part
        except (OSError, ValueError, KeyError, TypeError, CorruptIndex) as exc:
            log.warning("ignoring a damaged checkpoint %s (%s)", path, exc)
            return None

    @staticmethod
    def _vectors(path: Path) -> tuple[np.ndarray, np.ndarray]:
        with np.load(path, allow_pickle=False) as z:
            return z["wv"], z["sv"]

    def save(self, doc_id: str, sha256: str, part: _Part, wv: np.ndarray, sv: np.ndarray) -> _Part:
        """Checkpoint a document's part with its vectors; the part returned reads them back
        from the checkpoint when they are needed."""
        if not self.folder.exists():
            self.folder.mkdir(parents=True)
            (self.folder / "build.json").write_text(json.dumps(self.key), encoding="utf-8")
        text = "\n".join(paragraph_to_json(p) for p in part.paragraphs)
        path = self._file(doc_id, sha256)
        # Written under a name that is not a checkpoint's (".npz.part") and renamed when whole, so
        # a file a kill cut short is never taken, or counted, for one.
        tmp = path.with_name(path.name + ".part")
        with open(tmp, "wb") as fh:
            np.savez(
                fh,
                paragraphs=np.array(text),
                wv=wv,
                wo=part.window_owner,
                sents=part.sentences,
                sv=sv,
                swo=part.sentence_window_owner,
            )
        os.replace(tmp, path)
        return replace(part, vectors=lambda: self._vectors(path))

    def clear(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def _embed(
    todo: list[tuple[str, list[Paragraph], np.ndarray]],
    embedder: Embedder,
    parts: dict[str, _Part],
    checkpoints: _Checkpoints,
    hashes: dict[str, str],
    progress: bool,
) -> None:
    """Embed the documents' paragraphs and sentences, several documents to a call, and
    checkpoint each document as its group finishes."""
    total = sum(len(paras) + len(rows) for _, paras, rows in todo)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=total, unit="texts", desc=f"embedding {len(todo)} documents", smoothing=0.1)
    done = 0
    group: list[tuple[str, list[Paragraph], np.ndarray]] = []
    size = 0
    # An embedder with a cost per call (a Ray cluster starts its encoders) asks for larger groups.
    per_call = max(GROUP_TEXTS, int(getattr(embedder, "group_texts", 0)))
    for k, item in enumerate(todo):
        group.append(item)
        size += len(item[1]) + len(item[2])
        if size < per_call and k + 1 < len(todo):
            continue
        texts: list[str] = []
        spans = []
        for _, paras, rows in group:
            a = len(texts)
            texts += [p.text for p in paras]
            b = len(texts)
            texts += [paras[i].text[x:y] for i, x, y in rows]
            spans.append((a, b, len(texts)))
        vectors, owners = embedder.encode_windows(texts)
        for (doc_id, paras, rows), (a, b, c) in zip(group, spans):
            pw = (owners >= a) & (owners < b)
            sw = (owners >= b) & (owners < c)
            part = _Part(
                paras,
                (owners[pw] - a).astype(np.int32),
                rows,
                (owners[sw] - b).astype(np.int32),
                vectors=lambda: (np.zeros(0), np.zeros(0)),  # replaced by the checkpoint's
            )
            parts[doc_id] = checkpoints.save(doc_id, hashes[doc_id], part, vectors[pw], vectors[sw])
        done += len(group)
        if bar is not None:
            bar.update(size)
            bar.set_postfix_str(f"{done}/{len(todo)} documents")
        group, size = [], 0
    if bar is not None:
        bar.close()


def _write_vectors(
    folder: Path, parts: list[_Part], dim: int, windows: int, sentence_windows: int
) -> tuple[np.ndarray, np.ndarray]:
    """Write the documents' window and sentence vectors into the index folder, one document at
    a time (no copy of all of them in memory); returns the two files memory-mapped."""
    names = ("paragraphs.npy", "sentences_vectors.npy")
    targets = [
        np.lib.format.open_memmap(folder / name, mode="w+", dtype=np.float32, shape=(rows, dim)) if rows else None
        for name, rows in zip(names, (windows, sentence_windows), strict=True)
    ]
    at = [0, 0]
    for part in parts:
        got = part.vectors()  # read once: both arrays come from the same checkpoint or old index
        expected = (len(part.window_owner), len(part.sentence_window_owner))
        for k, target in enumerate(targets):
            if got[k].shape != (expected[k], dim):
                raise CorruptIndex(f"vectors of shape {got[k].shape} for {expected[k]} windows of dimension {dim}")
            if target is not None:
                target[at[k] : at[k] + expected[k]] = got[k]
                at[k] += expected[k]
    out = []
    for name, target in zip(names, targets, strict=True):
        if target is None:  # an empty file cannot be mapped
            np.save(folder / name, np.zeros((0, dim), np.float32), allow_pickle=False)
            out.append(np.load(folder / name, allow_pickle=False))
        else:
            target.flush()
            out.append(np.load(folder / name, allow_pickle=False, mmap_mode="r"))
    del targets
    return out[0], out[1]


@contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """One build of an index at a time, across processes and threads: an exclusive lock on a file
    beside the folder (`.<name>.lock`), held from planning to the swap and the checkpoints'
    clean-up. A second build waits for the first, then sees its result."""
    import fcntl

    index_dir.parent.mkdir(parents=True, exist_ok=True)
    with open(index_dir.parent / f".{index_dir.name}.lock", "a+b") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.warning("another build of %s is running; waiting for it to finish", index_dir)
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def build_index(
    corpus: str | Path = "corpus",
    index_dir: str | Path = "index",
    *,
    model: str = DEFAULT_MODEL,
    window: WindowSettings = WindowSettings(),
    embedder: Embedder | None = None,
    progress: bool = True,
    max_file_mb: float = MAX_FILE_MB,
    ann_threshold: int = BuildSettings().ann_threshold,
) -> Manifest:
    """Index every document of `corpus` into `index_dir`, re-embedding only changed documents.
    Beyond `ann_threshold` paragraph windows, they also get an approximate search index.
    Files that cannot be indexed (unreadable, too large, empty, a duplicate, a link out of the
    corpus, not a document) are listed with the reason in the manifest's `skipped`. Builds of one
    index run one at a time (`build_lock`).

    Raises:
        EmptyCorpus, DuplicateDocument, UnreadableDocument: the corpus cannot be indexed;
            the existing index is left as it was.
    """
    check_index_folder(Path(index_dir), Path(corpus))  # before the lock file is made beside it
    with build_lock(Path(index_dir)):
        return _build_index(
            Path(corpus),
            Path(index_dir),
            model=model,
            window=window,
            embedder=embedder,
            progress=progress,
            max_file_mb=max_file_mb,
            ann_threshold=ann_threshold,
        )


def _build_index(
    corpus: Path,
    index_dir: Path,
    *,
    model: str,
    window: WindowSettings,
    embedder: Embedder | None,
    progress: bool,
    max_file_mb: float,
    ann_threshold: int,
) -> Manifest:
    import bm25s

    started = time.perf_counter()
    check_index_folder(index_dir, corpus)
    files = corpus_files(corpus)
    documents = []
    skipped: dict[str, dict[str, str]] = {}
    root = corpus.resolve()
    seen: dict[str, str] = {}  # sha256 of a document's content -> its file
    stats: dict[str, tuple[int, ...] | None] = {}
    try:  # of two files with the same content, the one already indexed stays
        indexed = {i.sha256: i.file for i in read_manifest(index_dir).documents.values()}
    except (IndexMissing, CorruptIndex):
        indexed = {}
    for doc_id, path in files:
        rel = path.relative_to(corpus).as_posix()
        try:
            if path.is_symlink() and root not in path.resolve().parents:
                raise UnreadableDocument(
                    f"{rel}: a link to a file outside the corpus folder; copy the file in if it should be indexed"
                )
            st = path.stat()  # before the file is read: a later change shows in its times
            size = st.st_size
            stats[doc_id] = stat_key(st)
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
            documents.append(doc)
        except UnreadableDocument as exc:
            # One bad file does not stop the others; it is named in the manifest and the log.
            log.warning("skipped %s", exc)
            skipped[rel] = {"sha256": _bytes_sha256(path), "reason": str(exc)}
    for rel, why in ignored_files(corpus).items():
        skipped.setdefault(rel, {"sha256": "", "reason": f"{rel}: {why}"})
    if not documents:
        raise EmptyCorpus(f"no document of {corpus} could be read: " + "; ".join(v["reason"] for v in skipped.values()))
    old = _reusable(index_dir, model, window) if index_dir.exists() else None
    if embedder is not None:
        model = embedder.name

    def get_embedder() -> Embedder:
        nonlocal embedder
        if embedder is None:
            embedder = Embedder(model, threads=None, window=window)  # ONNX Runtime for mean-pooling models
        return embedder

    # Plan: each document's part comes from the old index (unchanged), from a checkpoint of a
    # build that was stopped, or has to be embedded.
    checkpoints = _Checkpoints(index_dir, model, window)
    parts: dict[str, _Part] = {}
    todo: list[tuple[str, list[Paragraph], np.ndarray]] = []
    for doc in documents:
        prev = old.manifest.documents.get(doc.doc_id) if old else None
        if old is not None and prev is not None and prev.sha256 == doc.sha256:
            log.info("%s unchanged: reusing its vectors", doc.path)
            parts[doc.doc_id] = _doc_part(old, doc.doc_id)
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
        _embed(todo, get_embedder(), parts, checkpoints, {d.doc_id: d.sha256 for d in documents}, progress)

    # Assemble, in the corpus's order: the small arrays now, the vectors as they are written.
    paragraphs: list[Paragraph] = []
    owners: list[np.ndarray] = []
    sentence_rows: list[np.ndarray] = []
    sentence_owners: list[np.ndarray] = []
    infos: dict[str, DocumentInfo] = {}
    sentence_total = 0
    for doc in documents:
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
            stat=stats.get(doc.doc_id),
        )

    if embedder is None and old is not None:
        dim, max_tokens = old.manifest.dimension, old.manifest.max_seq_length
    else:
        dim, max_tokens = get_embedder().dimension, get_embedder().max_tokens
    window_owner = np.concatenate(owners).astype(np.int32)
    sentences = np.concatenate(sentence_rows).astype(np.int32)
    sentence_window_owner = np.concatenate(sentence_owners).astype(np.int32)
    bm25 = bm25s.BM25()
    texts = [terms(" ".join(p.section[-1:]) + " " + p.text) for p in paragraphs]
    # The vocabulary in sorted order (bm25s would order it by a set's, which changes from process to
    # process): the same corpus gives the same files.
    vocab = {t: i for i, t in enumerate(sorted({t for text in texts for t in text}))}
    bm25.index(([[vocab[t] for t in text] for text in texts], vocab), show_progress=False)
    manifest = Manifest(
        model=model,
        dimension=dim,
        max_seq_length=max_tokens,
        window=window,
        documents=infos,
        corpus=_corpus_ref(corpus, index_dir),
        ann_threshold=ann_threshold,
        paragraphs=len(paragraphs),
        sentences=len(sentences),
        windows=len(window_owner),
        pipeline=pipeline_fingerprint(),
        selector=shipped_label(),
        skipped=skipped,
        created=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        build_seconds=round(time.perf_counter() - started, 3),
    )

    def write(tmp: Path) -> None:
        write_paragraphs(tmp, paragraphs)
        np.save(tmp / "windows.npy", window_owner, allow_pickle=False)
        np.save(tmp / "sentences.npy", sentences, allow_pickle=False)
        np.save(tmp / "sentence_windows.npy", sentence_window_owner, allow_pickle=False)
        window_vectors, sentence_vectors = _write_vectors(
            tmp, [parts[doc.doc_id] for doc in documents], dim, len(window_owner), len(sentence_window_owner)
        )
        bm25.save(str(tmp / "bm25"), show_progress=False)
        if len(window_vectors) > ann_threshold:
            import faiss

            log.info("building the approximate search index of %d window vectors", len(window_vectors))
            faiss.write_index(build_ann(window_vectors), str(tmp / ANN_FILE))
        # Every file's size and hash go into the manifest, written last.
        files = {
            path.relative_to(tmp).as_posix(): _file_record(path) for path in sorted(tmp.rglob("*")) if path.is_file()
        }
        (tmp / MANIFEST).write_text(replace(manifest, files=files).sealed().to_json(), encoding="utf-8")

    write_atomically(index_dir, write)
    checkpoints.clear()
    log.debug(  # `rag index` prints the summary; this is for library callers who log
        "indexed %d documents, %d paragraphs, %d sentences in %.1f s",
        len(infos),
        len(paragraphs),
        len(sentences),
        manifest.build_seconds,
    )
    return manifest


def stat_key(st: os.stat_result) -> tuple[int, ...] | None:
    """What identifies a file's state without reading it: size, modification and change times
    and inode (any write moves the change time, which no tool sets back). None for a file
    modified in the last 2 seconds, whose times a coarse clock may not have moved yet."""
    if time.time_ns() - st.st_mtime_ns < 2_000_000_000:
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def _check_corpus(manifest: Manifest, index_dir: Path, corpus: Path | None) -> None:
    root = corpus if corpus is not None else (index_dir / manifest.corpus)
    if not root.is_dir():
        log.warning("corpus folder %s not found: cannot check that the index is current", root)
        return
    for info in manifest.documents.values():
        path = root / info.file
        if not path.is_file():
            raise StaleIndex(f"{path} was indexed but is gone; run: rag index")
        if info.stat is not None and tuple(info.stat) == stat_key(path.stat()):
            continue  # the same file, untouched since it was read: its hash is the one recorded
        if file_sha256(path) != info.sha256:
            raise StaleIndex(f"{path} changed since the index was built; run: rag index")
    known = {info.file for info in manifest.documents.values()}
    for _, path in corpus_files(root):
        rel = path.relative_to(root).as_posix()
        if rel in manifest.skipped and manifest.skipped[rel].get("sha256") == _bytes_sha256(path):
            continue  # a file that could not be read when the index was built, and is unchanged
        if rel not in known:
            raise StaleIndex(f"{path} is new since the index was built; run: rag index")


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
        manifest = Manifest.from_json(mpath.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:  # gone since the check: a build swapping the folder
        raise IndexMissing(f"no index at {index_dir} (no {MANIFEST}); run: rag index") from exc
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise CorruptIndex(f"{mpath} is unreadable ({exc}); run: rag index") from exc
    if manifest.format_version >= 5 and manifest.checksum != manifest.own_hash():
        raise CorruptIndex(f"{mpath} does not match its own checksum: it was edited or damaged; run: rag index")
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
        _check_corpus(manifest, index_dir, Path(corpus) if corpus is not None else None)
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
