"""Is each quote really in the paragraph it cites, at the offsets it claims, and in the source file?"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.cite.citations import label
from rag.readers import read_document
from rag.text.lines import quotable
from rag.types import Paragraph


def normalise(text: str) -> str:
    """Whitespace collapsed, typographic quotes kept: the form quotes are compared in."""
    return re.sub(r"\s+", " ", text).strip()


@dataclass(frozen=True)
class GroundingFailure:
    """A citation whose quote could not be found where it says it is."""

    qid: str
    doc: str
    para: int | str
    quote: str
    problem: str


class GroundingChecker:
    """Checks citations against the indexed paragraphs and, independently, their source files."""

    def __init__(self, paragraphs: Sequence[Paragraph], corpus: Path | None, files: Mapping[str, str]) -> None:
        self.paragraphs = {(p.doc_id, label(p)): p for p in paragraphs}
        self.numbered = {(p.doc_id, p.number): p for p in reversed(paragraphs) if p.kind == "para"}
        self.corpus = corpus
        self.files = dict(files)
        self._sources: dict[str, tuple[str, ...] | None] = {}

    def _source_lines(self, doc: str) -> tuple[str, ...] | None:
        if doc not in self._sources:
            path = self.corpus / self.files[doc] if self.corpus and doc in self.files else None
            self._sources[doc] = read_document(path).lines if path and path.is_file() else None
        return self._sources[doc]

    def check(self, qid: str, citation: Mapping[str, Any]) -> GroundingFailure | None:
        """None if the citation holds, else what is wrong with it."""
        doc, quote = str(citation["doc"]), str(citation["quote"])
        cite = citation.get("cite") or None
        number = int(citation["para"]) if citation.get("para") is not None else None
        para: int | str = number if number is not None else str(cite)
        start, end = int(citation["start"]), int(citation["end"])

        def fail(problem: str) -> GroundingFailure:
            return GroundingFailure(qid, doc, para, quote, problem)

        # A citation names its paragraph by reference ("para. 145.20", "fn. 3") and by number;
        # when the two disagree, the number is checked.
        paragraph = self.paragraphs.get((doc, str(cite))) if cite else None
        if number is not None and (paragraph is None or paragraph.number != number):
            paragraph = self.numbered.get((doc, number))
        if paragraph is None:
            return fail(f"{doc} has no paragraph {para}")
        if not quote.strip():
            return fail("empty quote")
        if paragraph.text[start:end] != quote:
            if normalise(quote) in normalise(paragraph.text):
                return fail(f"quote is in paragraph {para} but not at offsets {start}-{end}")
            return fail(f"quote is not in paragraph {para}")
        lines = self._source_lines(doc)
        if lines is not None:
            first, last = paragraph.lines
            source = normalise(" ".join(quotable(line) for line in lines[first - 1 : last]))
            if normalise(quote) not in source:
                return fail(f"quote is not in the source file at lines {first}-{last}")
        return None

    def check_record(self, record: Mapping[str, Any]) -> list[GroundingFailure]:
        """Every failing citation of one answer record."""
        out = []
        for citation in record.get("citations", []):
            failure = self.check(str(record.get("id")), citation)
            if failure is not None:
                out.append(failure)
        return out
