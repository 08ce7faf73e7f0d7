"""Dense (FAISS) and BM25 search over paragraphs, fused into one ranking."""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import faiss
import numpy as np

from rag.cite.citations import label
from rag.encode.adapter import QueryAdapter
from rag.errors import BadSetting, InputError
from rag.index import IndexData
from rag.index.store import VectorFile
from rag.settings import Settings
from rag.text.parts import asked_parts, part_prefix
from rag.types import Hit

log = logging.getLogger(__name__)


def fuse_rrf(
    rankings: Sequence[Sequence[int]], k: int = 60, weights: Sequence[float] | None = None
) -> dict[int, float]:
    """Reciprocal rank fusion of several rankings of paragraph rows (optionally weighted)."""
    scores: dict[int, float] = defaultdict(float)
    for i, ranking in enumerate(rankings):
        w = 1.0 if weights is None else weights[i]
        for rank, row in enumerate(ranking, start=1):
            scores[row] += w / (k + rank)
    return dict(scores)


def fuse_scores(dense: np.ndarray, lexical: np.ndarray, lexical_weight: float) -> np.ndarray:
    """Convex combination of cosine similarity and BM25 scaled by its best score."""
    top = float(lexical.max(initial=0.0))
    scaled = lexical / top if top > 0 else np.zeros_like(lexical)
    return (1.0 - lexical_weight) * np.clip(dense, 0.0, 1.0) + lexical_weight * scaled


def max_by_owner(scores: np.ndarray, owners: np.ndarray, size: int) -> np.ndarray:
    """For each owner row, the best score of its windows (-inf where it has none)."""
    out = np.full(size, -np.inf, dtype=np.float32)
    np.maximum.at(out, owners, scores)
    return out


#: Units a question may name by their number: a recommendation ("recommendation 121.184", or the
#: bare "121.184"), an article ("article 24(1)", "art. 24"), a paragraph ("paragraph 12").
_NAMED_UNIT = re.compile(
    r"\b(?:(?P<art>articles?|art\.)\s*(?P<art_no>\d{1,3})(?P<art_par>\(\d{1,2}\))?(?![\d(])"
    r"|(?P<para>paragraphs?|paras?\.|recommendations?)\s*(?P<para_no>\d{1,4}(?:\.\d{1,3})?)(?![\d.])"
    r"|(?P<note>footnotes?|fn\.)\s*(?P<note_no>\d{1,3})(?!\d)"
    r"|(?P<dotted>\d{2,3}\.\d{1,3})(?![\d.%])(?!\s*(?:per ?cent|percent|million|billion|degrees?)))",
    re.IGNORECASE,
)
#: How many of the paragraphs a question names by number are put first.
NAMED_FIRST = 2
#: Paragraphs an index may have for its labels to be gathered when a question names a unit (it
#: reads every paragraph once; above this, named units are found by their words alone).
LABEL_SCAN_LIMIT = 200_000


def named_units(question: str, *, parts: bool = True) -> list[str]:
    """The citation labels of the units a question names by number ("para. 121.184", "Art. 24(1)",
    "Art. 24", "para. 12", "fn. 27"); a label ending in "(" stands for every paragraph of that article.
    With `parts`, a part of a document and its paragraphs too ("res. 68/6, para. 1", or "res.
    68/6, " for every paragraph of it), and "paragraph 1" said of a part is not the document's
    own "para. 1"; without, such a paragraph is the plain "para. 1" (for an index where the
    resolution is a document of its own)."""
    asked = asked_parts(question) if parts else []
    out = [name for name, _ in asked]
    for m in _NAMED_UNIT.finditer(question):
        if any(a <= m.start() < b for _, (a, b) in asked):
            continue
        if m.group("art"):
            out.append(f"Art. {m.group('art_no')}{m.group('art_par') or ''}")
            if not m.group("art_par"):
                out.append(f"Art. {m.group('art_no')}(")
        elif m.group("para"):
            out.append(f"para. {m.group('para_no')}")
        elif m.group("note"):
            out.append(f"fn. {m.group('note_no')}")
        else:
            out.append(f"para. {m.group('dotted')}")
    return out


@dataclass(frozen=True)
class Evidence:
    """The ranked paragraphs of one question and what the composer needs to score their sentences."""

    hits: tuple[Hit, ...]
    query: np.ndarray  # the question's unit vector
    lexical: np.ndarray  # paragraph row -> BM25 score
    hit_rows: tuple[int, ...]  # paragraph row of each hit
    rows: range  # paragraph rows searched (a document filter narrows it)


def _flat(vectors: np.ndarray | VectorFile, dimension: int) -> faiss.Index:
    index = faiss.IndexFlatIP(dimension)
    index.add(np.asarray(vectors, dtype=np.float32))
    return index


