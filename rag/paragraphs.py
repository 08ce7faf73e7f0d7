"""Document -> numbered paragraphs with section paths and line spans.

A document whose paragraphs carry their own numbers ("23. ...") keeps them: a new
paragraph starts only at the next number of the sequence (a resolution's preamble before
its operative paragraph 1 becomes paragraph 0, cited as "preamble"), so numbered lists inside a
paragraph (an agenda 1-8 inside paragraph 56) and text split by a page break stay in
the paragraph they belong to. A document without such numbers gets its blocks
numbered in order of appearance, and its paragraphs say so (`numbered_by_source`).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from .types import Document, Paragraph

log = logging.getLogger(__name__)

_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s*(.*?)\s*#*\s*$")
_RULE = re.compile(r"^\s*([-*_])(\s*\1){2,}\s*$")
_NUMBERED = re.compile(r"^(\d{1,4})\.\s+(\S.*)$")
# A number without its full stop ("17  We need to ..."), as some speeches are typed: read as a
# paragraph number only when the numbers so read run in order and cover the text.
_DOTLESS = re.compile(r"^(\d{1,3})\s+([A-Z\u201c\"].*)$")
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
_SUBNUMBERED = re.compile(r"^(\d{1,4})\.(\d{1,3})\.?\s+(\S.*)$")  # "145.20 Ratify ...": a recommendation
_ARTICLE = re.compile(r"^Article\s+(\d+(?:\s?(?:bis|ter|quater))?)\s*\.?$", re.IGNORECASE)
_STRUCTURE = re.compile(r"^(Chapter|Section|Title|Part|Annex)\s+[\w.]+\.?$", re.IGNORECASE)
_NOTE_REF = re.compile(r"\[\^[^\]\s]+\]")  # a reference to one inside the text: "persons[^3]"

#: A paragraph number may skip this many numbers (a PDF that ran two paragraphs together).
MAX_SKIP = 3

#: A document counts as numbered only if the text standing outside its numbered paragraphs
#: (before paragraph 1, or blocks that do not continue the paragraph above) stays below this
#: share of the text inside them; otherwise its blocks are numbered in order.
MAX_ORPHAN_SHARE = 0.25

#: Text outside the numbered paragraphs of a numbered document (an annex, a list under its own
#: heading) is numbered from -(this + 1) down: apart from footnotes (-1, -2, ...) and paragraphs.
OUTSIDE_NUMBERS = 10_000
_ANNEX = re.compile(r"^(Annex|Appendix|Attachment|Enclosure)\b", re.IGNORECASE)


def strip_markup(line: str) -> str:
    """Remove Markdown and HTML markup that is not part of the quotable text."""
    text = _NOTE_REF.sub("", line)
    text = _LINK.sub(r"\1", text)
    text = _AUTOLINK.sub(lambda m: m.group(1).removeprefix("mailto:"), text)  # shown without brackets
    text = _TAG.sub("", text)
    for _ in range(2):
        text = _EMPHASIS.sub(lambda m: m.group(2) or m.group(3) or m.group(4) or "", text)
    text = text.replace("`", "")
    return re.sub(r"[ \t\u00a0]+", " ", text).strip()


def quotable(line: str) -> str:
    """A source line as it may appear in a paragraph or a note: markup, list bullets and a
    footnote definition's mark stripped; empty for lines that are never text (blank lines,
    rules)."""
    note = _NOTE_DEF.match(line)
    if note:
        return strip_markup(line[note.end() :])
    if not line.strip() or _RULE.match(line) or line.lstrip().startswith("<meta"):
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
class _Block:
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
class _Line:
    number: int  # 1-based
    kind: str  # "blank" | "heading" | "text" | "note"
    text: str
    rank: int = 0
    is_list: bool = False
    para_number: int | None = None
    mark: str | None = None  # a footnote's mark, on the line that opens it
    bare: bool = False  # only a number ("2017."): it opens a paragraph, or it is text ("in May / 2017.")


def _classify(doc: Document, *, dotless: bool = False) -> list[_Line]:
    out: list[_Line] = []
    last_letter: str | None = None
    in_note = False
    for i, raw in enumerate(doc.lines, start=1):
        # Footnote definitions, with their indented continuation lines, are notes on the text,
        # not paragraphs of it: they are left out (a numbered paragraph would swallow them).
        opens = _NOTE_DEF.match(raw)
        in_note = bool(opens) or (in_note and raw[:1] in (" ", "\t") and bool(raw.strip()))
        if in_note:
            text = strip_markup(raw[opens.end() :] if opens else raw)
            out.append(_Line(i, "note", text, mark=opens.group(1) if opens else None))
            continue
        if not raw.strip() or _RULE.match(raw) or raw.lstrip().startswith("<meta"):
            out.append(_Line(i, "blank", ""))
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
                out.append(_Line(i, "heading", text, rank=rank))
            else:
                out.append(_Line(i, "blank", ""))
            continue
        text = strip_markup(raw)
        bullet = _BULLET.match(text)
        if bullet:
            text = text[bullet.end() :]
        nm = _NUMBERED.match(text) or (_DOTLESS.match(text) if dotless else None)
        bare = re.fullmatch(r"(\d{1,4})\.", text)
        if bare:  # a paragraph number on a line of its own ("1." above its items a), b)), or a year
            out.append(_Line(i, "text", text, para_number=int(bare.group(1)), bare=True))
            continue
        is_list = bool(bullet) or bool(_LIST_ITEM.match(text))
        out.append(_Line(i, "text", text, is_list=is_list, para_number=int(nm.group(1)) if nm else None))
    return out


class _Sections:
    """The heading stack; the document's own title heading is not a section."""

    def __init__(self, title: str | None) -> None:
        self.title = title
        self.stack: list[tuple[int, str]] = []
        self.seen_content = False

    def push(self, line: _Line) -> None:
        if not self.seen_content and not self.stack and self.title and line.text.rstrip(" :") == self.title:
            return
        self.stack = [(r, t) for r, t in self.stack if r < line.rank]
        self.stack.append((line.rank, line.text))

    def path(self) -> tuple[str, ...]:
        return tuple(t for _, t in self.stack)


