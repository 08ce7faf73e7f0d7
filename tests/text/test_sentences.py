from __future__ import annotations

import pytest

from rag.text.sentences import split_sentences


def sentences(text: str) -> list[str]:
    out = [text[s.start : s.end] for s in split_sentences(text)]
    assert all(s == s.strip() and s for s in out)
    return out


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "It considered agenda item 2 (see para. 55). The Secretariat spoke.",
            ["It considered agenda item 2 (see para. 55).", "The Secretariat spoke."],
        ),
        (
            "In its resolution 65/230, the Assembly acted. It met (E/CN.15/2011/19, annexes I and II). End.",
            ["In its resolution 65/230, the Assembly acted.", "It met (E/CN.15/2011/19, annexes I and II).", "End."],
        ),
        (
            "Threats, e.g. ransomware, i.e. malware, grew. Next.",
            ["Threats, e.g. ransomware, i.e. malware, grew.", "Next."],
        ),
        ("It would, inter alia, help. Then more.", ["It would, inter alia, help.", "Then more."]),
        ("He said “It is over.” Then they left.", ["He said “It is over.”", "Then they left."]),
        (
            "Documents:\n(a) Provisional agenda;\n(b) Summary. More here.",
            ["Documents:", "(a) Provisional agenda;", "(b) Summary.", "More here."],
        ),
        ("Chapter 3. Legislation and frameworks", ["Chapter 3. Legislation and frameworks"]),
        ("6. Examining options. Second sentence.", ["6. Examining options.", "Second sentence."]),
        ("It was held in 2017. The end.", ["It was held in 2017.", "The end."]),
        (
            "Signed on 9 February 1921. b)Convention with Norway. c) Convention with Sweden.",
            ["Signed on 9 February 1921.", "b)Convention with Norway.", "c) Convention with Sweden."],
        ),
        (
            "The following work: (a) Health work.  (b) Veterinary work; c) Other work.",
            ["The following work:", "(a) Health work.", "(b) Veterinary work;", "c) Other work."],
        ),
        ("It is covered by article 3(b) The next. Fine.", ["It is covered by article 3(b) The next.", "Fine."]),
    ],
)
def test_tricky_sentences(text, expected):
    assert sentences(text) == expected


def test_offsets_index_the_paragraph_text(report_paragraphs):
    for p in report_paragraphs.values():
        for s in split_sentences(p.text):
            assert p.text[s.start : s.end].strip() == p.text[s.start : s.end]
    p11 = report_paragraphs[11].text
    assert sentences(p11)[-1] == "The Secretariat delivered an oral update on the implementation of those resolutions."


def test_items_run_together_after_semicolons_are_sentences():
    text = (
        "We are concerned in this regard: We reaffirm our support for the fund; We will endeavour "
        "to provide resources; and we note the role of the Office; United Nations bodies may help."
    )
    got = [text[s.start : s.end] for s in split_sentences(text)]
    assert got == [
        "We are concerned in this regard: We reaffirm our support for the fund;",
        "We will endeavour to provide resources; and we note the role of the Office;",
        "United Nations bodies may help.",
    ]
