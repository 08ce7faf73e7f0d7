"""The document a question names in words ("the child rights treaty", "the 1961 Vienna diplomatic
treaty"): when many documents are indexed together, the paragraphs of the document whose title is
closest to those words are ranked a little higher."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from rag.encode.embedding import Embedder
from rag.index import IndexData

_HEAD = (
    r"(?:convention|treaty|protocol|agreement|accord|charter|covenant|resolution|declaration|report|pact|"
    r"statute|treaties|conventions|protocols|agreements)"
)
_SMALL = (
    r"(?:the|of|from|under|to|by|with|on|in|for|a|an|and|did|does|do|is|are|was|were|this|that|its|their|"
    r"what|which|who|how|when|why|whose|has|have|had|can|could|may|might|must|shall|should|will|would)"
)
# "the air hijacking convention", "this 1958 Geneva fisheries treaty", "the Convention on the Rights
# of the Child": a determiner, one to six words of its own, the kind of instrument and its name.
_NAMED = re.compile(
    rf"\b(?:the|this|that|its|their|a|an)\s+(?P<words>(?P<own>(?:(?!{_SMALL}\b)[\w'’.-]+\s+){{0,6}}){_HEAD}"
    rf"(?P<name>(?:\s+(?:on|of|for|against|between|concerning|and)(?:\s+(?:the\s+)?(?-i:[A-Z])[\w'’-]*)+)*))\b",
    re.IGNORECASE,
)


def document_words(question: str) -> str | None:
    """The words with which a question names a document ("the air hijacking convention", "the
    Convention on the Rights of the Child"), or None: "the protocol" names none in particular."""
    for m in _NAMED.finditer(question):
        if m.group("own") or m.group("name"):
            return m.group("words")
    return None


class TitlePrior:
    """Each document's closeness to the words naming a document, above the median of them all;
    the titles are encoded when first needed."""

    def __init__(self, data: IndexData, embedder: Embedder) -> None:
        self.data = data
        self.embedder = embedder
        self._docs: Sequence[str] = ()
        self._vectors: np.ndarray | None = None
        self._titled: np.ndarray | None = None

    def _titles(self) -> tuple[Sequence[str], np.ndarray, np.ndarray]:
        if self._vectors is None or self._titled is None:
            documents = self.data.manifest.documents
            self._docs = list(self.data.doc_rows)
            titles = [(documents[d].title or "") if d in documents else "" for d in self._docs]
            self._titled = np.array([bool(t) for t in titles])
            self._vectors = self.embedder.encode([t or "-" for t in titles])
        return self._docs, self._vectors, self._titled

    def weights(self, words: str) -> dict[str, float]:
        docs, vectors, titled = self._titles()
        if titled.sum() < 2:
            return {}
        cos = vectors @ self.embedder.encode([words])[0]
        median = float(np.median(cos[titled]))
        return {d: float(c - median) for d, c, t in zip(docs, cos, titled, strict=True) if t and c > median}
