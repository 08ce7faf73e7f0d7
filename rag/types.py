"""The values passed between stages: document -> paragraphs -> index -> hits -> answer."""

from __future__ import annotations

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


@dataclass(frozen=True, slots=True)
class Paragraph:
    """One citable paragraph: the document's own number and its quotable text."""

    doc_id: str
    number: int  # the document's own "23." -> 23, or its position when unnumbered
    text: str  # quotable text, markup stripped
    section: tuple[str, ...] = ()
    lines: tuple[int, int] = (0, 0)  # 1-based, inclusive line span in the source file
    numbered_by_source: bool = True


def paragraph_label(number: int, numbered_by_source: bool = True) -> str:
    """How a paragraph is named in a citation: "para. 12", "para. 3, counted in order", or
    "preamble" for the text before paragraph 1 of a resolution (paragraph 0)."""
    if numbered_by_source and number == 0:
        return "preamble"
    return f"para. {number}" if numbered_by_source else f"para. {number}, counted in order"


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
    documents: dict[str, DocumentInfo] = field(default_factory=dict, compare=False)
    scorer: str = ""  # what scored the sentences: "answer-selector@<version>", or "hand"
