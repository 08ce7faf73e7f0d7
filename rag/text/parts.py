"""Parts of a document whose paragraph numbers restart at 1: the resolutions and decisions a
report reproduces, an annex or a chapter numbered on its own.

A part opens at a heading that names it ("Resolution 68/6", "Decision 68/101", "Draft
resolution I", "Annex", "Annex II", "Chapter III"; in a file without headings, such a name
standing alone between blank lines) when the first paragraph number after it is 1 and the
numbering really restarts there: the document's own paragraph 1 came before it, or another
part of its kind further on restarts at 1 too (a document made of resolutions only). A part
whose numbers go on from the document's ("Chapter II" followed by "3.") is not one.

A part's paragraphs keep their printed numbers in their citation, with the part's name:
"res. 68/6, para. 1", "decision 68/101, para. 2", "annex, para. 3"; the text before its
paragraph 1, when it is a resolution's preamble, is "res. 68/6, preamble". Each needs a
number unique in its document too (citations, question files and the index use it): the k-th
part numbers its paragraphs from k * PART_NUMBERS (part 2's paragraph 3 is 20003, its preamble
20000), above every number the document prints itself (four digits at most).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from rag.text.lines import Block, Line

#: The k-th part (from 1) numbers its paragraphs from k times this.
PART_NUMBERS = 10_000

_MARK = re.compile(
    r"^(?P<draft>draft\s+)?(?P<kind>resolution|decision|annex|appendix|chapter)"
    r"(?:\s+(?P<name>(?:\d{1,4}/\d{1,4}|\d{1,4}|[IVXLC]{1,6}|[A-Z])(?:\s*\(\d{4}\))?))?\s*\.?$",
    re.IGNORECASE,
)
# How a citation names each kind of part: "res. 68/6", "decision 68/101", "annex II", "chap. III".
_SHORT = {"resolution": "res.", "decision": "decision", "annex": "annex", "appendix": "appendix", "chapter": "chap."}
# Kinds whose numbering restarts together: reproduced resolutions and decisions alternate.
_FAMILY = {"resolution": "act", "decision": "act", "annex": "annex", "appendix": "annex", "chapter": "chapter"}

_PREAMBLE_OPENING = re.compile(
    r"^The [A-Z][\w\s,-]*(Assembly|Council|Commission|Conference|Committee|Meeting of the Parties|States Parties|Parties)\s*,?$"
)
PREAMBULAR = re.compile(
    r"^(Reaffirming|Recalling|Noting|Recognizing|Recognising|Emphasizing|Emphasising|Stressing|"
    r"Welcoming|Acknowledging|Bearing in mind|Taking note|Convinced|Concerned|Deeply concerned|"
    r"Mindful|Considering|Guided by|Expressing|Reiterating|Underlining|Affirming|Determined|"
    r"Desiring|Aware|Alarmed|Having considered|Taking into account)\b"
)


def is_preamble(lead: list[Line]) -> bool:
    """Is the text before paragraph 1 the preamble of a resolution or decision ("The General
    Assembly, / Recalling ... / Noting ...")? Such text is cited as the preamble."""
    opening = any(_PREAMBLE_OPENING.match(line.text) for line in lead)
    clauses = sum(1 for line in lead if PREAMBULAR.match(line.text))
    return clauses >= 2 or (opening and clauses >= 1)


def preamble_start(lead: list[Line]) -> int:
    """Where in the lead the preamble opens: at "The General Assembly,", else at its start (the
    lines above the opening are a masthead or the part's title)."""
    return next((i for i, line in enumerate(lead) if _PREAMBLE_OPENING.match(line.text)), 0)


@dataclass(frozen=True)
class Part:
    """A heading that names a part, and what follows it up to the next such heading."""

    label: str  # how citations name the part: "res. 68/6"
    family: str  # "act" (resolutions, decisions), "annex" or "chapter"
    first: int | None  # the first paragraph number after the heading, before the next part
    preamble: tuple[int, int] | None  # the lines [first, last] of the preamble before its paragraph 1
    restarts_later: bool = False  # another part of its family further on restarts at 1 too

    def opens(self, document_begun: bool) -> bool:
        """Does the numbering restart here, so that the part is numbered on its own?"""
        return self.first == 1 and (document_begun or self.restarts_later)

    @property
    def names_its_text(self) -> bool:
        """Text of a resolution or decision without numbers is cited by its name ("decision 68/1")."""
        return self.family == "act"


def part_label(text: str) -> tuple[str, str] | None:
    """The citation name and the family of a part's heading ("Resolution 68/6" -> ("res. 68/6",
    "act")); None for any other text. Resolutions, decisions and chapters need their number."""
    m = _MARK.match(text.strip())
    if m is None:
        return None
    kind = m.group("kind").lower()
    name = re.sub(r"\s+", " ", m.group("name") or "")
    if not name and kind not in ("annex", "appendix"):
        return None
    short = ("draft " if m.group("draft") else "") + _SHORT[kind]
    return (f"{short} {name}" if name else short), _FAMILY[kind]


def _marks(lines: list[Line]) -> list[tuple[int, str, str]]:
    """(index, label, family) of each line naming a part: a heading, or in a file without
    headings, a line standing alone between blank lines."""
    out = []
    for i, line in enumerate(lines):
        if line.kind not in ("heading", "text"):
            continue
        named = part_label(line.text)
        if named is None:
            continue
        alone = all(0 <= j < len(lines) and lines[j].kind in ("blank", "heading") for j in (i - 1, i + 1))
        if line.kind == "heading" or alone:
            out.append((i, *named))
    return out


def find_parts(lines: list[Line]) -> dict[int, Part]:
    """Each line that names a part (by its index in `lines`), with the numbers that follow it."""
    marks = _marks(lines)
    parts: dict[int, Part] = {}
    for k, (i, label, family) in enumerate(marks):
        until = marks[k + 1][0] if k + 1 < len(marks) else len(lines)
        lead: list[Line] = []
        first: int | None = None
        for line in lines[i + 1 : until]:
            if line.para_number is not None:
                first = line.para_number
                break
            if line.kind == "text":
                lead.append(line)
        preamble = None
        if first == 1 and is_preamble(lead):
            preamble = (lead[preamble_start(lead)].number, lead[-1].number)
        parts[i] = Part(label, family, first, preamble)
    # A part restarts "later" when one of its family after it begins at 1 as well.
    later: set[str] = set()
    for i in sorted(parts, reverse=True):
        part = parts[i]
        if part.family in later:
            parts[i] = replace(part, restarts_later=True)
        if part.first == 1:
            later.add(part.family)
    return parts


@dataclass
class Numbering:
    """The sequence of printed numbers the splitter follows: the document's own, or a part's."""

    expected: int = 1  # the next number of the sequence
    base: int = 0  # added to a printed number to give the paragraph its number in the document
    part: Part | None = None  # None for the document's own numbers
    preamble: Block | None = None  # the block holding the part's preamble, once opened

    @property
    def label(self) -> str:
        return self.part.label if self.part else ""

    def number(self, printed: int) -> int:
        return self.base + printed

    def ref(self, printed: int) -> str:
        """How the paragraph with this printed number is cited: "" (the plain "para. 3") for
        the document's own numbers, "res. 68/6, para. 3" in a part."""
        return f"{self.label}, para. {printed}" if self.part else ""

    def in_preamble(self, line: Line) -> bool:
        """Is this line of the part's preamble (before its paragraph 1)?"""
        span = self.part.preamble if self.part and self.expected == 1 else None
        return span is not None and span[0] <= line.number <= span[1]

    def add_to_preamble(self, line: Line, section: tuple[str, ...]) -> list[Block]:
        """Add a line to the part's preamble; returns the preamble's block when this line opens it."""
        opened = []
        if self.preamble is None:
            self.preamble = Block(line.number, section=section, number=self.base, ref=f"{self.label}, preamble")
            opened.append(self.preamble)
        self.preamble.add(line.number, line.text, line.is_list or bool(PREAMBULAR.match(line.text)))
        return opened


# How a question names a part and a paragraph of it: "paragraph 1 of resolution 68/6",
# "resolution 68/6, paragraph 1", "decision 68/101", "draft resolution II", "paragraph 3 of the annex".
_ASKED_PART = (
    r"(draft\s+)?(resolution|decision|annex|appendix|chapter)"
    r"(?:\s+(\d{1,4}/\d{1,4}(?:\s*\(\d{4}\))?|\d{1,4}(?:\s*\(\d{4}\))?|(?-i:[IVXLC]{1,6}|[A-Z]))(?![\w/]))?"
)
_ASKED_PARAGRAPH = r"(?:operative\s+)?(?:paragraphs?|paras?\.)\s*(\d{1,4})(?![\d.])"
_PARAGRAPH_OF_PART = re.compile(rf"\b{_ASKED_PARAGRAPH}\s+of\s+(?:the\s+)?{_ASKED_PART}", re.IGNORECASE)
_PART_PARAGRAPH = re.compile(rf"\b{_ASKED_PART},?\s+{_ASKED_PARAGRAPH}", re.IGNORECASE)
_PART_ALONE = re.compile(rf"\b{_ASKED_PART}", re.IGNORECASE)
_PART_UNIT = re.compile(r"^(?!para\. )(.+), (?:para\. \d+|preamble)$")


def asked_parts(question: str) -> list[tuple[str, tuple[int, int]]]:
    """The citation labels of the parts, and paragraphs of parts, that a question names, with
    where it names them: "paragraph 1 of resolution 68/6" -> "res. 68/6, para. 1"; "decision
    68/101" -> "decision 68/101" (its text, when it has no numbers) and "decision 68/101, " (any
    paragraph of it). An annex without a number of its own is a part only with a paragraph."""
    out: list[tuple[str, tuple[int, int]]] = []
    for m in _PARAGRAPH_OF_PART.finditer(question):
        named = part_label(f"{m[2] or ''}{m[3]} {m[4] or ''}")
        if named:
            out.append((f"{named[0]}, para. {m[1]}", m.span()))
    for m in _PART_PARAGRAPH.finditer(question):
        named = part_label(f"{m[1] or ''}{m[2]} {m[3] or ''}")
        if named:
            out.append((f"{named[0]}, para. {m[4]}", m.span()))
    for m in _PART_ALONE.finditer(question):
        if m[3] is None or any(a <= m.start() < b for _, (a, b) in out):
            continue
        named = part_label(f"{m[1] or ''}{m[2]} {m[3]}")
        if named:
            out += [(named[0], m.span()), (f"{named[0]}, ", m.span())]
    return out


def part_prefix(label: str) -> str | None:
    """For the label of a part's paragraph ("res. 68/6, para. 1", "res. 68/6, preamble"), the
    label every paragraph of that part answers to ("res. 68/6, "); None for other labels."""
    m = _PART_UNIT.match(label)
    return f"{m.group(1)}, " if m else None
