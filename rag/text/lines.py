"""A document's lines, classified: headings and their rank, numbered openings ("23. ..."), list
items, rules and footnote definitions, with Markdown and HTML markup taken off the quotable text.
`rag.text.paragraphs` groups them into paragraphs."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rag.types import Document

_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s*(.*?)\s*#*\s*$")
_RULE = re.compile(r"^\s*([-*_])(\s*\1){2,}\s*$")
NUMBERED = re.compile(r"^(\d{1,4})\.\s+(\S.*)$")
# A number without its full stop ("17  We need to ..."), as some speeches are typed: read as a
# paragraph number only when the numbers so read run in order and cover the text.
DOTLESS = re.compile(r"^(\d{1,3})\s+([A-Z\u201c\"].*)$")
_BULLET = re.compile(r"^[-*+•]\s+")
_LIST_ITEM = re.compile(r"^(\([a-z0-9ivx]{1,5}\)|[a-z]\)|\d{1,3}\.)\s+")
# A link: its text (which may hold brackets: "[[call us]]") and a target that may hold one level
# of parentheses ("...Foo_(bar)").
_LINK = re.compile(r"!?\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\((?:[^()\s]|\([^()\s]*\))*(?:\s+\"[^\"]*\")?\)")
_AUTOLINK = re.compile(r"<((?:https?|ftp)://[^\s<>]+|mailto:[^\s<>]+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+)>")
# Emphasis a reader does not see: **bold**, *italic*, and __bold__ around more than one word
# (an identifier such as __init__ is kept as written).
_EMPHASIS = re.compile(r"(\*\*)(.+?)\*\*|__(?=\S)(.*?\s.*?)(?<=\S)__(?!\w)|(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])")
# An HTML tag: a known element name and attributes written name="value" (so "a<b and c>d" is text).
_TAG = re.compile(
    r"</?(?:a|abbr|b|big|blockquote|br|center|cite|code|del|div|em|font|h[1-6]|hr|i|img|ins|"
    r"kbd|li|mark|ol|p|pre|q|s|small|span|strike|strong|sub|sup|table|tbody|td|th|thead|tr|"
    r"tt|u|ul|meta|section|article|header|footer|nav)"
    r"(?:\s+[\w:-]+\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\"'>]+))*\s*/?>",
    re.IGNORECASE,
)
_ROMAN = re.compile(r"^[IVXLC]+\.\s")
_LETTER = re.compile(r"^[A-Z]\.\s")
_DIGIT = re.compile(r"^\d+(\.\d+)*\.?\s")
_PART = re.compile(r"^(Annex|Chapter|Part|Appendix)\b", re.IGNORECASE)
_NOTE_DEF = re.compile(r"^\s{0,3}\[\^([^\]]+)\]:\s*")
SUBNUMBERED = re.compile(r"^(\d{1,4})\.(\d{1,3})\.?\s+(\S.*)$")  # "145.20 Ratify ...": a recommendation
ARTICLE = re.compile(r"^Article\s+(\d+(?:\s?(?:bis|ter|quater))?)\s*\.?$", re.IGNORECASE)
STRUCTURE = re.compile(r"^(Chapter|Section|Title|Part|Annex)\s+[\w.]+\.?$", re.IGNORECASE)
_NOTE_REF = re.compile(r"\[\^[^\]\s]+\]")  # a reference to one inside the text: "persons[^3]"

ANNEX = re.compile(r"^(Annex|Appendix|Attachment|Enclosure)\b", re.IGNORECASE)
# The status notes the Dutch treaty register prints above articles that are not (or not yet) in
# force ("Treedt in werking op een nader te bepalen tijdstip", "Wordt voorlopig toegepast per
# 01-01-2014", "Vervallen per 13-12-2010"): the register's, not the treaty's text.
_REGISTER_NOTE = re.compile(
    r"^\s*(?:Treedt in werking|Wordt voorlopig toegepast|Vervallen|Buiten werking)"
    r"(?:\s+per\s+\d{1,2}-\d{1,2}-\d{4}|\s+op een nader te bepalen tijdstip)?\s*$"
)


def never_text(line: str) -> bool:
    """A source line that is never quotable text: blank, a rule, a meta tag, a register's note."""
    return (
        not line.strip()
        or bool(_RULE.match(line))
        or line.lstrip().startswith("<meta")
        or bool(_REGISTER_NOTE.match(line))
    )


def strip_markup(line: str) -> str:
    """Remove Markdown and HTML markup that is not part of the quotable text."""
    text = _NOTE_REF.sub("", line)
    text = _LINK.sub(r"\1", text)
    text = _AUTOLINK.sub(lambda m: m.group(1).removeprefix("mailto:"), text)  # shown without brackets
    text = _TAG.sub("", text)
    for _ in range(2):
        text = _EMPHASIS.sub(lambda m: m.group(2) or m.group(3) or m.group(4) or "", text)
    # ``term" is an opening double quote typed as two backticks (the Budapest Convention's
    # definitions): shown as the quote mark it stands for, as any lone backtick is dropped.
    text = re.sub(r"``(?=\w)", '"', text).replace("`", "")
    return re.sub(r"[ \t\u00a0]+", " ", text).strip()


