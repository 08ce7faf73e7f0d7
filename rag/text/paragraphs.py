"""Document -> numbered paragraphs with section paths and line spans.

A document whose paragraphs carry their own numbers ("23. ...") keeps them: a new
paragraph starts only at the next number of the sequence (a resolution's preamble before
its operative paragraph 1 becomes paragraph 0, cited as "preamble"), so numbered lists inside a
paragraph (an agenda 1-8 inside paragraph 56) and text split by a page break stay in
the paragraph they belong to. A document without such numbers gets its blocks
numbered in order of appearance, and its paragraphs say so (`numbered_by_source`).
Where the numbering restarts in a part (the resolutions a report reproduces, an annex numbered
on its own), the part follows its own sequence and its paragraphs are cited with its name,
"res. 68/6, para. 1" (`rag.text.parts`); the document's own sequence goes on after it.
"""

from __future__ import annotations

import logging
import re

from rag.text.lines import (
    ANNEX,
    ARTICLE,
    DOTLESS,
    NUMBERED,
    STRUCTURE,
    SUBNUMBERED,
    Block,
    Line,
    Sections,
    classify_lines,
)
from rag.text.outside import front_line, is_statement, is_table_row, numbered_outside, unnumbered_label
from rag.text.parts import PART_NUMBERS, PREAMBULAR, Numbering, find_parts, is_preamble, preamble_start
from rag.text.unnumbered import unnumbered
from rag.types import Document, Paragraph

log = logging.getLogger(__name__)

#: A paragraph number may skip this many numbers (a PDF that ran two paragraphs together).
MAX_SKIP = 3

#: A document counts as numbered only if the text standing outside its numbered paragraphs
#: (before paragraph 1, or blocks that do not continue the paragraph above) stays below this
#: share of the text inside them; otherwise its blocks are numbered in order.
MAX_ORPHAN_SHARE = 0.25


def _opening_text(line: Line) -> str:
    """What of a line that opens a numbered paragraph is text: all but its number."""
    if line.bare:
        return ""
    m = NUMBERED.match(line.text) or DOTLESS.match(line.text)
    return m.group(2) if m else line.text


def _continues(block: Block, line: Line) -> bool:
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


