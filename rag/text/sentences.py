"""Paragraph text -> sentences, as character offsets into that text.

Splits after ".", "!" or "?" (and any closing quote or bracket) when the next word
starts a sentence, after ";" when a capitalised word follows (list items that a PDF ran
into one line), after ",", ";" or ":" that a capitalised word follows with no space (a
treaty's preamble clauses run together: "...,Desiring to ...,Recalling ..."), and before an item
of a list run into the line before ("...; b) The ...", "... as follows: (a) Health ..."), but not
after abbreviations ("para.", "e.g.", "i.e.", "No."), initials, or a number that belongs to a
label ("Chapter 3. Legislation"). Symbols such as "E/CN.15/2011/19" never split because no space
follows their dots. Each line of a list is a sentence of its own.
"""

from __future__ import annotations

import re

from rag.types import Sentence

_ABBREVIATIONS = frozenset(
    """para paras art arts no nos vol vols p pp cf e.g i.e etc al approx fig figs ch chap
    sect sec mr mrs ms dr prof st jr sr inc ltd co corp rev add corr incl viz vs v ibid op
    jan feb mar apr jun jul aug sep sept oct nov dec""".split()
)
_LABELS = frozenset("chapter article section part annex paragraph para paras item table figure rule".split())
_END = re.compile(
    r"[.!?]+[\"'”’)\]]*(?=\s+)|;(?=\s+[A-Z][a-z])|(?<=[a-z”)\]])[,;:](?=[A-Z][a-z])"
    r"|[.;:](?=\s*\(?[a-z]{1,4}\)\s*[A-Z“\"])"
)
# An item of a list that a source ran into the line before: "...; b) The destruction ...",
# "... as follows: (a) Health ...", "... ether.c) “Hexabromo ...".
_ITEM_NEXT = re.compile(r"\s*\(?[a-z]{1,4}\)\s*[A-Z“\"]")
_NEXT_START = re.compile(r"\s+[\"'“‘(\[]*([A-Z0-9À-Þ])")
_WORD_BEFORE = re.compile(r"([\w.]+)[.!?]+[\"'”’)\]]*$")


def _is_boundary(text: str, end: int) -> bool:
    """True when the punctuation run ending at `end` closes a sentence."""
    if text[end - 1] in ",;:" and not text[end : end + 1].isspace():
        return True  # clauses a source ran together: "... Latin America,Desiring to ...,Recalling ..."
    if text[end - 1] in ";:" and _ITEM_NEXT.match(text, end):
        return True
    nxt = _NEXT_START.match(text, end) or _ITEM_NEXT.match(text, end)
    if nxt is None:
        return False
    if text[end - 1] == ";":
        return True  # items run together by a PDF: "...; We reaffirm ...; We stress ..."
    head = text[max(0, end - 40) : end]
    if not head.rstrip("\"'”’)]").endswith("."):
        return True
    m = _WORD_BEFORE.search(head)
    if m is None:
        return True
    word = m.group(1)
    lower = word.lower().rstrip(".")
    if lower in _ABBREVIATIONS:
        return False
    if re.fullmatch(r"[A-Z]", word) or re.fullmatch(r"(?:[A-Za-z]\.)+[A-Za-z]", word):
        return False  # an initial ("J. Smith") or a dotted abbreviation ("U.S.")
    if word.isdigit() or re.fullmatch(r"[A-Za-z]|[ivxIVX]+", word):
        if not text[: end - len(m.group(0))].strip():
            return False  # a list marker at the start of the line: "6. Examining ..."
    if word.isdigit():
        before = head[: m.start()].split()
        if before and before[-1].lower().rstrip(".") in _LABELS:
            return False
    return True


def split_sentences(text: str) -> list[Sentence]:
    """Split paragraph text into sentences; text[s.start:s.end] is each sentence, stripped."""
    out: list[Sentence] = []
    offset = 0
    for line in text.split("\n"):
        start = 0
        for m in _END.finditer(line):
            if _is_boundary(line, m.end()):
                _append(out, line, offset, start, m.end())
                start = m.end()
        _append(out, line, offset, start, len(line))
        offset += len(line) + 1
    return out


def _append(out: list[Sentence], line: str, offset: int, start: int, end: int) -> None:
    piece = line[start:end]
    stripped = piece.strip()
    if not stripped:
        return
    lead = len(piece) - len(piece.lstrip())
    s = offset + start + lead
    out.append(Sentence(s, s + len(stripped)))
