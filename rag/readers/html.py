"""HTML files, read with selectolax (its lexbor parser): the text of headings, paragraphs, list items and table rows
in document order; scripts, styles, navigation, headers, footers and forms are never text."""

from __future__ import annotations

import logging
import re
from pathlib import Path

from ..errors import UnreadableDocument
from ..types import Document
from .text import markup_document, table_note

log = logging.getLogger(__name__)

_DROP = "script, style, noscript, template, nav, header, footer, form, iframe, object, svg, button, select"
_BLOCKS = "h1, h2, h3, h4, h5, h6, p, li, table, blockquote, pre, dt, dd, figcaption"


def read_html(path: Path, doc_id: str, rel: str) -> Document:
    """Read an HTML page's readable text into Markdown-like lines."""
    from selectolax.lexbor import LexborHTMLParser

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableDocument(f"{path.name}: cannot be read ({exc.strerror or exc})") from exc
    if b"\x00" in data[:8192]:
        raise UnreadableDocument(f"{path.name}: looks like a binary file, not HTML")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        m = re.search(rb"charset=[\"']?([A-Za-z0-9_-]+)", data[:4096])
        try:
            text = data.decode(m.group(1).decode() if m else "cp1252")
        except (LookupError, UnicodeDecodeError) as exc:
            raise UnreadableDocument(f"{path.name}: its text encoding cannot be read; save it as UTF-8") from exc
    tree = LexborHTMLParser(text)
    dropped = len(tree.css("script"))
    for node in tree.css(_DROP):
        node.decompose()
    if dropped:
        log.info("%s: %d script(s) left out", path.name, dropped)
    for br in tree.css("br"):
        br.replace_with(" ")  # a line break inside a paragraph is a space between its words
    title_node = tree.css_first("title")
    title = re.sub(r"\s+", " ", title_node.text()).strip() if title_node else None
    root = tree.body or tree.root
    lines: list[str] = []
    tables: list[str] = []
    if root is not None:
        for node in root.css(_BLOCKS):
            # A block inside another block (a <p> in an <li>) is read with its parent.
            parent, nested = node.parent, False
            while parent is not None and parent is not root:
                if parent.tag in ("p", "li", "table", "blockquote", "pre", "dd", "dt", "figcaption"):
                    nested = True
                    break
                parent = parent.parent
            if nested:
                continue
            if node.tag == "table":
                # A table is a note of its own ("Table 1", or its caption), after the text.
                note = table_note(
                    len(tables) + 1,
                    [[re.sub(r"\s+", " ", c.text()).strip() for c in tr.css("td, th")] for tr in node.css("tr")],
                )
                if note:
                    tables.append(note)
                continue
            else:
                body = re.sub(r"\s+", " ", node.text()).strip()
            if not body:
                continue
            if node.tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
                lines += [f"{'#' * int(node.tag[1])} {body}", ""]
            else:
                lines += [body, ""]
    return markup_document(
        lines,
        tables,
        data=data,
        doc_id=doc_id,
        rel=rel,
        title=title,
        kind="html",
        empty="the page holds no readable text",
    )