def _numbered(doc: Document, lines: list[Line]) -> tuple[list[Block], int, int, list[Line], list[Block]]:
    """Paragraphs opened by the next number of the sequence; also the size of the text inside
    them and of the text that only sits beside them (before paragraph 1, or standing alone),
    the text lines before paragraph 1, and the text after paragraph 1 that no numbered
    paragraph holds (an annex, a list under its own heading), as blocks cited by their headings:
    each block holds the text under one heading, one line per run of lines between blank lines."""
    sections = Sections(doc.title)
    blocks: list[Block] = []
    current: Block | None = None
    main = Numbering()
    seq = main  # the numbering followed: the document's own, or that of the part it is in
    parts = find_parts(lines)
    opened = 0  # parts numbered on their own so far
    named = ""  # the resolution or decision without numbers whose text this is ("decision 68/1")
    heading_in_part = False  # a heading since the part's last paragraph: its end may have come
    loose = 0
    after_blank = False
    dropped: list[int] = []
    lead: list[Line] = []
    outside: list[Block] = []
    orphan: Block | None = None  # the block of unnumbered text being gathered under a heading
    front: list[Block] = []  # text before paragraph 1 (a summary, a covering letter), under its headings
    front_block: Block | None = None
    for i, line in enumerate(lines):
        part = parts.get(i)
        if part is not None:
            # A heading that names a part ends the part before, unless its numbers go on after it.
            if part.opens(main.expected > 1):
                opened += 1
                seq = Numbering(base=PART_NUMBERS * opened, part=part)
                heading_in_part, current, orphan = False, None, None
                if line.kind == "text":  # a part's name alone on its line: a heading the file does not mark
                    line = Line(line.number, "heading", line.text, rank=1)
            elif seq is not main and part.first != seq.expected:
                seq = main
            named = part.label if part.names_its_text and seq is main else ""
        if line.kind in ("blank", "note"):
            after_blank = True
            continue
        if line.kind == "heading":
            sections.push(line)
            current = orphan = front_block = None
            if part is None:
                heading_in_part = seq is not main
                named = "" if line.rank <= 2 else named  # a new section: no longer the decision's text
            continue
        if seq.in_preamble(line):  # a reproduced resolution's preamble, cited "res. 68/6, preamble"
            blocks.extend(seq.add_to_preamble(line, sections.path()))
            after_blank = False
            continue
        sub = SUBNUMBERED.match(line.text) if current is not None and seq is main else None
        if sub and current is not None and int(sub.group(1)) == current.number:
            # A numbered recommendation of a UPR report: citable by its own number, under its paragraph.
            current = Block(
                line.number, section=current.section, number=current.number, ref=f"para. {sub.group(1)}.{sub.group(2)}"
            )
            blocks.append(current)
            current.add(line.number, sub.group(3), False)
            after_blank = False
            continue
        n = line.para_number
        if seq is not main and heading_in_part and n is not None and n == main.expected != seq.expected:
            seq = main  # the document's own numbers go on after the part it reproduced
        skips = (
            n is not None
            and seq.expected < n <= seq.expected + MAX_SKIP
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
                seq.expected - 1,
                seq.expected - 1,
            )
            seq.expected = int(n or seq.expected)
        if n == seq.expected:
            sections.seen_content = True
            current = Block(line.number, section=sections.path(), number=seq.number(n), ref=seq.ref(n))
            blocks.append(current)
            seq.expected += 1
            heading_in_part, named = False, ""
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
                    label = named or seq.label
                    orphan = Block(line.number, section=sections.path(), kind="text", ref=label)
                    outside.append(orphan)
                    after_blank = True
                if after_blank or not orphan.parts or is_table_row(line.text) or is_table_row(orphan.parts[-1][0]):
                    orphan.add(line.number, line.text, True)  # a run of lines, or a table's row: a line of its own
                else:  # the run goes on: the same line of the block's text
                    text, _, first = orphan.parts[-1]
                    orphan.parts[-1] = (f"{text} {line.text}", True, first)
                    orphan.last_line = line.number
            else:
                lead.append(line)
                front_block = front_line(front, front_block, line, sections.path(), after_blank)
            after_blank = False
            continue
        # Paragraphs that a PDF ran into this line open here, each at its own number.
        while (cut := _inline_start(text, seq.expected)) is not None:
            current.add(line.number, text[:cut].rstrip(), is_list)
            current = Block(
                line.number, section=sections.path(), number=seq.number(seq.expected), ref=seq.ref(seq.expected)
            )
            blocks.append(current)
            text, is_list = NUMBERED.sub(r"\2", text[cut:]), False
            seq.expected += 1
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
    for block in front:  # text above every heading: the covering letter of a report, say
        if not block.section and doc.title:
            block.ref = " ".join(doc.title.split()[:10])
        # Only sentences: a masthead's date, languages, session and agenda lines are the document's
        # particulars, not statements, and a date question would quote them for any date it asks.
        block.parts = [part for part in block.parts if is_statement(part[0])]
    front = [b for b in front if b.parts]
    outside = [b for b in front + outside if len(b.text().split()) > 4 or re.search(r"[.:;]$", b.text())]
    seen: dict[str, int] = {}
    for block in outside:
        ref = block.ref or unnumbered_label(block.section)
        seen[ref] = seen.get(ref, 0) + 1
        block.ref = ref if seen[ref] == 1 else f"{ref} ({seen[ref]})"  # every citation names one block
    return blocks, sum(b.size() for b in blocks), loose, lead, outside


#: Headings of what may follow a treaty's articles besides an annex: its text is in no article.
_AFTER_ARTICLES = re.compile(r"^(?:Schedule|(?:Final |Additional )?Protocol|Exchange of (?:letters|notes))\b", re.I)