def _opening_text(line: _Line) -> str:
    """What of a line that opens a numbered paragraph is text: all but its number."""
    if line.bare:
        return ""
    m = _NUMBERED.match(line.text) or _DOTLESS.match(line.text)
    return m.group(2) if m else line.text


def _continues(block: _Block, line: _Line) -> bool:
    """Does text after a blank line carry on the paragraph (page break, list) or stand alone?"""
    before = block.parts[-1][0].rstrip() if block.parts else ""
    return (
        line.is_list
        or line.para_number is not None
        or before.endswith((":", ";"))
        or not before.endswith((".", "!", "?", "\u201d", '"', ")"))
        or line.text[:1].islower()
    )


def _inline_start(text: str, number: int) -> int | None:
    """Where paragraph `number` opens in the middle of a line, if it does: PDF text often runs
    paragraphs together ("... in persons.8 6. We recall ..."). Only the next number of the
    sequence counts, after a sentence end (and a footnote mark), before a capital."""
    m = re.search(rf"[.;:!?\u201d\")\]]\d{{0,3}}\s+({number})\.\s+[A-Z\u201c\"]", text)
    return m.start(1) if m else None


def _unnumbered_label(section: tuple[str, ...]) -> str:
    """How text outside the numbered paragraphs is cited: by the headings it sits under, as the
    document prints them ("Annex, Composition of the delegation"; "Summary")."""
    annex = next((h for h in section if _ANNEX.match(h)), None)
    last = " ".join(section[-1].split()[:10]) if section else ""
    if annex is None:
        return last or "unnumbered text"
    return annex if last in ("", annex) else f"{annex}, {last}"


