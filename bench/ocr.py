"""How well OCR reads scanned UN documents, per engine: measured against the pages' own text layer.

    python bench/ocr.py --data DATA                      # both engines, 10 pages of the UN PDFs
    python bench/ocr.py --data DATA --engine tesseract --pages 20
    python bench/ocr.py --pdf report.pdf --pages 5       # pages of one PDF
    python bench/ocr.py --whole report.pdf               # a scanned copy of a whole report, read

Per page the page is rendered to a grey image (as a scan would be), read by the engine and put
into lines the way the reader does (rag/readers/ocr.py), and compared with the lines of the
page's text layer:

- CER: character edit distance over the length of the text layer's text, both with their
  whitespace runs made one space; "CER ns" is the same with no spaces at all (an engine that
  drops the spaces between words loses on CER, not on CER ns);
- numbers: the share of the printed paragraph numbers ("12.") opening a line of the text layer
  that open a line of the OCR text too; "extra" counts numbers OCR found that the page lacks;
- seconds per page: rendering and OCR, on all cores (Tesseract reads one page per core).

--whole makes an image-only copy of a report (every page rendered at --scan-dpi, saved as a PDF
with Pillow), reads both with `read_document`, splits both into paragraphs and reports the
paragraphs of each, the share of printed numbers matching, the first page of each matched
paragraph, the CER of each paragraph matched by number, and the seconds taken. The copy is kept
with --keep DIR, to index it.

DATA is the shared public data folder (its un-related/pdf subfolder is read). Documents held
out for others' evaluation are never read.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz.distance import Levenshtein

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rag.readers import ocr, read_document  # noqa: E402
from rag.readers.pdf import _page_lines  # noqa: E402
from rag.text.paragraphs import split_paragraphs  # noqa: E402

log = logging.getLogger("bench.ocr")

# Held out for others' evaluation: never read here.
HELD_OUT = ("A_HRC_28_9", "S_2025_85", "E_2025_28", "A_80_62", "BWBV0001839")
_NUMBER = re.compile(r"^(\d{1,3})\.\s")


@dataclass
class PageResult:
    pdf: str
    page: int
    chars: int
    cer: float
    cer_nospace: float
    numbers: int
    found: int
    extra: int
    seconds: float
    latin: bool  # the page's text layer is mostly in Latin script


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _latin(text: str) -> bool:
    letters = [ch for ch in text if ch.isalpha()]
    return sum(ch.isascii() for ch in letters) >= 0.8 * max(1, len(letters))


def cer(reference: str, hypothesis: str) -> float:
    """Character error rate: edit distance over the reference's length."""
    return Levenshtein.distance(reference, hypothesis) / max(1, len(reference))


def pdfs_of(data: Path) -> list[Path]:
    return [p for p in sorted((data / "un-related" / "pdf").glob("*.pdf")) if not p.name.startswith(HELD_OUT)]


