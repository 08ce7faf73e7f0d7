"""A document without paragraph numbers of its own (a speech, a letter, a web page): its
paragraphs are the blocks a reader sees, numbered in order of appearance by the caller."""

from __future__ import annotations

import re

from rag.text.lines import Block, Line, Sections
from rag.types import Document

#: A plain text file whose lines average at least this many characters writes one paragraph a
#: line (speeches, transcripts), not one a block of lines between blank lines.
PROSE_LINE = 200
_ENDS_SENTENCE = re.compile(r"[.!?:;\"'”’)\]]\s*$")


def _line_per_paragraph(doc: Document, lines: list[Line]) -> bool:
    """Is this a plain text file that puts each paragraph on one long line, with no blank lines
    between them? (A General Debate speech in one block of 20 lines was one paragraph.)"""
    if doc.kind != "text" or not doc.path.lower().endswith(".txt"):
        return False
    text = [line.text for line in lines if line.kind == "text" and line.text]
    if len(text) < 3:
        return False
    runs, run = 0, 0
    for line in lines:
        run = run + 1 if line.kind == "text" else 0
        runs = max(runs, run)
    return runs >= 3 and sum(len(t) for t in text) / len(text) >= PROSE_LINE


def _opens_paragraph(previous: str, text: str) -> bool:
    """On a line-per-paragraph text, does this line open a paragraph? Not when the line before
    stops mid-sentence or this one goes on in lower case (a line broken inside a sentence)."""
    return bool(_ENDS_SENTENCE.search(previous)) and not text[:1].islower()


def unnumbered(doc: Document, lines: list[Line]) -> list[Block]:
    """The paragraphs of a document without numbers of its own, in order of appearance."""
    sections = Sections(doc.title)
    blocks: list[Block] = []
    current: Block | None = None
    per_line = _line_per_paragraph(doc, lines)
    previous = ""
    for line in lines:
        if line.kind in ("blank", "note"):
            current = None
            continue
        if line.kind == "heading":
            sections.push(line)
            current = None
            continue
        sections.seen_content = True
        # Without numbers of its own, a document's paragraphs are what blank lines separate,
        # as a reader sees them (a list set off by a blank line is a paragraph of its own).
        if current is None or (per_line and _opens_paragraph(previous, line.text)):
            current = Block(line.number, section=sections.path())
            blocks.append(current)
        current.add(line.number, line.text, line.is_list)
        previous = line.text
    return blocks
