"""A build in progress: each document's part (paragraphs, sentences, vectors), checkpointed beside the index folder so a stopped build resumes, and written into the index files one document at a time."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from rag.encode.embedding import Embedder
from rag.errors import CorruptIndex
from rag.index.data import IndexData
from rag.index.manifest import FORMAT_VERSION, pipeline_fingerprint
from rag.index.store import npy_header, paragraph_from_json, paragraph_to_json
from rag.settings import WindowSettings
from rag.types import Paragraph

log = logging.getLogger(__name__)


@dataclass
class Part:
    """One document's share of an index being built. Its vectors stay where they are (the old
    index's files, a checkpoint) until they are copied into the new index's files, one
    document at a time: a build holds the small arrays of all documents, not their vectors."""

    paragraphs: list[Paragraph]
    window_owner: np.ndarray  # window -> paragraph, counted from the document's first
    sentences: np.ndarray  # (n, 3): paragraph (from the document's first), start, end
    sentence_window_owner: np.ndarray  # sentence window -> sentence, from the document's first
    vectors: Callable[[], tuple[np.ndarray, np.ndarray]]  # its window and sentence window vectors


def doc_part(old: IndexData, doc_id: str) -> Part:
    """One document's rows of an old index, renumbered from zero; its vectors are read (from the
    old index's memory-mapped files) when the new index is written."""
    first, last = old.doc_rows[doc_id]
    w0, w1 = (int(x) for x in np.searchsorted(old.window_owner, [first, last]))
    s0, s1 = (int(x) for x in np.searchsorted(old.sentence_paragraph, [first, last]))
    v0, v1 = (int(x) for x in np.searchsorted(old.sentence_window_owner, [s0, s1]))
    sentences = np.array(old.sentences[s0:s1], dtype=np.int32)
    sentences[:, 0] -= first
    return Part(
        list(old.paragraphs[first:last]),
        np.asarray(old.window_owner[w0:w1] - first, dtype=np.int32),
        sentences,
        np.asarray(old.sentence_window_owner[v0:v1] - s0, dtype=np.int32),
        lambda: (old.window_vectors[w0:w1], old.sentence_vectors[v0:v1]),
    )


#: Documents are embedded together until they hold this many texts (paragraphs and sentences):
#: one call, sorted by length, fills the batches; each document is then checkpointed.
GROUP_TEXTS = 2048


def _npz_rows(z: Any, key: str) -> int:
    """The rows of an array in an .npz file, read from its header (the array is not loaded)."""
    with z.zip.open(f"{key}.npy") as fh:
        shape = npy_header(fh)[0]
    return int(shape[0]) if shape else 0


class Checkpoints:
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

    def load(self, doc_id: str, sha256: str) -> Part | None:
        """A stopped build's part of this document, its vectors left in the file until used."""
        path = self._file(doc_id, sha256)
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as z:
                paras = [paragraph_from_json(json.loads(line)) for line in str(z["paragraphs"]).splitlines()]
                part = Part(paras, z["wo"], z["sents"], z["swo"], lambda: self._vectors(path))
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

    def save(self, doc_id: str, sha256: str, part: Part, wv: np.ndarray, sv: np.ndarray) -> Part:
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


def embed_documents(
    todo: list[tuple[str, list[Paragraph], np.ndarray]],
    embedder: Embedder,
    parts: dict[str, Part],
    checkpoints: Checkpoints,
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
            part = Part(
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


def write_vectors(
    folder: Path, parts: list[Part], dim: int, windows: int, sentence_windows: int
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
