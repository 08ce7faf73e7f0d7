"""Word (.docx) files, read with python-docx: headings by their style, paragraphs and table rows
in the order of the document body, footnotes left out of the text (python-docx does not read
them, so no note is glued into a paragraph)."""

from __future__ import annotations

import logging
import re
import zipfile
from pathlib import Path

from ..errors import UnreadableDocument
from ..types import Document
from .text import markup_document, table_note

log = logging.getLogger(__name__)

_HEADING_STYLE = re.compile(r"^(Heading|Title)\s*(\d)?", re.IGNORECASE)


def read_docx(path: Path, doc_id: str, rel: str) -> Document:
    """Read a .docx file's body into Markdown-like lines."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableDocument(f"{path.name}: cannot be read ({exc.strerror or exc})") from exc
    if not zipfile.is_zipfile(path):
        raise UnreadableDocument(f"{path.name}: not a Word document (a .docx file is a zip package)")
    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise UnreadableDocument(
            f"{path.name}: not a Word document ({exc}); it may be another zip file renamed to .docx"
        ) from exc
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    lines: list[str] = []
    tables: list[str] = []
    title: str | None = document.core_properties.title or None
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            text = re.sub(r"[ \t\u00a0]+", " ", block.text).strip()
            if not text:
                continue
            style = block.style.name if block.style is not None else ""
            m = _HEADING_STYLE.match(style or "")
            if m:
                level = 1 if m.group(1).lower() == "title" else min(int(m.group(2) or 1) + 1, 6)
                if title is None and m.group(1).lower() == "title":
                    title = text
                lines += [f"{'#' * level} {text}", ""]
            else:
                lines += [text, ""]
        elif isinstance(block, Table):
            # A table is a note of its own ("Table 1": rows joined by "; ", cells by " | "),
            # written after the text: it never runs into the paragraph before or after it.
            # Merged cells repeat their text in python-docx: each distinct cell once.
            note = table_note(
                len(tables) + 1,
                [list(dict.fromkeys(re.sub(r"\s+", " ", c.text).strip() for c in row.cells)) for row in block.rows],
            )
            if note:
                tables.append(note)
    return markup_document(
        lines,
        tables,
        data=data,
        doc_id=doc_id,
        rel=rel,
        title=title,
        kind="docx",
        empty="the Word document holds no text",
    )
