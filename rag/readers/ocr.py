"""Scanned PDF pages: their printed lines read by optical character recognition (OCR), offline.

A page without a text layer is rendered to a grey image with pypdfium2 and read by an OCR
engine. The words it finds (with their boxes) are put back together into printed lines of the
same shape as the text layer gives (`PrintedLine`: text, left edge, top and bottom in PDF points from
the top of the page, print size in points, page number), so that the same layout code drops
running heads, finds footnotes and lets the paragraph splitter number and cite the page.

Two engines are supported; the reader uses `DEFAULT_ENGINE`, chosen by measurement
(bench/ocr.py; docs in the report of that bench):

- "tesseract": Tesseract 5 through its command line (`apt-get install -y tesseract-ocr`),
  read as hOCR, which gives each word's box and each line's estimated print size;
- "rapidocr": RapidOCR on onnxruntime (`pip install rapidocr-onnxruntime`), which gives
  boxes of whole text runs only.
"""

from __future__ import annotations

import io
import logging
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import lru_cache
from html import unescape
from statistics import median
from typing import TYPE_CHECKING, Any

from ..errors import BadSetting, UnreadableDocument
from .pdf_lines import PrintedLine, squeeze

if TYPE_CHECKING:
    from PIL.Image import Image

log = logging.getLogger(__name__)

ENGINES = ("tesseract", "rapidocr")
DEFAULT_ENGINE = "tesseract"
INSTALL = {
    "tesseract": "apt-get install -y tesseract-ocr",
    "rapidocr": "pip install rapidocr-onnxruntime",
}
DPI = 300  # 10-point print is about 40 pixels high: what Tesseract reads best
_TIMEOUT = 300  # seconds for one page
_DESCENDERS = set("gjpqy,;()[]{}|")
_MARK_WORD = re.compile(r"[\d*]{1,3}")
# A paragraph number whose full stop was read as another mark or lost: "2s", "14,", "3".
_MISREAD_NUMBER = re.compile(r"\d{1,3}[s,;:]?")


@dataclass(frozen=True, slots=True)
class Word:
    """A word (or a run of words) as the engine found it, in PDF points from the page's top left."""

    text: str
    left: float
    top: float
    right: float
    bottom: float
    size: float = 0.0  # the print size of its line when the engine estimates one, else 0


def available(engine: str = DEFAULT_ENGINE) -> bool:
    """Is this OCR engine installed?"""
    if engine == "tesseract":
        return shutil.which("tesseract") is not None
    if engine == "rapidocr":
        try:
            import rapidocr_onnxruntime  # noqa: F401
        except ImportError:
            return False
        return True
    raise BadSetting(f"unknown OCR engine {engine!r} (known: {', '.join(ENGINES)})")


def render(page: Any, dpi: int = DPI) -> Image:
    """The page as a grey image at `dpi` dots per inch."""
    return page.render(scale=dpi / 72, grayscale=True).to_pil().convert("L")


def has_image(page: Any) -> bool:
    """Does the page carry a picture (a scan) covering at least a quarter of it? A blank page does not."""
    import pypdfium2.raw as raw

    area = page.get_width() * page.get_height()
    for obj in page.get_objects(max_depth=2):
        if obj.type == raw.FPDF_PAGEOBJ_IMAGE:
            bounds = getattr(obj, "get_bounds", None) or obj.get_pos  # pypdfium2 5, 4
            left, bottom, right, top = bounds()
            if (right - left) * (top - bottom) >= 0.25 * area:
                return True
    return False


