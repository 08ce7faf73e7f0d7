"""Three faults of the PDF reader, each on a tiny PDF made here and, where the shared public data is
beside the project, on the real UN document it was found in: a joint symbol printed over two lines
of the masthead, a space the page prints but the text layer lacks, a footnote mark on a heading."""

from __future__ import annotations

from pathlib import Path

from conftest import public_data
from pdfmaker import Line, write_pdf

from rag.readers import read_document
from rag.text.paragraphs import split_paragraphs


def _rewrite(path: Path, placeholder: str, operators: str) -> Path:
    """Replace the text operator that shows `placeholder` with other operators of the same length,
    so that the file's byte offsets stay exact: how a test sets a kerned or raised piece of text,
    which the simple writer does not."""
    data = path.read_bytes()
    old = f"({placeholder}) Tj".encode("latin-1")
    new = operators.encode("latin-1")
    assert old in data and len(new) <= len(old)
    path.write_bytes(data.replace(old, new.ljust(len(old))))
    return path


_BODY = [
    (114, 300, 10, "1. The Commission held its session in Vienna from 10 to 14 March 2025."),
    (114, 318, 10, "2. The Commission adopted its report on 14 March 2025."),
]


def _masthead(first: Line, second: Line | None) -> list[Line]:
    lines = [(120, 50, 14, "United Nations"), first, (120, 80, 20, "Economic and Social Council")]
    lines += [(393, 100, 10, "6 December 2024"), (393, 124, 10, "Original: English")]
    return lines + ([second] if second else [])


def test_a_joint_symbol_printed_as_one_symbol_under_the_other_is_read_whole(tmp_path):
    heads = [(480, 30, 9, "E/2099/28"), (466, 41, 9, "E/CN.7/2099/11")]
    page1 = _masthead((480, 50, 9, "E/2099/28"), (466, 61, 9, "E/CN.7/2099/11")) + _BODY
    page2 = heads + [(114, 100, 10, "3. The Commission thanked the secretariat.")]
    doc = read_document(write_pdf(tmp_path / "report.pdf", [page1, page2]))
    assert doc.symbol == "E/2099/28-E/CN.7/2099/11"
    # each half, printed as the running head of a page, is still dropped
    assert not any("/2099/" in line for line in doc.lines)
    assert [p.ref or p.number for p in split_paragraphs(doc)] == [1, 2, 3]


def test_a_joint_symbol_broken_after_its_hyphen_is_read_whole(tmp_path):
    page = _masthead((120, 50, 14, "United Nations A/79/999-"), (455, 62, 14, "S/2025/999")) + _BODY
    doc = read_document(write_pdf(tmp_path / "letter.pdf", [page]))
    assert doc.symbol == "A/79/999-S/2025/999"


def test_a_symbol_alone_stays_alone(tmp_path):
    page = _masthead((480, 50, 9, "E/2099/28"), (480, 140, 9, "E/CN.7/2099/11")) + _BODY  # far below: not one
    doc = read_document(write_pdf(tmp_path / "report.pdf", [page]))
    assert doc.symbol == "E/2099/28"


def test_real_joint_symbols_are_read_whole():
    assert read_document(
        public_data("un-related", "pdf", "E_2025_28-E_CN.7_2025_11_CND_report_68th_session.pdf")
    ).symbol == ("E/2025/28-E/CN.7/2025/11")
    letter = read_document(public_data("un-related", "pdf", "A_79_845-S_2025_203_letter_ICT_criminal_purposes.pdf"))
    assert letter.symbol == "A/79/845-S/2025/203"


def _kerned(path: Path, before: str, after: str, kerning: int) -> Path:
    """One line of text whose two parts stand `kerning` thousandths of the type size apart in the
    same text object, printed widened (250 % horizontal scale): PDFium writes no space between them
    however wide the printed gap."""
    placeholder = before + "~" * 40 + after
    write_pdf(path, [[(60, 300, 10, placeholder)]])
    return _rewrite(path, placeholder, f"250 Tz [({before}) -{kerning} ({after})] TJ")


def test_a_printed_gap_without_a_space_in_the_text_layer_is_a_space(tmp_path):
    doc = read_document(_kerned(tmp_path / "gap.pdf", "The body recognizes", "the rule.", 100))
    assert doc.lines == ("The body recognizes the rule.",)


def test_letters_set_close_are_not_split(tmp_path):
    doc = read_document(_kerned(tmp_path / "close.pdf", "The body recog", "nizes the rule.", 50))
    assert doc.lines == ("The body recognizes the rule.",)


def test_real_words_joined_by_the_text_layer_are_parted():
    doc = read_document(public_data("un-related", "pdf", "A_80_62-E_2025_12_WSIS_implementation_report_2025.pdf"))
    text = "\n".join(doc.lines)
    assert "recognizes the intersections" in text and "resolution on ICTs for sustainable" in text
    assert "recognizesthe" not in text and "ICTsfor" not in text


def test_a_footnote_mark_on_a_heading_is_not_part_of_the_section(tmp_path):
    placeholder = "II. Conclusions and recommendations" + "~" * 30
    page = [
        (114, 200, 17, "Report of the Working Group"),
        (114, 240, 14, placeholder),
        *_BODY,
        (100, 700, 8, "__________________"),
        (114, 712, 8, "** The conclusions have not been edited."),
    ]
    path = write_pdf(tmp_path / "review.pdf", [page])
    # the marks are set as UN documents set them: smaller, raised, in the heading's own text object
    _rewrite(path, placeholder, "(II. Conclusions and recommendations) Tj /F1 9 Tf 5 Ts (**) Tj")
    doc = read_document(path)
    assert "## II. Conclusions and recommendations" in doc.lines
    paras = {p.ref or str(p.number): p for p in split_paragraphs(doc)}
    assert paras["1"].section == ("II. Conclusions and recommendations",)
    assert paras["fn. **"].text == "The conclusions have not been edited."  # the note itself stays


def test_real_headings_lose_their_footnote_marks():
    doc = read_document(public_data("un-related", "pdf", "A_HRC_28_4_UPR_Italy_2014.pdf"))
    sections = {p.section for p in split_paragraphs(doc)}
    assert ("Report of the Working Group on the Universal Periodic Review", "Introduction") in sections
    assert ("II. Conclusions and/or recommendations",) in sections
    assert not any("*" in name for section in sections for name in section)
