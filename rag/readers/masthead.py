"""The masthead of a UN document's first page: its symbol and date, and which lines are the masthead.

A joint symbol of two organs is one symbol ("A/80/62-E/2025/12"). A masthead may print it over two
lines, either broken after its hyphen ("A/79/845-" then "S/2025/203") or as one symbol under the
other ("E/2025/28" then "E/CN.7/2025/11"); both halves are the document's symbol.
"""

from __future__ import annotations

import re
from collections import Counter

from .pdf_lines import PrintedLine
from .text import _DATE

# A document symbol as printed on a UN masthead: "A/HRC/28/9", "S/2025/85", "E/CN.7/2025/11".
_ORGANS = r"(?:A|E|S|CCPR|UNODC|CTOC|HRC|CAT|CRC|CEDAW|TD|UNEP|DP)"
SYMBOL = re.compile(rf"\b({_ORGANS}(?:/[A-Za-z0-9.]+){{1,6}}(?:-{_ORGANS}(?:/[A-Za-z0-9.]+){{1,6}})?)(?=\s|$)")
# The symbol printed at the end of a masthead line, as the text layer gives it (with note marks and dashes).
_AT_END = re.compile(r"(?:^|\s)([A-Z]{1,6}/[A-Za-z0-9./*\u2212\u2013-]+)\s*$")


def _printed_symbol(text: str) -> str:
    """The symbol at the end of a line, its note marks left out and its dashes made hyphens; "" if none."""
    m = _AT_END.search(text)
    return re.sub(r"[\u2212\u2013]", "-", m.group(1).replace("*", "")) if m else ""


def _second_half(line: PrintedLine, following: list[PrintedLine]) -> str:
    """The rest of a joint symbol printed on the line under this one: only a symbol standing alone
    on the next line, no further below it than a line of its print."""
    if not following:
        return ""
    below = following[0]
    half = _printed_symbol(below.text)
    if half != below.text.replace("*", "").strip() or below.top - line.bottom > line.size:
        return ""
    return half if SYMBOL.fullmatch(half) else ""


def first_page_meta(lines: list[PrintedLine]) -> tuple[str | None, str | None]:
    """The document's symbol and date, from its first page."""
    text = "\n".join(ln.text for ln in lines)
    symbol = None
    head = lines[:12]
    for k, ln in enumerate(head):
        candidate = _printed_symbol(ln.text)
        if not candidate:
            continue
        half = _second_half(ln, head[k + 1 :])
        if candidate.endswith("-") and SYMBOL.fullmatch(candidate + half):
            symbol = candidate + half  # "A/79/845-" then "S/2025/203"
            break
        if SYMBOL.fullmatch(candidate):
            joint = f"{candidate}-{half}"
            joins = half and half != candidate and "-" not in candidate and SYMBOL.fullmatch(joint)
            symbol = joint if joins else candidate
            break
    date = _DATE.search(text)
    return symbol, date.group(1) if date else None


def symbol_parts(symbol: str) -> tuple[str, ...]:
    """A joint symbol and each of its halves, as running heads print them."""
    return (symbol, *re.split(rf"-(?={_ORGANS}/)", symbol)) if "-" in symbol else (symbol,)


def running_symbol(pages: list[tuple[list[PrintedLine], float]]) -> str | None:
    """The document symbol printed as the running head of two or more pages, if any."""
    heads = Counter(
        ln.text.replace(" ", "")
        for lines, height in pages
        for ln in lines
        if ln.bottom < 0.11 * height and SYMBOL.fullmatch(ln.text.replace(" ", ""))
    )
    found = heads.most_common(1)
    return found[0][0] if found and found[0][1] >= 2 else None


def is_masthead(line: PrintedLine, height: float) -> bool:
    """The masthead of a UN document's first page (organ, symbol, distribution, date, language),
    read into the document's symbol and date rather than into its text."""
    return line.bottom < 0.17 * height and bool(
        re.search(
            r"Distr\.|Original:|^United Nations|^General Assembly|^Security Council|"
            r"^Economic and Social Council|\d{1,2} \w+ \d{4}$|^Limited$|^\s*[A-Z]{1,6}/\S+$",
            line.text,
        )
    )