def tesseract_words(image: Image, scale: float) -> list[Word]:
    """Words of a page image read by the Tesseract command line, from its hOCR output."""
    png = io.BytesIO()
    image.save(png, format="PNG")
    # One thread per process: Tesseract's OpenMP threads slow it down many times over on a few cores.
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    done = subprocess.run(
        ["tesseract", "stdin", "stdout", "-l", "eng", "--psm", "3", "hocr"],
        input=png.getvalue(),
        capture_output=True,
        env=env,
        timeout=_TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise UnreadableDocument(f"tesseract could not read a scanned page ({said[-1] if said else 'no message'})")
    return _parse_hocr(done.stdout.decode("utf-8", "replace"), scale)


_HOCR_ITEM = re.compile(
    r"class='(ocr_par|ocr_line|ocr_header|ocr_caption|ocr_textfloat|ocrx_word)'[^>]*title=(?:\"([^\"]*)\"|'([^']*)')[^>]*>"
)
_BBOX = re.compile(r"bbox (\d+) (\d+) (\d+) (\d+)")
_XSIZE = re.compile(r"x_size ([\d.]+)")
_WCONF = re.compile(r"x_wconf (\d+)")
_MIN_CONFIDENCE = 30  # Tesseract's confidence (0-100) under which a word is noise: a logo, a bar code
_SAME_PRINT = 0.15  # a line whose estimated size is this close to its paragraph's is in the same print


def _parse_hocr(hocr: str, scale: float) -> list[Word]:
    """Words with their boxes from hOCR; each takes the print size of its line, which Tesseract
    estimates line by line (`x_size`): a line within 15 % of the median of its paragraph's lines
    takes that median, so that the lines of one paragraph are of one size."""
    pars: list[list[tuple[float, list[Word]]]] = []
    for m in _HOCR_ITEM.finditer(hocr):
        kind, title = m.group(1), m.group(2) or m.group(3)
        if kind == "ocr_par" or not pars:
            pars.append([])
        if kind != "ocrx_word":
            if kind != "ocr_par":
                estimate = _XSIZE.search(title)
                pars[-1].append((float(estimate.group(1)) / scale if estimate else 0.0, []))
            continue
        end = hocr.find("</span>", m.end())
        text = squeeze(unescape(re.sub(r"<[^>]+>", "", hocr[m.end() : end])))
        box, conf = _BBOX.search(title), _WCONF.search(title)
        if not box or text in ("", "|") or not pars[-1] or (conf and int(conf.group(1)) < _MIN_CONFIDENCE):
            # A bare "|" is Tesseract's reading of a stroke in the margin, not of print.
            continue
        left, top, right, bottom = (int(v) / scale for v in box.groups())
        pars[-1][-1][1].append(Word(text, left, top, right, bottom))
    words: list[Word] = []
    for lines in pars:
        sizes = [size for size, found in lines if size > 0 and found]
        middle = median(sizes) if sizes else 0.0
        for size, found in lines:
            size = middle if abs(size - middle) <= _SAME_PRINT * middle else size
            words.extend(Word(w.text, w.left, w.top, w.right, w.bottom, size) for w in found)
    return words


@lru_cache(maxsize=1)
def _rapidocr() -> Any:
    from rapidocr_onnxruntime import RapidOCR

    return RapidOCR(params={"Global.max_side_len": 4000, "Global.use_cls": False})


def rapidocr_words(image: Image, scale: float) -> list[Word]:
    """Runs of text of a page image read by RapidOCR (its boxes hold a run of words, not one)."""
    import numpy as np

    found, _ = _rapidocr()(np.asarray(image.convert("RGB")))
    words = []
    for quad, text, _score in found or []:
        xs = [p[0] / scale for p in quad]
        ys = [p[1] / scale for p in quad]
        text = squeeze(text)
        if text:
            words.append(Word(text, min(xs), min(ys), max(xs), max(ys)))
    return words


WORD_READERS: dict[str, Callable[[Any, float], list[Word]]] = {
    "tesseract": tesseract_words,
    "rapidocr": rapidocr_words,
}


def lines_from_words(words: Sequence[Word], number: int) -> list[PrintedLine]:
    """Printed lines from words: words that share a band of the page are one line, left to right,
    as the text-layer reader joins the pieces that share a baseline."""
    rows: list[list[Word]] = []
    for word in sorted(words, key=lambda w: (w.top + w.bottom) / 2):
        row = next((r for r in reversed(rows[-3:]) if _overlap(r, word) > 0.5), None)
        if row is None:
            rows.append([word])
        else:
            row.append(word)
    lines = [_line(sorted(row, key=lambda w: w.left), number) for row in rows]
    return sorted((ln for ln in lines if ln.text), key=lambda ln: (round(ln.bottom), ln.x))


def _overlap(row: list[Word], word: Word) -> float:
    """How much of the smaller of the word and the row's band the two share, from 0 to 1."""
    top = median(w.top for w in row)
    bottom = median(w.bottom for w in row)
    shared = min(bottom, word.bottom) - max(top, word.top)
    return shared / max(1e-6, min(bottom - top, word.bottom - word.top))


def _line(row: list[Word], number: int) -> PrintedLine:
    plain = [w for w in row if not _DESCENDERS & set(w.text)] or row
    baseline = median(w.bottom for w in plain)
    sizes = [w.size for w in row if w.size > 0]
    # Without the engine's estimate: a line of print is about 1.3 times as high as a word's box of capitals.
    size = median(sizes) if sizes else median(w.bottom - w.top for w in row) / 1.3
    top, bottom = baseline - 0.78 * size, baseline + 0.22 * size
    first = row[0]
    if (
        len(row) > 1
        and _MISREAD_NUMBER.fullmatch(first.text)
        and row[1].text[:1].isupper()
        and row[1].left - first.right > 0.8 * size
    ):
        # A paragraph number, set off by a tab, whose full stop was misread or lost: "2s On", "3 In".
        row = [replace(first, text=first.text.rstrip("s,;:") + "."), *row[1:]]
    chars: list[tuple[str, float, float, float, float]] = []
    for k, word in enumerate(row):
        if k:
            chars.append((" ", 0, 0, 0, 0))
        height = word.bottom - word.top
        raised = (
            k > 0
            and _MARK_WORD.fullmatch(word.text) is not None
            and baseline - word.bottom > 0.15 * size
            and height < 0.75 * size
        )
        step = (word.right - word.left) / max(1, len(word.text))
        for i, ch in enumerate(word.text):
            x = word.left + i * step
            # A footnote mark keeps its own small raised box, so that `PrintedLine.without_marks` drops it.
            chars.append((ch, x, word.top, word.bottom, height) if raised else (ch, x, top, bottom, size))
    line = PrintedLine(number, row[0].left, top, bottom, size, "", chars)
    line.text = squeeze("".join(c[0] for c in chars))
    return line


def snap_sizes(lines: Sequence[PrintedLine], tolerance: float = 0.06) -> None:
    """Give lines of about the same print size exactly the same size (in place).

    OCR estimates a line's size from its own letters, to a few per cent; the layout code compares
    sizes to half a point. Sizes within `tolerance` of their neighbours in sorted order form one
    group, which takes the median of its lines' sizes, weighted by their length.
    """
    ordered = sorted((ln for ln in lines if ln.size > 0), key=lambda ln: ln.size)
    groups: list[list[PrintedLine]] = []
    for line in ordered:
        if groups and line.size <= groups[-1][0].size * (1 + tolerance):
            groups[-1].append(line)
        else:
            groups.append([line])
    for group in groups:
        weighted = sorted(ln.size for ln in group for _ in range(max(1, len(ln.text))))
        size = weighted[len(weighted) // 2]
        for line in group:
            old, line.size = line.size, size
            line.top, line.bottom = line.bottom - size, line.bottom
            line.chars = [(*c[:4], size) if c[4] == old else c for c in line.chars]


def ocr_pages(
    pdf: Any, numbers: Sequence[int], engine: str = DEFAULT_ENGINE, dpi: int = DPI, workers: int = 0
) -> dict[int, list[PrintedLine]]:
    """The printed lines of the given pages (1-based) of an open pypdfium2 document, read by OCR.

    Pages are rendered one after the other (pdfium is not thread safe) and read by `workers`
    engine processes at once (default: one per CPU core, for Tesseract; RapidOCR runs one page
    at a time on all cores).
    """
    reader = WORD_READERS[engine]
    scale = dpi / 72
    workers = workers or ((os.cpu_count() or 1) if engine == "tesseract" else 1)
    out: dict[int, list[PrintedLine]] = {}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: dict[int, Future[list[Word]]] = {}
        for n in [*numbers, 0]:
            # At most two rendered pages wait per worker: a page image is some 9 MB.
            while pending and (n == 0 or len(pending) >= 2 * workers):
                first = next(iter(pending))
                out[first] = lines_from_words(pending.pop(first).result(), first)
                log.info("OCR (%s) read page %d: %d lines", engine, first, len(out[first]))
            if n:
                pending[n] = pool.submit(reader, render(pdf[n - 1], dpi), scale)
    snap_sizes([ln for lines in out.values() for ln in lines])
    return out


def read_scans(pdf, pages: list[tuple[list[PrintedLine], float]], name: str) -> list[int]:  # noqa: ANN001
    """Read the scanned pages (no text layer, a page-sized image) by OCR, in place in `pages`;
    their numbers. Without an OCR engine: an error when no page has text, else those pages are
    left out with a warning. Blank pages are not scanned pages."""
    scans = [n for n, (lines, _) in enumerate(pages, 1) if not lines and has_image(pdf[n - 1])]
    if not scans:
        return []
    if not available():
        hint = f"OCR needs {DEFAULT_ENGINE}: install it with `{INSTALL[DEFAULT_ENGINE]}`"
        if not any(lines for lines, _ in pages):
            raise UnreadableDocument(f"{name}: has no text layer (a scanned PDF); {hint}")
        log.warning("%s: pages %s have no text layer and are left out; %s", name, scans, hint)
        return []
    try:
        read = ocr_pages(pdf, scans)
    except UnreadableDocument as exc:
        raise UnreadableDocument(f"{name}: {exc}") from exc
    for n, lines in read.items():
        pages[n - 1] = (lines, pages[n - 1][1])
    log.info("%s: read %d scanned pages by OCR (%s)", name, len(scans), DEFAULT_ENGINE)
    return scans