def _articles(doc: Document, lines: list[Line]) -> list[Block] | None:
    """A treaty or other text in articles, whose paragraph numbers restart in each article:
    paragraphs are numbered within their article and cited "Art. 24(1)"; an article without
    numbered paragraphs is one paragraph, "Art. 2". The section path keeps the chapter, section
    and article headings with their titles. None if the document is not built of articles."""
    headings = [line for line in lines if line.kind == "heading"]
    if sum(bool(ARTICLE.match(h.text)) for h in headings) < 3:
        return None
    blocks: list[Block] = []
    path: list[tuple[int, str]] = []  # (level, heading) of the enclosing chapters, sections, article
    levels = {"part": 0, "chapter": 1, "section": 2, "title": 3, "annex": 0}
    article: str | None = None
    expected = 1
    current: Block | None = None
    titled: int | None = None  # index in `path` of a heading still waiting for its title line
    for line in lines:
        if line.kind in ("blank", "note"):
            continue
        if line.kind == "heading":
            m = ARTICLE.match(line.text)
            if m:
                article, expected, current = re.sub(r"\s+", " ", m.group(1)), 1, None
                path = [(lvl, t) for lvl, t in path if lvl < 4] + [(4, f"Article {article}")]
                titled = len(path) - 1
            elif STRUCTURE.match(line.text):
                level = levels[line.text.split()[0].lower()]
                path = [(lvl, t) for lvl, t in path if lvl < level] + [(level, line.text)]
                article, current, titled = None, None, len(path) - 1
            elif titled is not None and current is None:
                lvl, head = path[titled]
                path[titled] = (lvl, f"{head} \u2013 {line.text}")
                titled = None
            else:
                # Any other heading ("Protocol", "Annex: Route schedule", "Note 1:") ends the
                # paragraph it follows: the text under it is not that paragraph's, and a sentence
                # must not run from one into the other (a quote would join text the document
                # prints apart). The text under it stays in its article, the heading in its path,
                # unless the heading opens what follows the articles (an annex, a protocol).
                path = [(lvl, t) for lvl, t in path if lvl < 5] + [(5, line.text)]
                current = None
                if ANNEX.match(line.text) or _AFTER_ARTICLES.match(line.text):
                    article = None
            continue
        titled = None
        section = tuple(t for _, t in path)
        if article is None:
            # Text outside any article: the preamble before the first one, or a closing formula.
            if current is None or current.ref.startswith("Art."):
                current = Block(line.number, section=section, ref="preamble" if not blocks else "")
                blocks.append(current)
            current.add(line.number, line.text, line.is_list)
            continue
        if line.para_number == expected:
            current = Block(line.number, section=section, ref=f"Art. {article}({expected})")
            blocks.append(current)
            expected += 1
            current.add(line.number, _opening_text(line), False)
            continue
        if current is None:
            current = Block(line.number, section=section, ref=f"Art. {article}")
            blocks.append(current)
        current.add(line.number, line.text, line.is_list)
    for i, block in enumerate(blocks, start=1):
        block.number = i
    return blocks


def _notes(doc: Document, lines: list[Line]) -> list[Block]:
    """Footnotes ("[^27]: text", as the PDF reader writes them too): each a note of its own,
    cited "fn. 27", or by its caption for a figure or table ("Figure I")."""
    notes: list[Block] = []
    for line in lines:
        if line.kind != "note":
            continue
        if line.mark is not None:
            mark = line.mark.strip()
            ref = mark if re.match(r"^(Figure|Table|Box|Chart|Map|Graph)\b", mark) else f"fn. {mark}"
            notes.append(Block(line.number, number=-(len(notes) + 1), ref=ref, kind="note"))
            if line.text:
                notes[-1].add(line.number, line.text, False)
        elif notes and line.text:
            notes[-1].add(line.number, line.text, False)
    return notes


def _page_starts(doc: Document, block: Block) -> tuple[tuple[int, int], ...]:
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
    lines = classify_lines(doc)
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


def _body(doc: Document, lines: list[Line]) -> tuple[list[Block], bool]:
    articles = _articles(doc, lines)
    if articles is not None:
        return articles, True
    blocks, inside, loose, lead, outside = _numbered(doc, lines)
    numbered = len(blocks) >= 2 and loose <= MAX_ORPHAN_SHARE * inside
    lead_size = sum(len(line.text) for line in lead)
    if len(blocks) >= 2 and is_preamble(lead) and loose - lead_size <= MAX_ORPHAN_SHARE * inside:
        # A resolution: a preamble, then numbered operative paragraphs. The numbers stay; the
        # preamble, from "The General Assembly," on, becomes paragraph 0, cited as "preamble"
        # (the heading lines above it are the document's masthead, as before paragraph 1).
        numbered = True
        opening = preamble_start(lead)
        first = Block(lead[opening].number, section=(), number=0)
        for line in lead[opening:]:
            first.add(line.number, line.text, line.is_list or bool(PREAMBULAR.match(line.text)))
        blocks.insert(0, first)
        outside = [b for b in outside if b.first_line > blocks[1].first_line]  # the lead is the preamble
    if not numbered:
        # Numbers typed without their full stop, if read so they cover the text.
        dotless, inside, loose, _, dotless_outside = _numbered(doc, classify_lines(doc, dotless=True))
        if len(dotless) >= 2 and loose <= MAX_ORPHAN_SHARE * inside:
            log.info("%s: paragraph numbers without a full stop", doc.path)
            return dotless + numbered_outside(dotless_outside, dotless[0].first_line), True
    if not numbered:
        if blocks:
            log.info("%s: numbered lines do not cover the text; numbering blocks in order", doc.path)
        blocks = unnumbered(doc, lines)
        for i, block in enumerate(blocks, start=1):
            block.number = i
        return blocks, numbered
    return blocks + numbered_outside(outside, blocks[0].first_line if blocks else 0), numbered
