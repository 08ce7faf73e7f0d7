"""The document a question names: by its symbol ("A/RES/80/12", "resolution 80/12") or in words
("the child rights treaty", "the 1961 Vienna diplomatic treaty"). When several documents are
indexed together, the paragraphs of the document named are ranked higher: by symbol, as much as
a title that matches; in words, by how much closer its title is to the words than the median
title. Every question, naming a document or not, also ranks higher the documents whose content
as a whole (the mean of their paragraphs' vectors) is closest to it: a resolution's operative
paragraphs ("Decides to include the item in the provisional agenda ...") seldom repeat what the
resolution is about."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

import numpy as np

from rag.encode.embedding import Embedder
from rag.index import IndexData
from rag.readers.masthead import symbol_parts
from rag.types import DocumentInfo

_HEAD = (
    r"(?:convention|treaty|protocol|agreement|accord|charter|covenant|resolution|declaration|report|pact|"
    r"statute|treaties|conventions|protocols|agreements)"
)
_SMALL = (
    r"(?:the|of|from|under|to|by|with|on|in|for|a|an|and|did|does|do|is|are|was|were|this|that|its|their|"
    r"what|which|who|how|when|why|whose|has|have|had|can|could|may|might|must|shall|should|will|would)"
)
# "the air hijacking convention", "this 1958 Geneva fisheries treaty", "the Convention on the Rights
# of the Child": a determiner, up to six words of its own, the kind of instrument and its name.
_NAMED = re.compile(
    rf"\b(?:the|this|that|its|their|a|an)\s+(?P<words>(?P<own>(?:(?!{_SMALL}\b)[\w'’.-]+\s+){{0,6}}){_HEAD}"
    rf"(?P<name>(?:\s+(?:on|of|for|against|between|concerning|and)(?:\s+(?:the\s+)?(?-i:[A-Z])[\w'’-]*)+)*))\b",
    re.IGNORECASE,
)
# A symbol as a question writes it ("A/RES/80/12", "E/CN.7/2025/11"), or a resolution by its number.
_SYMBOL = re.compile(r"(?<![\w/])([A-Z]{1,6}(?:/[A-Za-z0-9.]+)+)(?![\w/])")
_RESOLUTION = re.compile(r"\bresolutions?\s+(\d{1,3}/\d{1,4})\b", re.IGNORECASE)
#: A document named by its symbol, or by the acronym of its title, weighs as much as a title this
#: much closer than the median.
SYMBOL_MATCH = 1.0
_ACRONYM = re.compile(r"\b[A-Z]{3,6}\b")
_TITLE_SMALL = frozenset("on the of and for in to a an with by against between concerning its their".split())


def title_acronyms(title: str) -> set[str]:
    """The acronyms (3 to 6 letters) a title goes by: the initials of its words but the small ones
    ("CRC" for the Convention on the Rights of the Child) and any it prints in brackets ("(WPPT)")."""
    plain = re.sub(r"\([^)]*\)", " ", title)
    words = [w for w in re.findall(r"[A-Za-z][\w'’-]*", plain) if w.lower() not in _TITLE_SMALL]
    initials = "".join(w[0].upper() for w in words)
    return ({initials} if 3 <= len(initials) <= 6 else set()) | set(re.findall(r"\(([A-Z]{3,6})\)", title))


def document_words(question: str) -> str | None:
    """The words with which a question names a document ("the air hijacking convention", "the
    Convention on the Rights of the Child"), or None: "the protocol" names none in particular."""
    for m in _NAMED.finditer(question):
        if m.group("own") or m.group("name"):
            return m.group("words")
    return None


def _symbol_names(symbol: str) -> set[str]:
    """How a question may name a document with this symbol: the symbol, each half of a joint one
    ("A/80/62-E/2025/12"), and "resolution 80/12" for A/RES/80/12."""
    names = {part.upper() for part in symbol_parts(symbol)}
    for part in symbol_parts(symbol):
        if resolution := re.fullmatch(r"A/RES/(\d+/\d+)", part):
            names.add(f"RES {resolution.group(1)}")
    return names


class DocumentPrior:
    """How much each document is named by a question; titles are encoded when first needed."""

    def __init__(self, data: IndexData, embedder: Embedder) -> None:
        self.data = data
        self.embedder = embedder
        # Built when first needed, each in one assignment (the page answers on several threads).
        self._titles: tuple[Sequence[str], np.ndarray, np.ndarray] | None = None
        self._by_symbol: dict[str, set[str]] | None = None
        self._by_acronym: dict[str, set[str]] | None = None
        self._centroids: tuple[Sequence[str], np.ndarray] | None = None

    def _names(self, names_of: Callable[[DocumentInfo], Iterable[str]]) -> dict[str, set[str]]:
        """Name -> the indexed documents that go by it."""
        table: dict[str, set[str]] = {}
        documents = self.data.manifest.documents
        for doc_id in self.data.doc_rows:
            if doc_id in documents:
                for name in names_of(documents[doc_id]):
                    table.setdefault(name, set()).add(doc_id)
        return table

    def weights(self, question: str) -> dict[str, float]:
        """Document id -> weight: the documents the question names by symbol; else those whose
        titles are closest to the words naming one, and those it names by their title's acronym;
        {} when it names none."""
        named = self.named_by_symbol(question)
        if named:
            return dict.fromkeys(named, SYMBOL_MATCH)
        words = document_words(question)
        weights = self.by_title(words) if words else {}
        return weights | dict.fromkeys(self.named_by_acronym(question), SYMBOL_MATCH)

    def named_by_acronym(self, question: str) -> set[str]:
        asked = set(_ACRONYM.findall(question))
        if not asked:
            return set()
        if self._by_acronym is None:
            self._by_acronym = self._names(lambda info: title_acronyms(info.title or ""))
        return {doc for acronym in asked for doc in self._by_acronym.get(acronym, ())}

    def named_by_symbol(self, question: str) -> set[str]:
        if self._by_symbol is None:
            self._by_symbol = self._names(lambda info: _symbol_names(info.symbol) if info.symbol else set())
        asked = {m.upper() for m in _SYMBOL.findall(question)}
        asked |= {f"RES {m}" for m in _RESOLUTION.findall(question)}
        return {doc for name in asked for doc in self._by_symbol.get(name, ())}

    def _encoded_titles(self) -> tuple[Sequence[str], np.ndarray, np.ndarray]:
        if self._titles is None:
            documents = self.data.manifest.documents
            docs = list(self.data.doc_rows)
            titles = [(documents[d].title or "") if d in documents else "" for d in docs]
            self._titles = (docs, self.embedder.encode([t or "-" for t in titles]), np.array([bool(t) for t in titles]))
        return self._titles

    def _document_centroids(self) -> tuple[Sequence[str], np.ndarray]:
        """Each document's unit mean of its windows' vectors, read once, a document at a time."""
        if self._centroids is None:
            data = self.data
            docs = list(data.doc_rows)
            centroids = np.zeros((len(docs), data.manifest.dimension), dtype=np.float32)
            for i, doc in enumerate(docs):
                first, last = data.doc_rows[doc]
                a, b = np.searchsorted(data.window_owner, [first, last])
                if b > a:
                    total = np.asarray(data.window_vectors[a:b], dtype=np.float32).sum(axis=0)
                    centroids[i] = total / max(float(np.linalg.norm(total)), 1e-9)
            self._centroids = (docs, centroids)
        return self._centroids

    def by_content(self, question_vector: np.ndarray) -> dict[str, float]:
        """Each document's cosine between its centroid and the question (the packaged model's
        vector), less the median over all documents, where above it."""
        docs, centroids = self._document_centroids()
        if len(docs) < 2:
            return {}
        cos = centroids @ np.asarray(question_vector, dtype=np.float32)
        median = float(np.median(cos))
        return {d: float(c - median) for d, c in zip(docs, cos, strict=True) if c > median}

    def by_title(self, words: str) -> dict[str, float]:
        """Each document's title cosine with the words, less the median of them all, where above it."""
        docs, vectors, titled = self._encoded_titles()
        if titled.sum() < 2:
            return {}
        cos = vectors @ self.embedder.encode([words])[0]
        median = float(np.median(cos[titled]))
        return {d: float(c - median) for d, c, t in zip(docs, cos, titled, strict=True) if t and c > median}
