"""PDF files: the text layer of each page, laid out as a UN document is.

pypdfium2 gives every character with its box and font size (chosen by measurement over
pdfplumber and pypdf: the same paragraph lines found, 25 to 70 times faster; docs/READERS.md). From them this
module rebuilds the printed lines of each page and sorts them into

- running headers and footers (the document symbol, the GE./job number, page numbers, bar
  codes): dropped;
- footnotes (the smaller print at the foot of a page, under its rule): written after the body
  as Markdown footnote definitions (`[^27]: text`), each remembering its page, so that the
  paragraph splitter makes them notes of their own and never glues them into a paragraph;
- headings (larger print): Markdown headings;
- body lines, with a blank line where a new block starts (a wider gap or a first-line indent)
  and footnote marks (raised small digits) left out of the text.

Page breaks add nothing, so a paragraph that runs across one stays one paragraph. The
document's symbol and date are read from the first page.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import Counter
from pathlib import Path
from statistics import median

from ..errors import UnreadableDocument
from ..types import Document
from .masthead import SYMBOL, first_page_meta, is_masthead, running_symbol, symbol_parts
from .ocr import read_scans
from .pdf_chars import Char, page_chars
from .pdf_lines import PrintedLine, squeeze

log = logging.getLogger(__name__)

_FURNITURE = (
    re.compile(r"^(GE\.)?\d{2}-\d{4,6}(\s*\([A-Z]\))?(\s+\d{6})?(\s+\d{1,4}/\d{1,4})?$"),  # job numbers
    re.compile(r"^(\d{1,4}/\d{1,4}\s+)?(GE\.)?\d{2}-\d{4,6}"),  # "3/25 25-00725", "GE.14-25061 (E)"
    re.compile(r"^\*\d{5,}\*$"),  # bar code
    re.compile(r"^\d{1,4}(/\d{1,4})?$"),  # page number, "3/25"
    re.compile(r"^(Please recycle|United Nations)\b"),
)
_MARK = re.compile(r"^(\*{1,3}|\d{1,3}|[a-z])(?=\s|[A-Z\u201c\"(]|$)")
_CAPTION = re.compile(r"^((?:Figure|Table|Box|Chart|Map|Graph)\s+[IVXLC\d]+[A-Za-z]?)\.?(?=\s|$)")
_NUMBERED = re.compile(r"^\d{1,4}\.\s")
_RULE = re.compile(r"^[_\u2014\u2013-]{5,}$")
_BOX_TOLERANCE = 2.5  # points: characters this close vertically share a printed line


def _open(path: Path):  # noqa: ANN202 - pypdfium2's document type
    import pypdfium2 as pdfium

    try:
        return pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        reason = str(exc)
        if "password" in reason.lower():
            raise UnreadableDocument(
                f"{path.name}: the PDF is encrypted (password protected); save an unprotected copy"
            ) from exc
        raise UnreadableDocument(
            f"{path.name}: not a readable PDF ({reason.rstrip('.')}); it may be truncated or of another format"
        ) from exc
    except OSError as exc:
        raise UnreadableDocument(f"{path.name}: cannot be read ({exc.strerror or exc})") from exc


def _page_lines(page, number: int) -> list[PrintedLine]:  # noqa: ANN001
    """The printed lines of one page, top to bottom, with their left edge and font size."""
    chars = page_chars(page)
    # pdfium's own line breaks first, then pieces that share a baseline are joined left to right.
    pieces: list[list[Char]] = [[]]
    hyphenated: set[int] = set()  # pieces that continue a word broken by a hyphen
    for c in chars:
        if c[0] == "\n":
            if pieces[-1]:
                pieces.append([])
            if c[4] == -1:
                hyphenated.add(len(pieces) - 1)
        else:
            pieces[-1].append(c)
    lines: list[PrintedLine] = []
    for k, piece in enumerate(pieces):
        inked = [c for c in piece if c[0].strip()]
        if not inked:
            continue
        line = PrintedLine(
            number,
            min(c[1] for c in inked),
            median(c[2] for c in inked),
            median(c[3] for c in inked),
            median(c[4] for c in inked),
            "",
            list(piece),
            joins=k in hyphenated,
        )
        same = next((old for old in reversed(lines[-3:]) if abs(old.bottom - line.bottom) <= _BOX_TOLERANCE), None)
        if same is not None:
            first, second = (same, line) if same.x <= line.x else (line, same)
            same.chars = first.chars + [(" ", 0, 0, 0, 0)] + second.chars
            same.x = min(same.x, line.x)
            same.size = max(same.size, line.size)
        else:
            lines.append(line)
    for line in lines:
        line.text = squeeze("".join(c[0] for c in line.chars))
    return sorted((ln for ln in lines if ln.text), key=lambda ln: (round(ln.bottom), ln.x))


def _furniture(
    line: PrintedLine, height: float, symbol: str | None, repeated: set[str], body_size: float = 0.0
) -> bool:
    """A running header or footer: in the top or bottom band and shaped like one (a bare number
    printed small is a footnote's mark, not a page number)."""
    if not (line.bottom < 0.11 * height or line.top > 0.84 * height):
        return False
    text = line.text
    if re.fullmatch(r"[\d*]{1,3}", text) and line.size < 0.75 * body_size:
        return False
    for head in symbol_parts(symbol) if symbol else ():  # a joint symbol's halves head pages too
        if text.replace(" ", "") in (head, head.replace("/", "")):
            return True
        if text.startswith(head) and _FURNITURE[3].match(text[len(head) :].strip() or "0"):
            return True
    return any(p.match(text) for p in _FURNITURE) or _shape(text) in repeated


def _shape(text: str) -> str:
    return re.sub(r"\d+", "#", text)


def _notes_from(zone: list[PrintedLine]) -> list[tuple[str, str, int]]:
    """Footnotes of a page: (mark, text, page)."""
    notes: list[list[str | int]] = []
    lines = [ln for ln in zone if not _RULE.match(ln.text.replace(" ", ""))]
    # A note opens with its mark at the left; its further lines hang indented under its text.
    left = min((ln.x for ln in lines), default=0.0)
    pending = ""
    for line in lines:
        if re.fullmatch(r"[\d*]{1,3}", line.text):
            pending = line.text  # a mark printed apart from its note
            continue
        text, pending = (f"{pending} {line.text}" if pending else line.text), ""
        m = _MARK.match(text)
        if m and (line.x <= left + 4.0 or not notes or text is not line.text):
            notes.append([m.group(1), text[m.end() :].strip(), line.page])
        elif notes:
            notes[-1][1] = f"{notes[-1][1]} {text}"
    return [(str(mark), str(text), int(page)) for mark, text, page in notes]


def read_pdf(path: Path, doc_id: str, rel: str) -> Document:
    """Read a PDF's text layer into lines (with the page of each) and its footnotes; pages that are
    scans without a text layer are read by OCR (rag/readers/ocr.py) when an engine is installed."""
    data = path.read_bytes() if path.is_file() else b""
    if not data.startswith(b"%PDF"):
        raise UnreadableDocument(f"{path.name}: not a PDF (it does not start with %PDF)")
    pdf = _open(path)
    try:
        pages = [(_page_lines(pdf[i], i + 1), pdf[i].get_height()) for i in range(len(pdf))]
        scanned = read_scans(pdf, pages, path.name)
    except UnreadableDocument:
        raise
    except Exception as exc:  # pdfium fails inside a damaged page
        raise UnreadableDocument(f"{path.name}: a page cannot be read ({exc}); the PDF may be damaged") from exc
    finally:
        pdf.close()
    if not any(lines for lines, _ in pages):
        raise UnreadableDocument(
            f"{path.name}: has no text layer, and OCR found no text on its {len(scanned)} scanned pages"
            if scanned
            else f"{path.name}: has no text layer and no scanned page image; there is nothing to read"
        )
    sizes = Counter(round(ln.size * 2) / 2 for lines, _ in pages for ln in lines for _ in ln.text)
    body_size = sizes.most_common(1)[0][0]
    symbol, date = first_page_meta(pages[0][0]) if pages[0][0] else (None, None)
    if symbol is None and scanned:
        symbol = running_symbol(pages)  # OCR can misread the masthead's large print
    # Text shapes that repeat at the top or bottom of many pages are running heads.
    edge = Counter(
        _shape(ln.text)
        for lines, h in pages
        for ln in {x.text: x for x in lines if x.bottom < 0.11 * h or x.top > 0.84 * h}.values()
    )
    repeated = {s for s, n in edge.items() if n >= max(3, len(pages) // 3)}

    out: list[str] = []
    out_pages: list[int] = []
    notes: list[tuple[str, str, int]] = []
    spacing = _line_spacing(pages, body_size)
    previous: PrintedLine | None = None

    def emit(text: str, page: int) -> None:
        out.append(text)
        out_pages.append(page)

    for lines, height in pages:
        body = [
            ln
            for ln in lines
            if not _furniture(ln, height, symbol, repeated, body_size)
            and not (ln.page == 1 and is_masthead(ln, height))
            and (any(ch.isalnum() for ch in ln.text) or re.fullmatch(r"\*{1,3}", ln.text))
        ]
        zone = _footnote_zone(body, body_size)
        notes.extend(_notes_from(body[len(body) - zone :]) if zone else [])
        body = body[: len(body) - zone]
        i = 0
        while i < len(body):
            line = body[i]
            if not any(ch.isalnum() for ch in line.text) or (
                re.fullmatch(r"[\d*]{1,3}", line.text) and line.size < 0.85 * body_size
            ):
                i += 1  # a footnote mark standing apart from its line, or a stray glyph
                continue
            if line.size >= 1.15 * body_size and not re.match(r"^\d{1,4}\.\s", line.text):
                # Consecutive lines of the same large print are one heading; a footnote mark on it
                # ("Review*") is no part of the section's name.
                text = line.without_marks()
                while (
                    i + 1 < len(body)
                    and abs(body[i + 1].size - line.size) < 0.5
                    and body[i].gap_to(body[i + 1]) < 0.8 * line.size
                ):
                    i += 1
                    text += " " + body[i].without_marks()
                level = 1 if line.size >= 1.6 * body_size else 2 if line.size >= 1.3 * body_size else 3
                if out and out[-1]:
                    emit("", line.page)
                emit("#" * level + " " + text, line.page)
                emit("", line.page)
                previous = None
                i += 1
                continue
            caption = _CAPTION.match(line.text)
            if caption:
                # A figure or table caption and the title line under it: a note of its own.
                text = line.text[caption.end() :].strip()
                if not text and i + 1 < len(body) and not _NUMBERED.match(body[i + 1].text):
                    i += 1
                    text = body[i].text
                # The rows under it, up to the next numbered paragraph, heading or page, are the
                # table's (or the figure's labels): they stay with the caption, out of the paragraphs.
                while (
                    i + 1 < len(body)
                    and body[i + 1].page == line.page
                    and not _NUMBERED.match(body[i + 1].text)
                    and body[i + 1].size < 1.15 * body_size
                ):
                    i += 1
                    text += " | " + body[i].text
                notes.append((caption.group(1), text, line.page))
                i += 1
                continue
            if line.joins and previous is not None and out and out[-1]:
                out[-1] += line.without_marks()
            else:
                if previous is not None and out and out[-1] and _new_block(previous, line, spacing):
                    emit("", line.page)
                emit(line.without_marks(), line.page)
            previous = line
            i += 1
    if notes:
        emit("", out_pages[-1] if out_pages else 1)
        for mark, text, page in notes:
            emit(f"[^{mark}]: {text}", page)
    first = [ln for ln in pages[0][0] if not _furniture(ln, pages[0][1], symbol, repeated)]
    title = _title(first, body_size) if first else None
    return Document(
        doc_id=doc_id,
        path=rel,
        lines=tuple(out),
        title=title,
        date=date,
        symbol=symbol,
        sha256=hashlib.sha256(data).hexdigest(),
        pages=tuple(out_pages),
        kind="pdf",
        ocr_pages=tuple(scanned),
    )


def _line_spacing(pages: list[tuple[list[PrintedLine], float]], body_size: float) -> float:
    gaps = [
        b.top - a.top
        for lines, _ in pages
        for a, b in zip(lines, lines[1:])
        if abs(a.size - body_size) < 0.5 and abs(b.size - body_size) < 0.5 and 0 < b.top - a.top < 3 * body_size
    ]
    return median(gaps) if gaps else 1.2 * body_size


def _new_block(before: PrintedLine, line: PrintedLine, spacing: float) -> bool:
    """Does this line open a new block: a wider gap than the lines of a paragraph, or a new page
    whose first line is indented after a finished sentence?"""
    if line.page != before.page:
        return before.text.endswith((".", ":", "\u201d", '"')) and line.x > before.x + 8 and line.text[:1].isupper()
    return line.top - before.top > 1.35 * spacing


def _footnote_zone(lines: list[PrintedLine], body_size: float) -> int:
    """How many lines at the foot of the page are footnotes: smaller print below the body,
    opened by a rule or a note mark."""
    count = 0
    for line in reversed(lines):
        small = line.size <= body_size - 0.75 or _RULE.match(line.text.replace(" ", ""))
        if not small:
            break
        count += 1
    if not count:
        return 0
    zone = lines[len(lines) - count :]
    # The zone starts at its rule, or at its first line that opens with a note mark.
    for j, line in enumerate(zone):
        if _RULE.match(line.text.replace(" ", "")) or _MARK.match(line.text):
            return count - j
    return 0


def _title(lines: list[PrintedLine], body_size: float) -> str | None:
    """The largest print of the first page below the masthead, joined across its lines."""
    big = [
        ln
        for ln in lines
        if ln.size >= 1.15 * body_size
        and not SYMBOL.search(ln.text)
        and sum(ch.isalpha() for ch in ln.text) >= 3
        and not ln.text.startswith(
            ("United Nations", "General Assembly", "Security Council", "Economic and Social Council")
        )
    ]
    if not big:
        return None
    top = max(ln.size for ln in big)
    parts = [ln.text for ln in big if abs(ln.size - top) < 0.5]
    return re.sub(r"(?<=\w)\*+", "", " ".join(parts)).strip() or None
