"""How the readers do on real documents: per file, pages, paragraphs, printed numbers in
sequence (and any gap), footnotes, running heads left in the text, and pages per second.

    python bench/readers.py --data DATA                  # the 9 UN PDFs and the treaties
    python bench/readers.py --data DATA --compare        # also pypdfium2 / pypdf / pdfplumber, plain text

DATA is the shared public data folder (its un-related/ subfolder is read).
"""

from __future__ import annotations

import argparse
import logging
import re
import statistics
import time
from pathlib import Path

from rag.cite.citations import label
from rag.readers import read_document
from rag.text.paragraphs import split_paragraphs

log = logging.getLogger("bench.readers")

# Lines that must never stand in a paragraph of a UN PDF: job numbers, bare symbols, page numbers.
_LEFTOVER = re.compile(r"\bGE\.\d{2}-\d{4,}|^\d{2}-\d{5} |(^|\s)\d{1,3}/\d{1,3}\s+\d{2}-\d{5}|\*\d{7}\*")


def gaps(numbers: list[int]) -> list[str]:
    out = []
    for a, b in zip(numbers, numbers[1:]):
        if b != a + 1:
            out.append(f"{a}->{b}")
    return out


def pdf_report(path: Path) -> dict[str, object]:
    started = time.perf_counter()
    doc = read_document(path)
    seconds = time.perf_counter() - started
    paras = split_paragraphs(doc)
    body = [p for p in paras if p.kind == "para" and not p.ref]
    recs = [p for p in paras if p.ref.startswith("para. ")]
    notes = [p for p in paras if p.kind == "note"]
    numbers = [p.number for p in body if p.numbered_by_source and p.number > 0]
    symbol_left = [
        label(p)
        for p in paras
        if doc.symbol and re.search(rf"(^|\s){re.escape(doc.symbol)}(\s|$)", p.text) and len(p.text) < 40
    ]
    leftovers = [label(p) for p in paras if _LEFTOVER.search(p.text)]
    pages = max(doc.pages, default=0)
    marks = [int(label(p)[4:]) for p in notes if re.fullmatch(r"fn\. \d+", label(p))]
    others = [label(p) for p in notes if not re.fullmatch(r"fn\. \d+", label(p))]
    return {
        "file": path.name,
        "symbol": doc.symbol,
        "date": doc.date,
        "pages": pages,
        "paragraphs": len(body),
        "numbered": all(p.numbered_by_source for p in body),
        "first-last": f"{numbers[0]}-{numbers[-1]}" if numbers else "-",
        "gaps": gaps(numbers),
        "recommendations": len(recs),
        "footnotes": f"{len(marks)} ({marks[0]}-{marks[-1]}, gaps {gaps(marks)})" if marks else 0,
        "other notes": ", ".join(others) or "-",
        "heads left": leftovers + symbol_left,
        "pages/s": round(pages / seconds, 1),
    }


def treaty_report(path: Path) -> dict[str, object]:
    paras = split_paragraphs(read_document(path))
    refs = [label(p) for p in paras]
    return {
        "file": path.name[:60],
        "paragraphs": len(paras),
        "articles": len({r.split("(")[0] for r in refs if r.startswith("Art.")}),
        "examples": ", ".join(refs[1:4]),
    }


def compare(files: list[Path]) -> None:
    import pdfplumber
    import pypdf
    import pypdfium2 as pdfium

    readers = {
        "pypdfium2": lambda f: [p.get_textpage().get_text_range() for p in pdfium.PdfDocument(f)],
        "pypdf": lambda f: [p.extract_text() or "" for p in pypdf.PdfReader(f).pages],
        "pdfplumber": lambda f: [p.extract_text() or "" for p in pdfplumber.open(f).pages],
    }
    print("\nplain text layer, all files: pages/s, and lines that open a printed paragraph number")
    for name, read in readers.items():
        started, pages, opened = time.perf_counter(), 0, 0
        for f in files:
            texts = read(f)
            pages += len(texts)
            opened += sum(1 for t in texts for line in t.splitlines() if re.match(r"^\s*\d{1,3}\.\s+[A-Z]", line))
        seconds = time.perf_counter() - started
        print(
            f"  {name:10s} {pages} pages in {seconds:5.1f} s = {pages / seconds:6.1f} pages/s; "
            f"{opened} numbered-paragraph lines"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, type=Path)
    parser.add_argument("--compare", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    pdfs = sorted((args.data / "un-related" / "pdf").glob("*.pdf"))
    rates = []
    for f in pdfs:
        r = pdf_report(f)
        rates.append(r["pages/s"])
        print(" | ".join(f"{k}: {v}" for k, v in r.items()))
    print(f"median pages/s over {len(pdfs)} PDFs: {statistics.median(rates):.1f}")
    print()
    for f in sorted((args.data / "un-related" / "treaties").glob("*.md")):
        print(" | ".join(f"{k}: {v}" for k, v in treaty_report(f).items()))
    if args.compare:
        compare(pdfs)


if __name__ == "__main__":
    main()