def _numbered(doc: Document, lines: list[_Line]) -> tuple[list[_Block], int, int, list[_Line], list[_Block]]:
    """Paragraphs opened by the next number of the sequence; also the size of the text inside
    them and of the text that only sits beside them (before paragraph 1, or standing alone),
    the text lines before paragraph 1, and the text after paragraph 1 that no numbered
    paragraph holds (an annex, a list under its own heading), as blocks cited by their headings:
    each block holds the text under one heading, one line per run of lines between blank lines."""
    sections = _Sections(doc.title)
    blocks: list[_Block] = []
    current: _Block | None = None
    expected = 1
    loose = 0
    after_blank = False
    dropped: list[int] = []
    lead: list[_Line] = []
    outside: list[_Block] = []
    orphan: _Block | None = None  # the block of unnumbered text being gathered under a heading
    for line in lines:
        if line.kind in ("blank", "note"):
            after_blank = True
            continue
        if line.kind == "heading":
            sections.push(line)
            current = orphan = None
            continue
        sub = _SUBNUMBERED.match(line.text) if current is not None else None
        if sub and current is not None and int(sub.group(1)) == current.number:
            # A numbered recommendation of a UPR report: citable by its own number, under its paragraph.
            current = _Block(
                line.number, section=current.section, number=current.number, ref=f"para. {sub.group(1)}.{sub.group(2)}"
            )
            blocks.append(current)
            current.add(line.number, sub.group(3), False)
            after_blank = False
            continue
        n = line.para_number
        skips = (
            n is not None
            and expected < n <= expected + MAX_SKIP
            and current is not None
            and current.parts
            and not current.parts[-1][1]
            and not current.parts[-1][0].rstrip().endswith(":")
        )
        if skips:
            log.info(
                "%s line %d: paragraph %d follows %d; the missing numbers stay inside paragraph %d",
                doc.path,
                line.number,
                n,
                expected - 1,
                expected - 1,
            )
            expected = int(n or expected)
        if n == expected:
            sections.seen_content = True
            current = _Block(line.number, section=sections.path(), number=expected)
            blocks.append(current)
            expected += 1
            text, is_list = _opening_text(line), False
        elif current is not None:
            if after_blank and not _continues(current, line):
                loose += len(line.text)
            text, is_list = line.text, line.is_list
        else:
            loose += len(line.text)
            if blocks:
                dropped.append(line.number)
                if orphan is None:
                    orphan = _Block(line.number, section=sections.path(), kind="text")
                    outside.append(orphan)
                    after_blank = True
                if after_blank or not orphan.parts:
                    orphan.add(line.number, line.text, True)  # a run of lines: a line of its own
                else:  # the run goes on: the same line of the block's text
                    text, _, first = orphan.parts[-1]
                    orphan.parts[-1] = (f"{text} {line.text}", True, first)
                    orphan.last_line = line.number
            else:
                lead.append(line)
            after_blank = False
            continue
        # Paragraphs that a PDF ran into this line open here, each at its own number.
        while (cut := _inline_start(text, expected)) is not None:
            current.add(line.number, text[:cut].rstrip(), is_list)
            current = _Block(line.number, section=sections.path(), number=expected)
            blocks.append(current)
            text, is_list = _NUMBERED.sub(r"\2", text[cut:]), False
            expected += 1
        current.add(line.number, text, is_list)
        after_blank = False
    if dropped and blocks and loose <= MAX_ORPHAN_SHARE * sum(b.size() for b in blocks):
        log.info(
            "%s: %d line(s) outside the numbered paragraphs are indexed as text cited by its headings (first: line %d)",
            doc.path,
            len(dropped),
            dropped[0],
        )
    # A few words alone ("Context", "[English only]") are a heading the reader did not see as one,
    # or an editorial mark: nothing a question could be answered from.
    outside = [b for b in outside if len(b.text().split()) > 4 or re.search(r"[.:;]$", b.text())]
    seen: dict[str, int] = {}
    for block in outside:
        ref = _unnumbered_label(block.section)
        seen[ref] = seen.get(ref, 0) + 1
        block.ref = ref if seen[ref] == 1 else f"{ref} ({seen[ref]})"  # every citation names one block
    return blocks, sum(b.size() for b in blocks), loose, lead, outside