def quotable(line: str) -> str:
    """A source line as it may appear in a paragraph or a note: markup, list bullets and a
    footnote definition's mark stripped; empty for lines that are never text (blank lines,
    rules)."""
    note = _NOTE_DEF.match(line)
    if note:
        return strip_markup(line[note.end() :])
    if never_text(line):
        return ""
    text = strip_markup(line)
    bullet = _BULLET.match(text)
    return text[bullet.end() :] if bullet else text


def heading_rank(text: str, level: int, last_letter: str | None = None) -> int:
    """Nesting rank of a heading: I. < A. < 1. < plain Markdown levels.

    A lone "C." or "I." is a letter when it follows the letter before it (B. -> C.),
    otherwise "I." opens a roman sequence and other lone letters are letters.
    """
    if _LETTER.match(text):
        ch = text[0]
        follows = last_letter is not None and ord(ch) == ord(last_letter) + 1
        return 1 if ch == "I" and not follows else 2
    if _ROMAN.match(text) or _PART.match(text):
        return 1
    if _DIGIT.match(text):
        return 3
    return 3 + level


@dataclass
class Block:
    first_line: int
    parts: list[tuple[str, bool, int]] = field(default_factory=list)  # (text, is list item, line)
    last_line: int = 0
    section: tuple[str, ...] = ()
    number: int | None = None
    ref: str = ""  # how the source prints its reference when it is not the plain number
    kind: str = "para"

    def add(self, line_no: int, text: str, is_list: bool) -> None:
        self.last_line = line_no
        if text:
            self.parts.append((text, is_list, line_no))

    def joined(self) -> tuple[str, list[tuple[int, int]]]:
        """The block's text and where each of its source lines starts in it."""
        out = ""
        starts: list[tuple[int, int]] = []
        prev_list = False
        for text, is_list, line_no in self.parts:
            if out:
                out += "\n" if is_list or prev_list else " "
            starts.append((len(out), line_no))
            out += text
            prev_list = is_list
        return out, starts

    def text(self) -> str:
        return self.joined()[0]

    def size(self) -> int:
        return sum(len(t) for t, _, _ in self.parts)


@dataclass(frozen=True)
class Line:
    number: int  # 1-based
    kind: str  # "blank" | "heading" | "text" | "note"
    text: str
    rank: int = 0
    is_list: bool = False
    para_number: int | None = None
    mark: str | None = None  # a footnote's mark, on the line that opens it
    bare: bool = False  # only a number ("2017."): it opens a paragraph, or it is text ("in May / 2017.")


def classify_lines(doc: Document, *, dotless: bool = False) -> list[Line]:
    out: list[Line] = []
    last_letter: str | None = None
    in_note = False
    for i, raw in enumerate(doc.lines, start=1):
        # Footnote definitions, with their indented continuation lines, are notes on the text,
        # not paragraphs of it: they are left out (a numbered paragraph would swallow them).
        opens = _NOTE_DEF.match(raw)
        in_note = bool(opens) or (in_note and raw[:1] in (" ", "\t") and bool(raw.strip()))
        if in_note:
            text = strip_markup(raw[opens.end() :] if opens else raw)
            out.append(Line(i, "note", text, mark=opens.group(1) if opens else None))
            continue
        if never_text(raw):
            out.append(Line(i, "blank", ""))
            continue
        m = _HEADING.match(raw)
        if m:
            text = strip_markup(m.group(2))
            if text:
                rank = heading_rank(text, len(m.group(1)), last_letter)
                if rank == 2:
                    last_letter = text[0]
                elif rank == 1:
                    last_letter = None
                out.append(Line(i, "heading", text, rank=rank))
            else:
                out.append(Line(i, "blank", ""))
            continue
        text = strip_markup(raw)
        bullet = _BULLET.match(text)
        if bullet:
            text = text[bullet.end() :]
        nm = NUMBERED.match(text) or (DOTLESS.match(text) if dotless else None)
        bare = re.fullmatch(r"(\d{1,4})\.", text)
        if bare:  # a paragraph number on a line of its own ("1." above its items a), b)), or a year
            out.append(Line(i, "text", text, para_number=int(bare.group(1)), bare=True))
            continue
        is_list = bool(bullet) or bool(_LIST_ITEM.match(text))
        out.append(Line(i, "text", text, is_list=is_list, para_number=int(nm.group(1)) if nm else None))
    return out


class Sections:
    """The heading stack; the document's own title heading is not a section."""

    def __init__(self, title: str | None) -> None:
        self.title = title
        self.stack: list[tuple[int, str]] = []
        self.seen_content = False

    def push(self, line: Line) -> None:
        if not self.seen_content and not self.stack and self.title and line.text.rstrip(" :") == self.title:
            return
        self.stack = [(r, t) for r, t in self.stack if r < line.rank]
        self.stack.append((line.rank, line.text))

    def path(self) -> tuple[str, ...]:
        return tuple(t for _, t in self.stack)
