"""Markdown and plain text files: UTF-8 lines as they are, with front matter and masthead read."""

from __future__ import annotations

import hashlib
import logging
import re
from pathlib import Path

from ..errors import UnreadableDocument
from ..types import Document

log = logging.getLogger(__name__)

_DATE = re.compile(
    r"\b(\d{1,2} (?:January|February|March|April|May|June|July|August|September|"
    r"October|November|December) \d{4})\b"
)
_SYMBOL = re.compile(r"\b((?:A|E|S|CCPR|UNODC|CTOC|HRC)(?:/[A-Z0-9.]+){2,})\b")
# A line of a masthead is short; one of running text cites other documents ("Our Common Agenda
# (A/75/982) as ...") whose symbols are not this document's.
_MASTHEAD_WORDS = 12
_FRONT_KEY = re.compile(r"^([A-Za-z_][\w-]*):\s*(.*)$")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s*(.*?)\s*#*\s*$")


def masthead_symbol(lines: list[str]) -> str | None:
    """The first symbol printed as a masthead prints it: on a short line, not in parentheses and
    not after a lower-case word ("resolution A/RES/75/240", "see A/75/982")."""
    for line in lines:
        text = re.sub(r"[*_#>`]+", " ", line).strip()
        if len(text.split()) > _MASTHEAD_WORDS:
            continue
        for m in _SYMBOL.finditer(text):
            before = text[: m.start()].rstrip()
            if before.endswith(("(", "[")) or re.search(r"\b[a-z][\w-]*$", before):
                continue
            return m.group(1)
    return None


def _decode(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UnreadableDocument(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    if b"\x00" in raw[:8192]:
        raise UnreadableDocument(f"{path}: looks like a binary file, not text")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableDocument(
            f"{path}: is not valid UTF-8 (byte {exc.start}); save it as UTF-8 and run: rag index"
        ) from exc


def _front_matter(lines: list[str]) -> tuple[dict[str, str], int]:
    """Parse a leading `---` block of `key: value` lines; return it and the lines it used."""
    if not lines or lines[0].strip() != "---":
        return {}, 0
    meta: dict[str, str] = {}
    for i, line in enumerate(lines[1:80], start=1):
        if line.strip() == "---":
            return meta, i + 1
        m = _FRONT_KEY.match(line.strip())
        if m is None:
            return {}, 0
        meta[m.group(1).lower()] = m.group(2).strip().strip("\"'")
    return {}, 0


def _clean_heading(text: str) -> str:
    return re.sub(r"[*_`]+", "", text).strip()


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]{3,}", text.lower())}


def _metadata(lines: list[str], name: str = "") -> tuple[str | None, str | None, str | None, int]:
    meta, skip = _front_matter(lines)
    title = meta.get("title") or None
    date = meta.get("date") or None
    symbol = meta.get("symbol") or None
    head = lines[skip : skip + 40]
    if title is None:
        headings = [_clean_heading(m.group(1)) for line in head if (m := _HEADING.match(line))]
        headings = [h for h in headings[:3] if h]
        if headings:
            # The first heading, unless a heading just below it shares clearly more words with
            # the file name (a translated title above the original one: "Verdrag ..." over
            # "Convention on Cybercrime" in "convention-on-cybercrime.md").
            named = _words(name)
            shared = [len(_words(h) & named) for h in headings]
            best = max(range(len(headings)), key=lambda i: (shared[i], -i))
            title = headings[best] if shared[best] >= shared[0] + 2 else headings[0]
    if date is None:
        m = _DATE.search("\n".join(head))
        date = m.group(1) if m else None
    if symbol is None:
        front = []
        for line in head:
            if re.match(r"^\s*(\*\*)?1\.\s", line):
                break
            front.append(line)
        symbol = masthead_symbol(front)
    if title is not None:
        title = title.rstrip(" :")
    return title, date, symbol, skip


def read_text(path: Path, doc_id: str, rel: str) -> Document:
    """Read a Markdown or plain text file (UTF-8)."""
    text = _decode(path)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    title, date, symbol, skip = _metadata(lines, Path(rel).stem)
    short = _front_matter(lines)[0].get("short_title") or None
    # Front matter lines are blanked, not removed, so line numbers stay those of the file.
    body = [""] * skip + lines[skip:]
    return Document(
        doc_id=doc_id,
        path=rel,
        lines=tuple(body),
        title=title,
        date=date,
        symbol=symbol,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        short_title=short,
    )


def text_sha256(path: Path) -> str:
    """The hash of a text file as read (BOM and encoding aside): what the manifest records."""
    return hashlib.sha256(_decode(path).encode("utf-8")).hexdigest()


def table_note(number: int, rows: list[list[str]]) -> str | None:
    """A table as a footnote-style note of its own: "[^Table 1]: cell | cell; cell | cell"."""
    kept = [" | ".join(c for c in cells if c) for cells in rows if any(cells)]
    return f"[^Table {number}]: " + "; ".join(kept) if kept else None


def markup_document(
    lines: list[str], notes: list[str], *, data: bytes, doc_id: str, rel: str, title: str | None, kind: str, empty: str
) -> Document:
    """The Document of a format read into Markdown-like lines (Word, HTML): the notes after the
    text, date and symbol read from its head, the first heading as the title if none is given.

    Raises:
        UnreadableDocument: there is no text at all (`empty` says so for the format).
    """
    if not any(line.strip() for line in lines + notes):
        raise UnreadableDocument(f"{Path(rel).name}: {empty}")
    lines = lines + notes
    head = "\n".join(lines[:40])
    date = _DATE.search(head)
    symbol = masthead_symbol(lines[:40])
    if title is None:
        title = next((ln.lstrip("# ") for ln in lines if ln.startswith("#")), None)
    return Document(
        doc_id=doc_id,
        path=rel,
        lines=tuple(lines),
        title=title,
        date=date.group(1) if date else None,
        symbol=symbol,
        sha256=hashlib.sha256(data).hexdigest(),
        kind=kind,
    )