_PREAMBLE_OPENING = re.compile(
    r"^The [A-Z][\w\s,-]*(Assembly|Council|Commission|Conference|Committee|Meeting of the Parties|States Parties|Parties)\s*,?$"
)
_PREAMBULAR = re.compile(
    r"^(Reaffirming|Recalling|Noting|Recognizing|Recognising|Emphasizing|Emphasising|Stressing|"
    r"Welcoming|Acknowledging|Bearing in mind|Taking note|Convinced|Concerned|Deeply concerned|"
    r"Mindful|Considering|Guided by|Expressing|Reiterating|Underlining|Affirming|Determined|"
    r"Desiring|Aware|Alarmed|Having considered|Taking into account)\b"
)


def _preamble(lead: list[_Line]) -> bool:
    """Is the text before paragraph 1 the preamble of a resolution or decision ("The General
    Assembly, / Recalling ... / Noting ...")? Such text is cited as the preamble."""
    opening = any(_PREAMBLE_OPENING.match(line.text) for line in lead)
    clauses = sum(1 for line in lead if _PREAMBULAR.match(line.text))
    return clauses >= 2 or (opening and clauses >= 1)


#: A plain text file whose lines average at least this many characters writes one paragraph a
#: line (speeches, transcripts), not one a block of lines between blank lines.
PROSE_LINE = 200
_ENDS_SENTENCE = re.compile(r"[.!?:;\"'”’)\]]\s*$")


def _line_per_paragraph(doc: Document, lines: list[_Line]) -> bool:
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


def _unnumbered(doc: Document, lines: list[_Line]) -> list[_Block]:
    sections = _Sections(doc.title)
    blocks: list[_Block] = []
    current: _Block | None = None
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
            current = _Block(line.number, section=sections.path())
            blocks.append(current)
        current.add(line.number, line.text, line.is_list)
        previous = line.text
    return blocks


def _articles(doc: Document, lines: list[_Line]) -> list[_Block] | None:
    """A treaty or other text in articles, whose paragraph numbers restart in each article:
    paragraphs are numbered within their article and cited "Art. 24(1)"; an article without
    numbered paragraphs is one paragraph, "Art. 2". The section path keeps the chapter, section
    and article headings with their titles. None if the document is not built of articles."""
    headings = [line for line in lines if line.kind == "heading"]
    if sum(bool(_ARTICLE.match(h.text)) for h in headings) < 3:
        return None
    blocks: list[_Block] = []
    path: list[tuple[int, str]] = []  # (level, heading) of the enclosing chapters, sections, article
    levels = {"part": 0, "chapter": 1, "section": 2, "title": 3, "annex": 0}
    article: str | None = None
    expected = 1
    current: _Block | None = None
    titled: int | None = None  # index in `path` of a heading still waiting for its title line
    for line in lines:
        if line.kind in ("blank", "note"):
            continue
        if line.kind == "heading":
            m = _ARTICLE.match(line.text)
            if m:
                article, expected, current = re.sub(r"\s+", " ", m.group(1)), 1, None
                path = [(lvl, t) for lvl, t in path if lvl < 4] + [(4, f"Article {article}")]
                titled = len(path) - 1
            elif _STRUCTURE.match(line.text):
                level = levels[line.text.split()[0].lower()]
                path = [(lvl, t) for lvl, t in path if lvl < level] + [(level, line.text)]
                article, current, titled = None, None, len(path) - 1
            elif titled is not None and current is None:
                lvl, head = path[titled]
                path[titled] = (lvl, f"{head} \u2013 {line.text}")
                titled = None
            continue
        titled = None
        section = tuple(t for _, t in path)
        if article is None:
            # Text outside any article: the preamble before the first one, or a closing formula.
            if current is None or current.ref.startswith("Art."):
                current = _Block(line.number, section=section, ref="preamble" if not blocks else "")
                blocks.append(current)
            current.add(line.number, line.text, line.is_list)
            continue
        if line.para_number == expected:
            current = _Block(line.number, section=section, ref=f"Art. {article}({expected})")
            blocks.append(current)
            expected += 1
            current.add(line.number, _opening_text(line), False)
            continue
        if current is None:
            current = _Block(line.number, section=section, ref=f"Art. {article}")
            blocks.append(current)
        current.add(line.number, line.text, line.is_list)
    for i, block in enumerate(blocks, start=1):
        block.number = i
    return blocks


