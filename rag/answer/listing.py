"""Enumerated provisions: a line that ends with a colon and the lines it introduces.

Treaties and resolutions set out what a party must do as a lead-in ("Each State Party shall ensure
that its domestic legal system contains measures that provide to victims ...:") followed by items on
lines of their own ("a) Information on relevant court and administrative proceedings;"). Neither
half answers alone: the lead-in says nothing concrete, an item does not say what it is an item of.
An answer that quotes one of them quotes the other too (rag.answer.compose).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.answer.qtypes import asked_question

_ITEM_WORDS = re.compile(r"^\s*(?:list|name|enumerate|identify|give)\b", re.IGNORECASE)
# "What are the purposes ...", "Which rights does ...", "What measures must ...": a plural noun
# right after the question word asks for the things themselves, all of them.
_PLURAL_ASKED = re.compile(
    r"^\s*(?:(?:at|in|on|for|from|to|by|under|with|during|of|between|among)\s+)?(?:what|which)\s+(?:(?:are|were)\s+the\s+(?:\w+\s+)?(?P<listed>\w+s)\b"
    r"|(?:\w+\s+)?(?P<noun>\w+s)\s+(?:does|do|did|must|shall|should|may|can|are|were|has|have|will|would)\b)",
    re.IGNORECASE,
)
# "a) ", "(b) ", "(iii) ", "2. ": a line that opens an item of a list.
# The space after the mark is sometimes lost in the source ("(d)Ensure", "a.The testing").
_MARKER = re.compile(r"^\s*\(?(?:[a-z]|[ivx]{1,5}|\d{1,2})(?:\)\s*|\.\s+|\.(?=[A-Z]))", re.IGNORECASE)
_NOT_PLURAL = frozenset({"is", "was", "has", "does", "its", "this", "his", "process", "access", "progress", "status"})


@dataclass(frozen=True)
class ListBlock:
    """One enumeration inside a paragraph, as (start, end) character spans of the paragraph's text
    in document order: the lead-in line, its items, and each item's lines of a list nested under
    it ("5. Exchange of information:" above "(a) ..." and "(b) ...")."""

    lead: tuple[int, int]
    items: tuple[tuple[int, int], ...]
    nested: tuple[tuple[tuple[int, int], ...], ...]  # for each item, the lines under it
    end: int  # where its last line ends

    def __contains__(self, position: int) -> bool:
        return self.lead[0] <= position < self.end


def _lines(text: str) -> list[tuple[int, int]]:
    spans, at = [], 0
    for line in text.split("\n"):
        spans.append((at, at + len(line)))
        at += len(line) + 1
    return spans


def _style(line: str, before: str | None = None) -> tuple[str, str] | None:
    """The kind of mark a list line opens with ("6." -> digit with a dot, "(a)" -> letter in
    brackets, "(ii)" -> roman in brackets); None for a line with none. Items of one list share a
    style; a nested list has another. A lone "i", "v" or "x" is roman unless the mark before it
    (`before`, its letter) was the letter it follows ("h" then "i")."""
    m = _MARKER.match(line)
    if m is None:
        return None
    mark = m.group(0).strip()
    core = mark.strip("().")
    if core.isdigit():
        kind = "digit"
    elif len(core) > 1 or (core.lower() in "ivx" and (before or "").lower() != chr(ord(core.lower()) - 1)):
        kind = "roman"
    else:
        kind = "upper" if core.isupper() else "lower"
    return kind, ("(" if mark.startswith("(") else "") + mark[-1]


def _core(line: str) -> str | None:
    m = _MARKER.match(line)
    return m.group(0).strip().strip("().") if m else None


def _leads(text: str, lines: list[tuple[int, int]], i: int) -> bool:
    """Does line i introduce the lines under it: it ends with a colon, or it is no item itself,
    stops mid-sentence, and the next line opens an item ("The judgment shall become final" above
    "a) when the parties declare ...")?"""
    line = text[lines[i][0] : lines[i][1]].rstrip()
    if i + 1 >= len(lines) or not line:
        return False
    if line.endswith(":"):
        return True
    after = text[lines[i + 1][0] : lines[i + 1][1]]
    return line[-1] not in ".;!?" and not _MARKER.match(line) and bool(_MARKER.match(after))


def list_block(text: str, position: int) -> ListBlock | None:
    """The enumeration that the character at `position` of a paragraph's text belongs to, as its
    lead-in or one of its items; None when it is on no list.

    A marked line ("6. Examining ...") belongs to the nearest lead-in above it that is not an item
    of the same list ("5. Exchange of information:" is its sibling, not its lead-in). Marked items
    run to the first line without a mark (a closing "DONE at Strasbourg ..." is no item); lines
    marked otherwise are nested under the item above them. Unmarked items run to the paragraph's
    end."""
    lines = _lines(text)
    at = next((i for i, (s, e) in enumerate(lines) if s <= position <= e), None)
    if at is None:
        return None

    def style_at(i: int) -> tuple[str, str] | None:
        return _style(text[slice(*lines[i])], _core(text[slice(*lines[i - 1])]) if i else None)

    own = style_at(at)
    parent = next(
        (i for i in range(at - 1, -1, -1) if _leads(text, lines, i) and (own is None or style_at(i) != own)), None
    )
    if _leads(text, lines, at) and (own is None or parent is None):
        lead = at  # an unmarked lead-in opens its own list; a marked one, when it is in no list
    elif parent is not None:
        lead = parent
    else:
        return None
    below = [span for span in lines[lead + 1 :] if text[slice(*span)].strip()]
    if not below:
        return None
    first = _style(text[slice(*below[0])])
    items: list[tuple[int, int]] = []
    nested: list[list[tuple[int, int]]] = []
    before: str | None = None
    last = ""
    for span in below:
        style = _style(text[slice(*span)], before)
        before = _core(text[slice(*span)]) or before
        if first is not None and style is None:
            if not last or last[-1] in ".;:!?":
                break  # marked items end at the first unmarked line, unless it finishes the line
            # above: a PDF wraps "(a) A national report ... in accordance with" onto "paragraph 15
            # (a) (A/HRC/WG.6/19/QAT/1);", and the second line goes with the item it continues
            nested[-1].append(span)
            last = text[slice(*span)].rstrip()
            continue
        last = text[slice(*span)].rstrip()
        if first is None or style == first or not items:
            items.append(span)
            nested.append([])
        else:
            nested[-1].append(span)
    end = nested[-1][-1][1] if nested[-1] else items[-1][1]
    if not (lines[lead][0] <= position <= end):
        return None
    return ListBlock(lead=lines[lead], items=tuple(items), nested=tuple(tuple(n) for n in nested), end=end)


def asks_for_all(question: str) -> bool:
    """Does the question ask for the things a list holds ("List the ...", "What are the purposes
    ...?", "Which rights does ...?"), not one fact?"""
    question = asked_question(question)
    if _ITEM_WORDS.match(question):
        return True
    m = _PLURAL_ASKED.match(question)
    noun = (m.group("listed") or m.group("noun")).lower() if m else ""
    return bool(noun) and noun not in _NOT_PLURAL and not noun.endswith("ss")
