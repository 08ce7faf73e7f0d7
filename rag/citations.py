"""How a citation is written: the one place for labels, pages, markers and copy text.

A paragraph is named by the document's own reference ("para. 12", "para. 145.20",
"Art. 24(1)", "fn. 27", "preamble") or, in a document without numbers, by its position
("para. 3, counted in order"). A quote from a paged document adds the page or pages it
stands on ("p. 4", "pp. 3-4"). A document is named by its symbol when it has one
("A/HRC/28/9"), else by its id.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping

from .types import Citation, DocumentInfo, Paragraph


def number_label(number: int, numbered_by_source: bool = True) -> str:
    """A paragraph named by its number: "para. 12", "para. 3, counted in order", or "preamble"
    for the text before paragraph 1 of a resolution (paragraph 0)."""
    if numbered_by_source and number == 0:
        return "preamble"
    return f"para. {number}" if numbered_by_source else f"para. {number}, counted in order"


def label(paragraph: Paragraph | Citation) -> str:
    """How the paragraph (or the paragraph a citation quotes) is named in a citation."""
    if isinstance(paragraph, Citation):
        return paragraph.label or number_label(paragraph.paragraph, paragraph.numbered_by_source)
    return paragraph.ref or number_label(paragraph.number, paragraph.numbered_by_source)


def quote_pages(paragraph: Paragraph, start: int, end: int) -> tuple[int, ...]:
    """The pages on which paragraph.text[start:end] stands; () for a document without pages."""
    marks = paragraph.pages
    pages = []
    for i, (offset, page) in enumerate(marks):
        until = marks[i + 1][0] if i + 1 < len(marks) else len(paragraph.text) + 1
        if offset < max(end, start + 1) and start < until:
            pages.append(page)
    return tuple(pages)


def paragraph_pages(paragraph: Paragraph) -> tuple[int, ...]:
    return tuple(page for _, page in paragraph.pages)


def pages_text(pages: tuple[int, ...] | list[int]) -> str:
    """ "p. 4", "pp. 3-4", or "" without pages."""
    if not pages:
        return ""
    first, last = min(pages), max(pages)
    return f"p. {first}" if first == last else f"pp. {first}\u2013{last}"


SHORT_TITLE_WORDS = 6


def short_title_of(title: str | None) -> str | None:
    """The first words of a title, for citations: up to its first comma or colon, at most six
    words ("Report on the meeting of the …"), on one line. A front matter `short_title:` goes
    through here too, so that no document can put a paragraph into every citation of it."""
    if not title or not title.strip():
        return None
    head = re.split(r"[,:;]\s", title.strip(), maxsplit=1)[0]
    words = head.split()
    short = " ".join(words[:SHORT_TITLE_WORDS])
    return short + " …" if len(words) > SHORT_TITLE_WORDS else short


def _short_title(info: DocumentInfo) -> str | None:
    return info.short_title or short_title_of(info.title)


def citation_names(documents: Mapping[str, DocumentInfo]) -> dict[str, str]:
    """How citations name each document among several: its symbol if no other document shares
    it, else its short title if no other document shares that, else its id."""
    symbols = Counter(info.symbol for info in documents.values() if info.symbol)
    shorts = Counter(_short_title(info) for info in documents.values())
    names = {}
    for doc_id, info in documents.items():
        short = _short_title(info)
        if info.symbol and symbols[info.symbol] == 1:
            names[doc_id] = info.symbol
        elif short and shorts[short] == 1:
            names[doc_id] = short
        else:
            names[doc_id] = doc_id
    return names


class DocumentTable(dict[str, DocumentInfo]):
    """The documents of an index by id, which also knows how citations name each of them.

    The names depend on every other document (a symbol two documents share names neither), so
    they are worked out once, on first use, not on every citation: a library of twenty
    thousand documents would otherwise spend milliseconds per citation. Changing the table
    makes it work them out again.
    """

    _names: dict[str, str] | None = None

    def names(self) -> dict[str, str]:
        if self._names is None:
            self._names = citation_names(self)
        return self._names

    def _changed(self) -> None:
        self._names = None

    def __setitem__(self, key: str, value: DocumentInfo) -> None:
        self._changed()
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        self._changed()
        super().__delitem__(key)

    def clear(self) -> None:
        self._changed()
        super().clear()

    def pop(self, *args):  # type: ignore[no-untyped-def, override]
        self._changed()
        return super().pop(*args)

    def popitem(self) -> tuple[str, DocumentInfo]:
        self._changed()
        return super().popitem()

    def setdefault(self, key: str, default: DocumentInfo) -> DocumentInfo:  # type: ignore[override]
        self._changed()
        return super().setdefault(key, default)

    def update(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def, override]
        self._changed()
        super().update(*args, **kwargs)

    def __ior__(self, other):  # type: ignore[no-untyped-def, override, misc]
        self._changed()
        return super().__ior__(other)


def document_name(doc_id: str, documents: Mapping[str, DocumentInfo]) -> str:
    """How a citation names a document among several (see `citation_names`)."""
    if doc_id not in documents:
        return doc_id
    names = documents.names() if isinstance(documents, DocumentTable) else citation_names(documents)
    return names[doc_id]


def short_form(citation: Citation, documents: Mapping[str, DocumentInfo], *, with_doc: bool = True) -> str:
    """ "A/HRC/28/9, para. 10, p. 4": document (when asked), paragraph and page."""
    parts = [document_name(citation.doc_id, documents)] if with_doc else []
    parts.append(label(citation))
    if citation.pages:
        parts.append(pages_text(citation.pages))
    return ", ".join(parts)


def marker(citation: Citation, documents: Mapping[str, DocumentInfo] | None = None) -> str:
    """The inline marker after a quote: "[para. 50]" when the index holds one document,
    "[A/HRC/28/9, para. 10, p. 4]" when it holds several."""
    documents = documents or {}
    return f"[{short_form(citation, documents, with_doc=len(documents) > 1)}]"


def document_title(doc_id: str, documents: Mapping[str, DocumentInfo]) -> str:
    """ "<title> (<symbol>)", or what of it the document has, or its id."""
    info = documents.get(doc_id)
    title = info.title if info is not None and info.title else doc_id
    if info is not None and info.symbol and info.symbol not in title:
        title = f"{title} ({info.symbol})"
    return title


def copy_text(citation: Citation, documents: Mapping[str, DocumentInfo]) -> str:
    """What "copy citation" gives: "<title> (<symbol>), para. 10, p. 4"."""
    return f"{document_title(citation.doc_id, documents)}, {short_form(citation, documents, with_doc=False)}"


def paragraph_name(paragraph: Paragraph, documents: Mapping[str, DocumentInfo]) -> str:
    """A retrieved paragraph named as in an abstention's "closest paragraphs": with its document
    when the index holds several, and its pages."""
    parts = [document_name(paragraph.doc_id, documents)] if len(documents) > 1 else []
    parts.append(label(paragraph))
    if paragraph.pages:
        parts.append(pages_text(paragraph_pages(paragraph)))
    return ", ".join(parts)
