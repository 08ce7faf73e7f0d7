"""How a citation is written: the one place for labels, pages, markers and copy text.

A paragraph is named by the document's own reference ("para. 12", "para. 145.20",
"Art. 24(1)", "res. 68/6, para. 1" in a part numbered on its own, "fn. 27", "preamble") or, in a document without numbers, by its position
("para. 3, counted in order"). A quote from a paged document adds the page or pages it
stands on ("p. 4", "pp. 3-4"). A document is named by its symbol when it has one
("A/HRC/28/9"), else by its id.
"""

from __future__ import annotations

from collections.abc import Mapping

from rag.cite.documents import as_documents
from rag.types import Citation, DocumentInfo, Paragraph


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


def short_form(citation: Citation, documents: Mapping[str, DocumentInfo], *, with_doc: bool = True) -> str:
    """ "A/HRC/28/9, para. 10, p. 4": document (when asked), paragraph and page."""
    parts = [as_documents(documents).name(citation.doc_id)] if with_doc else []
    parts.append(label(citation))
    if citation.pages:
        parts.append(pages_text(citation.pages))
    return ", ".join(parts)


def marker(citation: Citation, documents: Mapping[str, DocumentInfo] | None = None) -> str:
    """The inline marker after a quote: "[para. 50]" when the index holds one document,
    "[A/HRC/28/9, para. 10, p. 4]" when it holds several."""
    documents = documents or {}
    return f"[{short_form(citation, documents, with_doc=len(documents) > 1)}]"


def copy_text(citation: Citation, documents: Mapping[str, DocumentInfo]) -> str:
    """What "copy citation" gives: "<title> (<symbol>), para. 10, p. 4"."""
    return f"{as_documents(documents).title(citation.doc_id)}, {short_form(citation, documents, with_doc=False)}"


def paragraph_name(paragraph: Paragraph, documents: Mapping[str, DocumentInfo]) -> str:
    """A retrieved paragraph named as in an abstention's "closest paragraphs": with its document
    when the index holds several, and its pages."""
    parts = [as_documents(documents).name(paragraph.doc_id)] if len(documents) > 1 else []
    parts.append(label(paragraph))
    if paragraph.pages:
        parts.append(pages_text(paragraph_pages(paragraph)))
    return ", ".join(parts)


def on_ocr_pages(doc_id: str, pages: tuple[int, ...], documents: Mapping[str, DocumentInfo]) -> bool:
    """Do any of these pages of the document stand on a page read by OCR (a scan without a text
    layer)? Text from one is what the OCR read, which may differ from the print."""
    info = documents.get(doc_id)
    return info is not None and bool(set(pages) & set(info.ocr_pages))


def read_by_ocr(citation: Citation, documents: Mapping[str, DocumentInfo]) -> bool:
    """Does the quote stand on a page read by OCR? The user should check it on the scan."""
    return on_ocr_pages(citation.doc_id, citation.pages, documents)