def pick_pages(pdfs: list[Path], count: int) -> list[tuple[Path, int]]:
    """`count` pages with a text layer, spread evenly over the PDFs and over each PDF's pages."""
    import pypdfium2 as pdfium

    per_pdf: list[list[tuple[Path, int]]] = []
    for path in pdfs:
        pdf = pdfium.PdfDocument(str(path))
        numbers = [n for n in range(1, len(pdf) + 1) if _page_lines(pdf[n - 1], n)]
        pdf.close()
        share = -(-count // len(pdfs))
        step = max(1, len(numbers) // share)
        per_pdf.append([(path, n) for n in numbers[step // 2 :: step][:share]])
    picked = [pair for k in range(max(map(len, per_pdf))) for pages in per_pdf for pair in pages[k : k + 1]]
    return picked[:count]


def measure_page(path: Path, number: int, engine: str) -> PageResult:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    page = pdf[number - 1]
    reference = [ln.text for ln in _page_lines(page, number)]
    started = time.perf_counter()
    image = ocr.render(page)
    pdf.close()
    words = ocr.WORD_READERS[engine](image, ocr.DPI / 72)
    seconds = time.perf_counter() - started
    found = [ln.text for ln in ocr.lines_from_words(words, number)]
    ref_text, ocr_text = _flat("\n".join(reference)), _flat("\n".join(found))
    ref_numbers = {m.group(1) for t in reference if (m := _NUMBER.match(t))}
    ocr_numbers = {m.group(1) for t in found if (m := _NUMBER.match(t))}
    return PageResult(
        path.name,
        number,
        len(ref_text),
        cer(ref_text, ocr_text),
        cer(ref_text.replace(" ", ""), ocr_text.replace(" ", "")),
        len(ref_numbers),
        len(ref_numbers & ocr_numbers),
        len(ocr_numbers - ref_numbers),
        seconds,
        _latin(ref_text),
    )


def bench_pages(pages: list[tuple[Path, int]], engine: str) -> None:
    # Tesseract runs one page per core; RapidOCR's onnxruntime uses all cores for one page.
    workers = (os.cpu_count() or 1) if engine == "tesseract" else 1
    ocr.WORD_READERS[engine]  # noqa: B018 - an unknown engine fails here, before any work
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(lambda pair: measure_page(pair[0], pair[1], engine), pages))
    wall = time.perf_counter() - started
    print(f"\n## {engine}: {len(results)} pages\n")
    print(f"{'pdf':<58} {'page':>4} {'chars':>6} {'CER':>6} {'CER ns':>6} {'numbers':>8} {'extra':>5} {'s':>6}")
    for r in results:
        print(
            f"{r.pdf[:58]:<58} {r.page:>4} {r.chars:>6} {r.cer:>6.3f} {r.cer_nospace:>6.3f} "
            f"{r.found:>3}/{r.numbers:<4} {r.extra:>5} {r.seconds:>6.1f}{'' if r.latin else '  (not Latin script)'}"
        )
    chars = sum(r.chars for r in results)
    numbers = sum(r.numbers for r in results)
    latin = [r for r in results if r.latin]
    if len(latin) < len(results):
        # Both engines are set up for English: a page in Cyrillic or Arabic script is read as garbage.
        print(
            f"\n{engine}: CER over the {len(latin)} pages in Latin script "
            f"{sum(r.cer * r.chars for r in latin) / max(1, sum(r.chars for r in latin)):.4f} "
            f"(no spaces {sum(r.cer_nospace * r.chars for r in latin) / max(1, sum(r.chars for r in latin)):.4f})"
        )
    print(
        f"\n{engine}: CER {sum(r.cer * r.chars for r in results) / chars:.4f} "
        f"(no spaces {sum(r.cer_nospace * r.chars for r in results) / chars:.4f}; median page "
        f"{statistics.median(r.cer for r in results):.4f}), paragraph numbers "
        f"{sum(r.found for r in results)}/{numbers} ({sum(r.found for r in results) / max(1, numbers):.1%}), "
        f"{sum(r.extra for r in results)} extra, {wall / len(results):.2f} s/page on {os.cpu_count()} cores "
        f"({statistics.mean(r.seconds for r in results):.2f} s per page per worker)"
    )


def scanned_copy(source: Path, target: Path, dpi: int = 300) -> Path:
    """An image-only copy of a PDF: every page rendered grey at `dpi` and saved by Pillow."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(source))
    images = [ocr.render(pdf[i], dpi) for i in range(len(pdf))]
    pdf.close()
    images[0].save(target, "PDF", resolution=float(dpi), save_all=True, append_images=images[1:])
    return target


def whole(path: Path, engine: str, dpi: int, keep: Path | None) -> None:
    import tempfile

    ocr.DEFAULT_ENGINE = engine
    with tempfile.TemporaryDirectory() as tmp:
        folder = keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        scan = scanned_copy(path, folder / path.name, dpi)
        started = time.perf_counter()
        original = read_document(path)
        text_seconds = time.perf_counter() - started
        started = time.perf_counter()
        scanned = read_document(scan)
        ocr_seconds = time.perf_counter() - started
    first = {p.number: p for p in split_paragraphs(original) if p.kind == "para" and p.numbered_by_source}
    second = {p.number: p for p in split_paragraphs(scanned) if p.kind == "para" and p.numbered_by_source}
    matched = sorted(first.keys() & second.keys())
    order = list(second)
    in_sequence = sum(1 for a, b in zip(order, order[1:]) if b == a + 1)
    rates = [cer(_flat(first[n].text), _flat(second[n].text)) for n in matched]
    same_page = sum(1 for n in matched if first[n].pages[:1] == second[n].pages[:1])
    pages = max(original.pages, default=0)
    print(f"\n## {path.name}: the text layer and a scan of it at {dpi} dpi read by {engine}\n")
    print(f"pages: {pages}; OCR'd pages in the scan: {len(scanned.ocr_pages)}")
    print(f"symbol / date: {original.symbol} {original.date} | scan: {scanned.symbol} {scanned.date}")
    print(f"title: {original.title!r} | scan: {scanned.title!r}")
    print(f"numbered paragraphs: original {len(first)}, scan {len(second)}")
    print(
        f"printed numbers of the original found in the scan: {len(matched)}/{len(first)} "
        f"({len(matched) / max(1, len(first)):.1%}); extra in the scan: {sorted(second.keys() - first.keys())}"
    )
    print(f"missing: {sorted(first.keys() - second.keys())}")
    print(f"scan numbers in sequence (n followed by n+1): {in_sequence}/{max(0, len(order) - 1)}")
    print(f"matched paragraphs starting on the same page: {same_page}/{len(matched)}")
    if rates:
        total = sum(r * len(_flat(first[n].text)) for r, n in zip(rates, matched))
        chars = sum(len(_flat(first[n].text)) for n in matched)
        print(
            f"CER per matched paragraph: overall {total / chars:.4f}, median {statistics.median(rates):.4f}, "
            f"worst {max(rates):.4f} (para. {matched[rates.index(max(rates))]})"
        )
    print(
        f"seconds: text layer {text_seconds:.2f}, scan {ocr_seconds:.1f} "
        f"({ocr_seconds / max(1, pages):.2f} s/page on {os.cpu_count()} cores)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, help="the shared public data folder (reads un-related/pdf)")
    parser.add_argument("--pdf", type=Path, action="append", default=[], help="a PDF to take pages from (repeatable)")
    parser.add_argument("--engine", choices=(*ocr.ENGINES, "all"), default="all")
    parser.add_argument("--pages", type=int, default=10, help="pages measured, spread over the PDFs")
    parser.add_argument("--whole", type=Path, help="read a scanned copy of this whole report")
    parser.add_argument("--scan-dpi", type=int, default=300, help="resolution of the scanned copy (--whole)")
    parser.add_argument("--keep", type=Path, help="folder to keep the scanned copy in (--whole)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    engines = ocr.ENGINES if args.engine == "all" else (args.engine,)
    missing = [e for e in engines if not ocr.available(e)]
    if missing:
        parser.error("; ".join(f"{e} is not installed: {ocr.INSTALL[e]}" for e in missing))
    if args.whole:
        if args.whole.name.startswith(HELD_OUT):
            parser.error(f"{args.whole.name} is held out for evaluation")
        for engine in engines:
            whole(args.whole, engine, args.scan_dpi, args.keep)
        return
    pdfs = [p for p in args.pdf if not p.name.startswith(HELD_OUT)] or (pdfs_of(args.data) if args.data else [])
    if not pdfs:
        parser.error("give --data DATA or --pdf PATH")
    pages = pick_pages(pdfs, args.pages)
    for engine in engines:
        bench_pages(pages, engine)


if __name__ == "__main__":
    main()
