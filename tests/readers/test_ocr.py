"""Scanned PDFs: pages without a text layer are read by OCR and cited like the original's."""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from conftest import public_data

from rag.errors import UnreadableDocument
from rag.readers import ocr, read_document
from rag.text.paragraphs import split_paragraphs

ROOT = Path(__file__).resolve().parents[2]
REPORT = "pdf/A_HRC_28_4_UPR_Italy_2014.pdf"  # a UPR report: paragraphs 1-16 stand on pages 3-4
# Paragraph 9 of the report, on its page 4.
SENTENCE = (
    "There had been continuing engagement in a domestic process aimed at establishing an independent "
    "national commission for the promotion and protection of human rights"
)


def scanned_copy(source: Path, target: Path, pages: int, dpi: int = 300) -> Path:
    """An image-only PDF of the first pages of `source`: each rendered grey, as a scanner would."""
    pdf = pdfium.PdfDocument(str(source))
    images = [pdf[i].render(scale=dpi / 72, grayscale=True).to_pil().convert("L") for i in range(pages)]
    pdf.close()
    images[0].save(target, "PDF", resolution=float(dpi), save_all=True, append_images=images[1:])
    return target


@pytest.fixture(scope="module")
def report() -> Path:
    return public_data("un-related", REPORT)


@pytest.fixture(scope="module")
def scan(report: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = scanned_copy(report, tmp_path_factory.mktemp("scan") / "italy-scan.pdf", pages=4)
    pdf = pdfium.PdfDocument(str(path))
    assert all(pdf[i].get_textpage().count_chars() == 0 for i in range(len(pdf)))  # no text layer at all
    pdf.close()
    return path


@pytest.fixture(scope="module")
def small_scan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The two-page report of tests/pdfmaker.py, scanned: no shared data needed."""
    from pdfmaker import un_report

    folder = tmp_path_factory.mktemp("small")
    return scanned_copy(un_report(folder / "ruritania.pdf"), folder / "ruritania-scan.pdf", pages=2)


needs_ocr = pytest.mark.skipif(not ocr.available(), reason=f"no OCR engine: {ocr.INSTALL[ocr.DEFAULT_ENGINE]}")


@needs_ocr
def test_a_scanned_report_is_read_with_its_printed_numbers_and_pages(scan: Path, report: Path) -> None:
    doc = read_document(scan)
    assert doc.ocr_pages == (1, 2, 3, 4) and doc.kind == "pdf"
    assert doc.symbol == "A/HRC/28/4" and doc.date == "10 December 2014"
    paras = [p for p in split_paragraphs(doc) if p.kind == "para" and p.numbered_by_source]
    assert [p.number for p in paras][:15] == list(range(1, 16))
    nine = next(p for p in paras if p.number == 9)
    start = nine.text.find("There had")
    assert start >= 0, nine.text
    quoted = nine.text[start : start + len(SENTENCE) + 10]
    assert difflib.SequenceMatcher(None, SENTENCE, quoted[: len(SENTENCE)]).ratio() > 0.95, quoted
    assert [page for _, page in nine.pages] == [4]
    # The same paragraph of the original, read from its text layer, stands on the same page.
    original = next(p for p in split_paragraphs(read_document(report)) if p.number == 9 and p.kind == "para")
    assert original.pages == nine.pages
    # Running heads (the symbol, the GE. job number, page numbers) are dropped as from the text layer.
    text = " ".join(p.text for p in paras)
    assert not re.search(r"GE\.\d{2}-\d{4,}", text) and "A/HRC/28/4" not in text


def test_without_an_ocr_engine_a_scan_is_refused_with_the_install_command(
    small_scan: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ocr, "available", lambda engine=ocr.DEFAULT_ENGINE: False)
    with pytest.raises(UnreadableDocument) as err:
        read_document(small_scan)
    message = str(err.value)
    assert message.startswith("ruritania-scan.pdf") and "no text layer" in message and "\n" not in message
    assert ocr.INSTALL[ocr.DEFAULT_ENGINE] in message


@needs_ocr
def test_a_quote_from_a_scanned_page_says_it_was_read_by_ocr(small_scan: Path, tmp_path: Path, embedder) -> None:
    """The JSON record, the terminal text and the page's evidence card all say that the quote is
    what OCR read, and cite the printed number and page as from the original."""
    import shutil

    from rag.assistant import Assistant
    from rag.cite.serialize import answer_record, answer_text
    from rag.index import build_index, load_index
    from ui.app import evidence_html

    (tmp_path / "corpus").mkdir()
    shutil.copyfile(small_scan, tmp_path / "corpus" / small_scan.name)
    build_index(tmp_path / "corpus", tmp_path / "index", embedder=embedder, progress=False)
    assistant = Assistant(load_index(tmp_path / "index"), embedder, index_dir=tmp_path / "index")
    answer = assistant.ask("When did the Working Group adopt the report?", threshold=0.0)
    cited = answer_record(answer)["citations"][0]
    assert cited["para"] == 6 and cited["pages"] == [2] and cited["ocr"] is True
    assert "read by OCR" in answer_text(answer) and "read by OCR" in evidence_html(assistant, answer)


@needs_ocr
def test_a_scan_of_a_small_report_made_here_keeps_its_numbers_and_pages(small_scan: Path) -> None:
    """No shared data needed: the two-page report of tests/pdfmaker.py, scanned, reads as the
    original does: the same paragraphs and recommendations in order, on the same pages."""
    original, scan = small_scan.with_name("ruritania.pdf"), small_scan
    doc = read_document(scan)
    assert doc.ocr_pages == (1, 2) and doc.symbol == "A/HRC/99/1"

    def units(path: Path) -> list[tuple[str, tuple[int, ...]]]:
        return [
            (p.ref or f"para. {p.number}", tuple(page for _, page in p.pages))
            for p in split_paragraphs(read_document(path))
            if p.kind == "para"
        ]

    assert units(scan) == units(original)
    three = next(p for p in split_paragraphs(doc) if p.kind == "para" and p.number == 3)
    assert "ratification by the parliament" in three.text  # the paragraph runs on across the page break


@needs_ocr
def test_a_page_tesseract_cannot_read_is_one_clear_error_naming_the_file(
    small_scan: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tesseract failing on a page (a damaged image, a crash) refuses the file in one line with its
    name and Tesseract's own last word; nothing half-read is indexed."""
    import subprocess

    def failing(*args, **kwargs):  # type: ignore[no-untyped-def]
        return subprocess.CompletedProcess(args, 1, b"", b"Error in pixReadMem: image is damaged\n")

    monkeypatch.setattr(ocr.subprocess, "run", failing)
    with pytest.raises(UnreadableDocument) as err:
        read_document(small_scan)
    message = str(err.value)
    assert message.startswith("ruritania-scan.pdf: tesseract could not read a scanned page")
    assert "image is damaged" in message and "\n" not in message
