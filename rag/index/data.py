"""A loaded index: paragraphs, sentences, their vectors and the BM25 index, with the vector maths over them."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rag.index.manifest import Manifest
from rag.index.store import VectorFile
from rag.types import Paragraph

log = logging.getLogger(__name__)


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
