"""A printed line of a PDF page, as the text layer or OCR gives it: its words, box and print size."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from statistics import median

# What a footnote mark is printed with: digits, asterisks ("*", or U+2217 as in A/HRC/27/15).
_MARKS = "0123456789*\u2217"


@dataclass
class PrintedLine:
    """One printed line: its page, left edge, top and bottom (points from the top of the page), print
    size, text, and each character with its box."""

    page: int
    x: float
    top: float  # from the top of the page
    bottom: float
    size: float
    text: str
    chars: list[tuple[str, float, float, float, float]] = field(default_factory=list)
    joins: bool = False  # continues the word that the line above broke with a hyphen

    def without_marks(self) -> str:
        """The line's text without footnote marks: digits or asterisks printed small and raised."""
        inked = [c for c in self.chars if c[0].strip()]
        if not inked:
            return self.text
        base = median(c[3] for c in inked)
        kept = [c for c in self.chars if not (c[0] in _MARKS and 0 < c[4] < 0.8 * self.size and c[3] < base - 1.0)]
        return squeeze("".join(c[0] for c in kept))

    def gap_to(self, other: PrintedLine) -> float:
        return other.top - self.bottom


def squeeze(text: str) -> str:
    return re.sub(r"[ \t\u00a0]+", " ", text).strip()
