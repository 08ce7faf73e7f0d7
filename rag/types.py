"""The values passed between stages: document -> paragraphs -> index -> hits -> answer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Document:
    """A source file as read: its lines (markup kept) and what it says about itself."""

    doc_id: str
    path: str  # relative to the corpus folder
    lines: tuple[str, ...]
    title: str | None = None
    date: str | None = None
    symbol: str | None = None
    sha256: str = ""
    pages: tuple[int, ...] = ()  # the page of each line, for formats that have pages
    short_title: str | None = None  # how citations name it when it has no symbol (front matter)
    kind: str = "text"  # "text", "pdf", "docx" or "html": the reader that made it
    ocr_pages: tuple[int, ...] = ()  # pages (1-based) read by OCR: scans without a text layer


@dataclass(frozen=True, slots=True)
class Paragraph:
    """One citable paragraph: the document's own number and its quotable text."""

    doc_id: str
    number: int  # the document's own "23." -> 23, or its position when unnumbered
    text: str  # quotable text, markup stripped
    section: tuple[str, ...] = ()
    lines: tuple[int, int] = (0, 0)  # 1-based, inclusive line span in the source file
    numbered_by_source: bool = True
    ref: str = ""  # the source's own reference when it is not "para. <number>": "Art. 24(1)", "fn. 27"
    kind: str = "para"  # "para"; "note" for a footnote or a figure's caption; "text" for text outside the numbered paragraphs (an annex), cited by its headings
    pages: tuple[tuple[int, int], ...] = ()  # (offset in text, page) where each page of it starts


@dataclass(frozen=True, slots=True)
class Sentence:
    """A sentence of a paragraph, located by character offsets in the paragraph text."""

    start: int
    end: int


@dataclass(frozen=True, slots=True)
class DocumentInfo:
    """What the index remembers of a document."""

    doc_id: str
    file: str
    sha256: str
    paragraphs: int
    title: str | None = None
    date: str | None = None
    symbol: str | None = None
    numbered: bool = True
    pages: int = 0  # pages of a paged document (PDF), else 0
    format: str = "text"  # the reader that read it: "text", "pdf", "docx", "html"
    # Citations name a document without a symbol by this (front matter `short_title:`, else the
    # first words of its title); None in indexes built before it was kept.
    short_title: str | None = None
    # The file's size, modification and change times (ns) and inode when it was read: while all
    # four are the same, loading the index need not hash the file again. None: always hashed.
    stat: tuple[int, ...] | None = None
    # The pages read by OCR (scans without a text layer): quotes from them may hold misreadings.
    ocr_pages: tuple[int, ...] = ()
    # Lines of text that stand in no paragraph on purpose (a table of contents, a masthead's date
    # and languages, a few words alone): never quoted, and named where the user sees it.
    left_out: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Hit:
    """A retrieved paragraph with its fused score and rank (1 = best)."""

    paragraph: Paragraph
    score: float
    rank: int


@dataclass(frozen=True, slots=True)
class Citation:
    """A verbatim quote: paragraph.text[start:end] == quote."""

    doc_id: str
    paragraph: int
    section: tuple[str, ...]
    quote: str
    start: int
    end: int
    score: float
    numbered_by_source: bool = True
    label: str = ""  # the paragraph's name in the citation: "para. 10", "Art. 24(1)", "fn. 27"
    pages: tuple[int, ...] = ()  # the pages the quote stands on, for documents with pages
    kind: str = "para"  # "para", "note" for a footnote, "text" for unnumbered text (an annex)


@dataclass(frozen=True, slots=True)
class Answer:
    """What `ask` returns: quotes with inline markers, or an abstention with its reason."""

    question: str
    text: str
    citations: tuple[Citation, ...]
    hits: tuple[Hit, ...]
    abstained: bool
    reason: str | None = None
    confidence: float = 0.0
    documents: Mapping[str, DocumentInfo] = field(default_factory=dict, compare=False)
    scorer: str = ""  # what scored the sentences: "answer-selector@<version>", or "hand"