def _notes(doc: Document, lines: list[_Line]) -> list[_Block]:
    """Footnotes ("[^27]: text", as the PDF reader writes them too): each a note of its own,
    cited "fn. 27", or by its caption for a figure or table ("Figure I")."""
    notes: list[_Block] = []
    for line in lines:
        if line.kind != "note":
            continue
        if line.mark is not None:
            mark = line.mark.strip()
            ref = mark if re.match(r"^(Figure|Table|Box|Chart|Map|Graph)\b", mark) else f"fn. {mark}"
            notes.append(_Block(line.number, number=-(len(notes) + 1), ref=ref, kind="note"))
            if line.text:
                notes[-1].add(line.number, line.text, False)
        elif notes and line.text:
            notes[-1].add(line.number, line.text, False)
    return notes


def _page_starts(doc: Document, block: _Block) -> tuple[tuple[int, int], ...]:
    """Where each page of the block starts in its text: ((offset, page), ...)."""
    if not doc.pages:
        return ()
    out: list[tuple[int, int]] = []
    for offset, line_no in block.joined()[1]:
        page = doc.pages[line_no - 1] if 0 < line_no <= len(doc.pages) else 0
        if page and (not out or out[-1][1] != page):
            out.append((offset, page))
    return tuple(out)


def split_paragraphs(doc: Document) -> list[Paragraph]:
    """Split a document into paragraphs, keeping the document's own numbers when it has them,
    then its footnotes, each a note of its own."""
    lines = _classify(doc)
    blocks, numbered = _body(doc, lines)
    paragraphs = [
        Paragraph(
            doc_id=doc.doc_id,
            number=int(b.number or 0),
            text=b.text(),
            section=b.section,
            lines=(b.first_line, b.last_line),
            numbered_by_source=numbered,
            ref=b.ref,
            kind=b.kind,
            pages=_page_starts(doc, b),
        )
        for b in blocks + _notes(doc, lines)
        if b.text()
    ]
    return paragraphs


def _body(doc: Document, lines: list[_Line]) -> tuple[list[_Block], bool]:
    articles = _articles(doc, lines)
    if articles is not None:
        return articles, True
    blocks, inside, loose, lead, outside = _numbered(doc, lines)
    numbered = len(blocks) >= 2 and loose <= MAX_ORPHAN_SHARE * inside
    lead_size = sum(len(line.text) for line in lead)
    if len(blocks) >= 2 and _preamble(lead) and loose - lead_size <= MAX_ORPHAN_SHARE * inside:
        # A resolution: a preamble, then numbered operative paragraphs. The numbers stay; the
        # preamble, from "The General Assembly," on, becomes paragraph 0, cited as "preamble"
        # (the heading lines above it are the document's masthead, as before paragraph 1).
        numbered = True
        opening = next((i for i, line in enumerate(lead) if _PREAMBLE_OPENING.match(line.text)), 0)
        first = _Block(lead[opening].number, section=(), number=0)
        for line in lead[opening:]:
            first.add(line.number, line.text, line.is_list or bool(_PREAMBULAR.match(line.text)))
        blocks.insert(0, first)
    if not numbered:
        # Numbers typed without their full stop, if read so they cover the text.
        dotless, inside, loose, _, dotless_outside = _numbered(doc, _classify(doc, dotless=True))
        if len(dotless) >= 2 and loose <= MAX_ORPHAN_SHARE * inside:
            log.info("%s: paragraph numbers without a full stop", doc.path)
            return dotless + _numbered_outside(dotless_outside), True
    if not numbered:
        if blocks:
            log.info("%s: numbered lines do not cover the text; numbering blocks in order", doc.path)
        blocks = _unnumbered(doc, lines)
        for i, block in enumerate(blocks, start=1):
            block.number = i
        return blocks, numbered
    return blocks + _numbered_outside(outside), numbered


def _numbered_outside(outside: list[_Block]) -> list[_Block]:
    """Text outside the numbered paragraphs gets numbers of its own, below every paragraph's
    (it is cited by its headings, never by a number)."""
    for i, block in enumerate(outside, start=1):
        block.number = -OUTSIDE_NUMBERS - i
    return outside