class Retriever:
    """Searches one loaded index; FAISS holds the vectors, bm25s the term index."""

    def __init__(
        self,
        data: IndexData,
        *,
        fusion: str = "weighted",
        rrf_k: int = 60,
        lexical_weight: float = Settings().lexical_weight,
        depth: int = 256,
        nprobe: int = Settings().nprobe,
        adapter: QueryAdapter | None = None,
    ) -> None:
        if fusion not in ("weighted", "rrf"):
            raise BadSetting(f"fusion must be 'weighted' or 'rrf', got {fusion!r}")
        self.data = data
        self.fusion = fusion
        self.rrf_k = rrf_k
        self.lexical_weight = lexical_weight
        self.depth = depth  # nearest windows and sentences looked at per question
        self.nprobe = nprobe
        self.adapter = adapter  # moves the question's vector before paragraphs are ranked
        self._labels: dict[str, list[int]] | None = None  # citation label -> paragraph rows, when first needed
        # A large index brings approximate search indexes (IVF); a small one is searched exactly.
        self._windows = (
            data.window_ann if data.window_ann is not None else _flat(data.window_vectors, data.manifest.dimension)
        )
        # Sentences are searched across the whole index only while they are few (exactly);
        # above the index's threshold, only the sentences of the paragraphs found are scored.
        small = len(data.sentence_vectors) <= data.manifest.build.ann_threshold
        self._sentences = _flat(data.sentence_vectors, data.manifest.dimension) if small else None
        # Each document's windows and sentence windows, as [first, last) ranges: the owner
        # columns are sorted, so binary search finds them (a pass per document was quadratic:
        # opening an index of 9,036 documents took 83 s, 14.5 s without it: bench/scale.py).
        docs = list(data.doc_rows)
        firsts = np.array([data.doc_rows[d][0] for d in docs], dtype=np.int64)
        lasts = np.array([data.doc_rows[d][1] for d in docs], dtype=np.int64)
        w_first, w_last = (np.searchsorted(data.window_owner, x) for x in (firsts, lasts))
        s_first, s_last = (np.searchsorted(data.sentence_paragraph, x) for x in (firsts, lasts))
        sw_first, sw_last = (np.searchsorted(data.sentence_window_owner, x) for x in (s_first, s_last))
        self._window_rows: dict[str, tuple[int, int]] = {
            d: (int(a), int(b)) for d, a, b in zip(docs, w_first, w_last, strict=True)
        }
        self._sentence_rows: dict[str, tuple[int, int]] = {
            d: (int(a), int(b)) for d, a, b in zip(docs, sw_first, sw_last, strict=True)
        }

    def _dense(
        self, index: faiss.Index, query: np.ndarray, span: tuple[int, int] | None, depth: int
    ) -> tuple[np.ndarray, np.ndarray]:
        n = min(depth, index.ntotal if span is None else span[1] - span[0])
        if n <= 0:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        sel = faiss.IDSelectorRange(span[0], span[1]) if span is not None else None
        params: faiss.SearchParameters | None
        if isinstance(index, faiss.IndexIVF):
            params = faiss.SearchParametersIVF(sel=sel, nprobe=min(self.nprobe, index.nlist))  # type: ignore[call-arg]
        else:
            params = faiss.SearchParameters(sel=sel) if sel is not None else None  # type: ignore[call-arg]
        scores, ids = index.search(query.reshape(1, -1), n, params=params)
        keep = ids[0] >= 0
        return scores[0][keep], ids[0][keep]

    def _best_sentences(self, paragraph_rows: np.ndarray, query: np.ndarray, n: int) -> np.ndarray:
        """Each paragraph's best sentence cosine, for some paragraphs (0 for the others): their
        sentence vectors are the only ones read."""
        data = self.data
        best = np.zeros(n, dtype=np.float32)
        rows = data.sentences_of(paragraph_rows)
        if len(rows):
            np.maximum.at(best, data.sentence_paragraph[rows], data.sentence_cosines(rows, query))
        return best

    def labelled(self, labels: list[str]) -> list[int]:
        """The paragraph rows whose citation label is one of these (or, for "Art. 24(", any
        paragraph of article 24); [] for an index too large to gather its labels."""
        if not labels or len(self.data.paragraphs) > LABEL_SCAN_LIMIT:
            return []
        if self._labels is None:
            table: dict[str, list[int]] = {}
            for row, p in enumerate(self.data.paragraphs):
                name = label(p)
                table.setdefault(name, []).append(row)
                if name.startswith("Art. ") and "(" in name:
                    table.setdefault(name[: name.index("(") + 1], []).append(row)
                if (prefix := part_prefix(name)) is not None:  # "res. 68/6, ": any paragraph of it
                    table.setdefault(prefix, []).append(row)
            self._labels = table
        return sorted({row for name in labels for row in self._labels.get(name, [])})

    def search(
        self,
        query_vector: np.ndarray,
        query_terms: list[str],
        *,
        k: int,
        doc_id: str | None = None,
        question: str = "",
        document_weights: dict[str, float] | None = None,
    ) -> Evidence:
        """Rank paragraphs for a question by fusing window, sentence and BM25 rankings. The
        evidence keeps the question's own vector, with which its sentences are then scored.
        `document_weights` are added to the fused scores of each named document's paragraphs
        (weighted fusion; reciprocal rank fusion has no scores to add them to)."""
        data = self.data
        question_vector = query_vector
        if self.adapter is not None:
            query_vector = self.adapter(query_vector)
        n = len(data.paragraphs)
        if doc_id is not None and doc_id not in data.doc_rows:
            name = doc_id if len(doc_id) <= 80 else doc_id[:77] + "..."
            known = sorted(data.doc_rows)
            listed = ", ".join(known[:10]) + (f" and {len(known) - 10} more" if len(known) > 10 else "")
            raise InputError(f"no document '{name}' in the index; known: {listed}")
        first, last = data.doc_rows[doc_id] if doc_id else (0, n)
        wspan = self._window_rows[doc_id] if doc_id else None
        sspan = self._sentence_rows[doc_id] if doc_id else None

        depth = max(self.depth, 50 * k)
        ws, wi = self._dense(self._windows, query_vector, wspan, depth)
        dense = np.maximum(max_by_owner(ws, data.window_owner[wi], n), 0.0)
        lexical = np.zeros(n, dtype=np.float32)
        if query_terms and n:
            lexical = np.asarray(data.bm25.get_scores(query_terms), dtype=np.float32)  # type: ignore[attr-defined]
        if self._sentences is not None:
            ss, si = self._dense(self._sentences, query_vector, sspan, depth)
            best_sentence = np.maximum(max_by_owner(ss, data.window_owner_of_sentences(si), n), 0.0)
        else:
            scores = lexical[first:last]
            top = np.argpartition(-scores, depth)[:depth] if len(scores) > depth else np.arange(len(scores))
            by_terms = first + top[scores[top] > 0]
            found = np.union1d(data.window_owner[wi], by_terms)
            best_sentence = self._best_sentences(found, query_vector, n)

        rows = np.arange(first, last)
        # Paragraphs the question names by number ("recommendation 121.184", "article 24(1)") come
        # first, in the order of their scores (kept as they are): their number is not in their words.
        named = [r for r in self.labelled(named_units(question)) if first <= r < last]
        if not named:  # "paragraph 4 of resolution 80/3" where the resolution is a document of its own
            named = [r for r in self.labelled(named_units(question, parts=False)) if first <= r < last]
        if self.fusion == "rrf":
            rankings = [
                rows[np.argsort(-dense[first:last], kind="stable")],
                rows[np.argsort(-best_sentence[first:last], kind="stable")],
            ]
            if lexical[first:last].max(initial=0.0) > 0:
                order = np.argsort(-lexical[first:last], kind="stable")
                rankings.append(rows[order][lexical[first:last][order] > 0])
            fused = fuse_rrf([r[:depth].tolist() for r in rankings], k=self.rrf_k)
            best = sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
            named_scores = [(row, fused.get(row, 0.0)) for row in named]
        else:
            scores = fuse_scores(
                np.maximum(dense[first:last], best_sentence[first:last]), lexical[first:last], self.lexical_weight
            )
            for doc, weight in (document_weights or {}).items():
                if doc not in data.doc_rows:
                    continue  # not a document of this index: nothing to rank higher
                a, b = data.doc_rows[doc]
                a, b = max(a, first) - first, min(b, last) - first
                if a < b:
                    scores[a:b] += weight
            top = np.argpartition(-scores, min(k, len(scores) - 1))[:k] if len(scores) > k else np.arange(len(scores))
            top = top[np.lexsort((top, -scores[top]))]
            best = [(int(first + i), float(scores[i])) for i in top]
            named_scores = [(row, float(scores[row - first])) for row in named]
        if named_scores:
            # At most NAMED_FIRST of them: "paragraph 12" names a paragraph in every numbered document.
            named_scores = sorted(named_scores, key=lambda rs: (-rs[1], rs[0]))[: min(k, NAMED_FIRST)]
            chosen = {row for row, _ in named_scores}
            best = (named_scores + [b for b in best if b[0] not in chosen])[:k]
        hits = tuple(
            Hit(paragraph=data.paragraphs[row], score=float(score), rank=i)
            for i, (row, score) in enumerate(best, start=1)
        )
        return Evidence(
            hits=hits,
            query=question_vector,
            lexical=lexical,
            hit_rows=tuple(row for row, _ in best),
            rows=range(first, last),
        )
