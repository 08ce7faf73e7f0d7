"""Text outside the numbered paragraphs of a numbered document: a summary or covering letter before
paragraph 1, an annex or list after it. It is indexed as blocks cited by the headings they stand
under, numbered below every paragraph (never cited by number)."""

from __future__ import annotations

import re

from rag.text.lines import ANNEX, Block, Line
from rag.types import Document, Paragraph

#: Text outside the numbered paragraphs of a numbered document (an annex, a list under its own
#: heading) is numbered from -(this + 1) down: apart from footnotes (-1, -2, ...) and paragraphs.
OUTSIDE_NUMBERS = 10_000


def unnumbered_label(section: tuple[str, ...]) -> str:
    """How text outside the numbered paragraphs is cited: by the headings it sits under, as the
    document prints them ("Annex, Composition of the delegation"; "Summary")."""
    annex = next((h for h in section if ANNEX.match(h)), None)
    last = " ".join(section[-1].split()[:10]) if section else ""
    if annex is None:
        return last or "unnumbered text"
    return annex if last in ("", annex) else f"{annex}, {last}"


#: A line of a table of contents: a title, dot leaders, a page or paragraph number.
_CONTENTS_LINE = re.compile(r"\.{4,}|(?:\. ){4,}|\u2026{2,}")


def numbered_outside(outside: list[Block], first_paragraph_line: int) -> list[Block]:
    """Text outside the numbered paragraphs gets numbers of its own, below every paragraph's (it
    is cited by its headings, never by a number): the blocks after paragraph 1 first, then those
    before it, so that adding the text before paragraph 1 left the others' numbers as they were."""
    after = [b for b in outside if b.first_line > first_paragraph_line]
    before = [b for b in outside if b.first_line <= first_paragraph_line]
    for i, block in enumerate(after + before, start=1):
        block.number = -OUTSIDE_NUMBERS - i
    return outside


def front_line(
    front: list[Block], block: Block | None, line: Line, section: tuple[str, ...], after_blank: bool
) -> Block | None:
    """Add a line standing before paragraph 1 to the text block of its heading (a summary, the
    covering letter of a report): cited by that heading, one line per run of lines. A table of
    contents is not text to quote: its lines are left out."""
    if _CONTENTS_LINE.search(line.text) or any(h.strip().lower() == "contents" for h in section):
        return block
    if block is None:
        block = Block(line.number, section=section, kind="text")
        front.append(block)
        after_blank = True
    if after_blank or not block.parts:
        block.add(line.number, line.text, True)
    else:
        text, _, first = block.parts[-1]
        block.parts[-1] = (f"{text} {line.text}", True, first)
        block.last_line = line.number
    return block


_SENTENCE_END = re.compile(r"[.:;!?\u201d\"')\]]$")


def is_statement(text: str) -> bool:
    """Does a run of lines read as a statement (six words or more, ending as a sentence does, or
    twelve words or more, or a "(Signed)" line), not as a masthead's particulars ("24 April 2017", "Original: English",
    "Twenty-eighth session Agenda item 6")?"""
    words = len(text.split())
    if text.lstrip().lower().startswith("(signed)"):
        return True  # who signed a covering letter: a fact a user asks about
    return words >= 12 or (words >= 6 and bool(_SENTENCE_END.search(text.strip())))


def left_out_lines(doc: Document, paragraphs: list[Paragraph]) -> tuple[int, ...]:
    """The lines of text (not headings, not blank) that no paragraph holds: what was left out on
    purpose, so that the index can say so rather than drop text silently."""
    from rag.text.lines import classify_lines

    held: set[int] = set()
    for p in paragraphs:
        held.update(range(p.lines[0], p.lines[1] + 1))
    return tuple(
        line.number
        for line in classify_lines(doc)
        if line.kind not in ("heading", "blank", "rule") and line.text.strip() and line.number not in held
    )


_CELL_NUMBER = re.compile(r"^[\d.,%\u2013\u2014-]+$")


def is_table_row(text: str) -> bool:
    """Does a line read as a row of figures ("2021 January 30 2 8 1 9 50")? Rows stay lines of
    their own, so that a question about one quotes that row, not the whole table."""
    cells = text.split()
    return len(cells) >= 3 and sum(bool(_CELL_NUMBER.match(c)) for c in cells) >= len(cells) / 2
