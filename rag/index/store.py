"""The paragraphs of an index on disk, read one at a time when asked for.

`paragraphs.jsonl` holds one JSON object per line; `paragraphs.offsets.npy` holds where each
line begins (and, last, the file's length). A loaded index keeps the file memory-mapped and
parses a paragraph only when the retriever or the composer asks for it, so a library of a
million paragraphs does not become a million Python objects at load time.
"""

from __future__ import annotations

import json
import mmap
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import BinaryIO, overload

import numpy as np

from rag.errors import CorruptIndex, NoSuchParagraph
from rag.types import Paragraph

TEXT = "paragraphs.jsonl"
OFFSETS = "paragraphs.offsets.npy"


def npy_header(fh: BinaryIO) -> tuple[tuple[int, ...], bool, np.dtype]:
    """Shape, Fortran order and dtype from the header of a .npy stream, left at its data."""
    version = np.lib.format.read_magic(fh)
    read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    return read(fh)


def _npy_layout(path: Path) -> tuple[tuple[int, ...], np.dtype, int]:
    """Shape, dtype and data offset of a C-ordered .npy file whose size matches its header."""
    with open(path, "rb") as fh:
        shape, fortran, dtype = npy_header(fh)
        offset = fh.tell()
    if fortran or offset + int(np.prod(shape)) * dtype.itemsize != path.stat().st_size:
        raise CorruptIndex(f"{path} does not hold the array its header describes; run: rag index")
    return tuple(shape), dtype, offset


#: Rows a `VectorFile` reads before it unmaps the pages it has read.
RELEASE_ROWS = 2048


class VectorFile:
    """The rows of a 2-D .npy matrix, memory-mapped for scattered reads: no read-ahead
    (MADV_RANDOM), and the pages read are let go of (MADV_DONTNEED) every few thousand rows.
    They stay in the kernel's page cache, to be found again by the next question, but not in
    this process: reading the vectors of a few hundred paragraphs per question of a large index
    does not make it grow. Indexing by a row, a slice or an array of rows gives an ordinary array."""

    def __init__(self, path: Path) -> None:
        self.path = path
        shape, self.dtype, offset = _npy_layout(path)
        if len(shape) != 2:
            raise CorruptIndex(f"{path} is not a matrix; run: rag index")
        self.shape: tuple[int, int] = (shape[0], shape[1])
        self.ndim = 2
        self._map: mmap.mmap | None = None
        self._read = 0
        if shape[0] * shape[1] == 0:  # nothing to map
            self._rows = np.zeros(self.shape, self.dtype)
            return
        with open(path, "rb") as fh:
            self._map = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        if hasattr(mmap, "MADV_RANDOM"):
            self._map.madvise(mmap.MADV_RANDOM)
        self._rows = np.ndarray(self.shape, self.dtype, buffer=self._map, offset=offset)

    def __len__(self) -> int:
        return self.shape[0]

    def _let_go(self, rows: int) -> None:
        """Count the rows read; past a budget, unmap every page read so far. Each scattered row
        maps the pages the kernel holds around it, so the budget bounds what the map holds."""
        self._read += rows
        if self._read >= RELEASE_ROWS and self._map is not None and hasattr(mmap, "MADV_DONTNEED"):
            self._map.madvise(mmap.MADV_DONTNEED)
            self._read = 0

    def __getitem__(self, key: int | slice | np.ndarray | Sequence[int]) -> np.ndarray:
        rows = np.array(self._rows[key])
        self._let_go(1 if rows.ndim == 1 else len(rows))
        return rows

    def __array__(self, dtype: np.dtype | None = None, copy: bool | None = None) -> np.ndarray:
        rows = np.array(self._rows, dtype=dtype)
        self._let_go(len(rows))
        return rows

    def __matmul__(self, other: np.ndarray) -> np.ndarray:
        return np.asarray(self) @ other


def paragraph_from_json(raw: dict) -> Paragraph:
    """A `Paragraph` from its JSON object (lists back to tuples)."""
    raw["section"] = tuple(raw["section"])
    raw["lines"] = tuple(raw["lines"])
    raw["pages"] = tuple(tuple(mark) for mark in raw.get("pages", ()))
    return Paragraph(**raw)


def paragraph_to_json(paragraph: Paragraph) -> str:
    """One line of `paragraphs.jsonl` (without its newline)."""
    return json.dumps(asdict(paragraph), ensure_ascii=False)


def write_paragraphs(folder: Path, paragraphs: Iterable[Paragraph]) -> int:
    """Write the paragraphs and their line offsets into an index folder; returns how many."""
    offsets = [0]
    with open(folder / TEXT, "wb") as fh:
        for p in paragraphs:
            line = (paragraph_to_json(p) + "\n").encode("utf-8")
            fh.write(line)
            offsets.append(offsets[-1] + len(line))
    np.save(folder / OFFSETS, np.asarray(offsets, dtype=np.int64), allow_pickle=False)
    return len(offsets) - 1


class ParagraphStore(Sequence[Paragraph]):
    """A read-only sequence of the paragraphs of an index folder, parsed on access."""

    def __init__(self, folder: Path) -> None:
        text, offsets = folder / TEXT, folder / OFFSETS
        self._offsets = np.load(offsets, allow_pickle=False, mmap_mode="r")
        size = text.stat().st_size
        if self._offsets.ndim != 1 or len(self._offsets) < 1 or int(self._offsets[-1]) != size:
            raise CorruptIndex(f"{offsets} does not describe {text}; run: rag index")
        with open(text, "rb") as fh:
            # An empty file cannot be mapped; an index of no paragraphs needs no map.
            self._map = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if size else b""

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def _read(self, row: int) -> Paragraph:
        a, b = int(self._offsets[row]), int(self._offsets[row + 1])
        try:
            return paragraph_from_json(json.loads(self._map[a:b]))
        except (ValueError, TypeError, KeyError) as exc:
            raise CorruptIndex(f"paragraph {row} of the index is unreadable ({exc}); run: rag index") from exc

    @overload
    def __getitem__(self, index: int) -> Paragraph: ...

    @overload
    def __getitem__(self, index: slice) -> list[Paragraph]: ...

    def __getitem__(self, index: int | slice) -> Paragraph | list[Paragraph]:
        n = len(self)
        if isinstance(index, slice):
            return [self._read(row) for row in range(*index.indices(n))]
        row = int(index)
        if row < 0:
            row += n
        if not 0 <= row < n:
            raise NoSuchParagraph(f"there is no paragraph {index} in an index of {n}")
        return self._read(row)

    def __iter__(self) -> Iterator[Paragraph]:
        for row in range(len(self)):
            yield self._read(row)
