"""The characters of a PDF page's text layer, each with its box and print size, in PDFium's order.

PDFium's own line breaks come as "\\n" entries; a hyphen that PDFium marks as ending a printed line
comes as "-" followed by a "\\n" entry of size -1 (the next piece continues the word without a
space). PDFium sometimes leaves out the space between two words set close together
("recognizesthe" in A/80/62) although the page prints a gap there: a gap between two letters wider
than `WORD_GAP` of the print size is a space, and one is put in (docs/READERS.md).
"""

from __future__ import annotations

import ctypes
import logging
from pathlib import Path

log = logging.getLogger(__name__)

Char = tuple[str, float, float, float, float]  # character, left, top, bottom (from the page's top), size

# Measured on the nine UN PDFs of the public data, as the gap between the advance boxes of two
# letters over the print size: the letters of a word stand at most 0.143 apart, the two pairs of
# words PDFium joined 0.208 and 0.211. A space is put in over 0.18, between the two.
WORD_GAP = 0.18


def page_chars(page, gaps: list[tuple[str, float]] | None = None) -> list[Char]:  # noqa: ANN001 - pypdfium2's page
    """Every character of the page with its box, a space put in where the page prints one that the
    text layer lacks. `gaps`, if given, receives each pair of letters with the gap between them."""
    import pypdfium2.raw as raw

    height = page.get_height()
    textpage = page.get_textpage()
    chars: list[Char] = []
    left, right, bottom, top = (ctypes.c_double() for _ in range(4))
    loose = raw.FS_RECTF()
    before: tuple[str, float, float, float] | None = None  # the last character: char, right, baseline, size
    for i in range(textpage.count_chars()):
        code = raw.FPDFText_GetUnicode(textpage.raw, i)
        ch = chr(code) if 0 < code < 0x110000 else ""
        if ch in ("\x02", "\ufffe") and chars:  # pdfium's mark for a hyphen ending a printed line
            chars.append(("-",) + chars[-1][1:])
            chars.append(("\n", 0, 0, 0, -1))  # the next piece joins this one without a space
            before = None
            continue
        if ch in ("\r", "\n", ""):
            chars.append(("\n", 0, 0, 0, 0))
            before = None
            continue
        raw.FPDFText_GetCharBox(textpage.raw, i, left, right, bottom, top)
        # The print size, as the height of the character's font box: PDFium's font size is the
        # nominal one, 1.0 in files that scale their text with a matrix instead. The loose box is
        # the character's advance, so two letters of a word touch and a word space stands apart.
        raw.FPDFText_GetLooseCharBox(textpage.raw, i, loose)
        size = loose.top - loose.bottom
        gap = _gap(before, ch, loose.left, loose.bottom, size) if before is not None else None
        if gap is not None and before is not None:
            if gaps is not None:
                gaps.append((before[0] + ch, gap))
            if gap > WORD_GAP:
                chars.append((" ", 0, 0, 0, 0))
        chars.append((ch, left.value, height - top.value, height - bottom.value, size))
        before = (ch, loose.right, loose.bottom, size)
    return chars


def _gap(before: tuple[str, float, float, float], ch: str, left: float, base: float, size: float) -> float | None:
    """The gap between the letter before and this one, over the print size; None where a gap
    cannot tell a word boundary: not two letters or digits (a leader of dots, punctuation), another
    baseline (a raised footnote mark) or another print."""
    prev, right, prev_base, prev_size = before
    if not (prev.isalnum() and ch.isalnum()) or size <= 0:
        return None
    if abs(prev_base - base) > 0.5 or abs(prev_size - size) > 0.1 * size:
        return None
    return (left - right) / size


def main() -> None:
    """python -m rag.readers.pdf_chars PDF...: how far apart letters stand, to measure WORD_GAP."""
    import argparse
    from collections import Counter

    import pypdfium2 as pdfium

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("pdfs", nargs="+", type=Path)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for path in args.pdfs:
        gaps: list[tuple[str, float]] = []
        pdf = pdfium.PdfDocument(str(path))
        for i in range(len(pdf)):
            page_chars(pdf[i], gaps)
        pdf.close()
        counts = Counter(round(g, 2) for _, g in gaps if g >= 0.1)
        wide = [f"{pair} {g:.3f}" for pair, g in gaps if g > WORD_GAP]
        log.info(
            "%s: %d pairs of letters, widest apart below %.2f: %.3f",
            path.name,
            len(gaps),
            WORD_GAP,
            max((g for _, g in gaps if g <= WORD_GAP), default=0.0),
        )
        log.info("  from 0.10 up: %s", ", ".join(f"{k:.2f}: {n}" for k, n in sorted(counts.items())))
        log.info("  spaces put in: %d %s", len(wide), "; ".join(wide))


if __name__ == "__main__":
    main()
