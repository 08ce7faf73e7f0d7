from __future__ import annotations

import pytest
from conftest import DOC, REPORT, REPRODUCED, write

from rag.readers import read_document
from rag.text.lines import strip_markup
from rag.text.paragraphs import split_paragraphs


def test_bundled_report_has_its_sixty_numbered_paragraphs(report_paragraphs):
    assert sorted(n for n, p in report_paragraphs.items() if p.kind == "para") == list(range(1, 61))
    assert all(p.doc_id == DOC and p.numbered_by_source for p in report_paragraphs.values())
    # The date and language lines above paragraph 1 are particulars, not statements: not indexed.
    assert not [p for p in report_paragraphs.values() if p.kind == "text"]


def test_paragraphs_split_by_page_breaks_are_joined(report_paragraphs):
    p4 = report_paragraphs[4].text
    assert "options to strengthen existing responses and to propose new national" in p4
    assert p4.endswith("legal or other responses to cybercrime.")
    p11 = report_paragraphs[11].text
    assert "Commission on Crime Prevention and Criminal Justice resolutions 22/7 and 22/8" in p11
    assert p11.endswith("The Secretariat delivered an oral update on the implementation of those resolutions.")
    assert "Speakers also shared their experiences related to technical assistance" in report_paragraphs[16].text
    assert report_paragraphs[23].text.endswith("consideration of the way forward on the draft study”.")
    for n in (29, 33, 38):
        assert "\n" not in report_paragraphs[n].text  # joined with a space, not split


def test_agenda_inside_paragraph_56_stays_there(report_paragraphs):
    p56 = report_paragraphs[56]
    assert p56.text.startswith("At the meeting of its extended Bureau on 15 March 2017")
    assert "\n6. Examining options to strengthen existing responses" in p56.text
    assert "(a) Opening of the meeting;" in p56.text
    assert p56.text.endswith("8. Adoption of the report.")
    assert report_paragraphs[6].text.startswith("The Commission may wish to request")


def test_lists_belong_to_the_paragraph_above(report_paragraphs):
    assert report_paragraphs[7].text.endswith("Chapter 7. International cooperation\nChapter 8. Prevention")
    assert "(e) Non-paper submitted by the European Union" in report_paragraphs[59].text


def test_numbers_are_not_in_the_text_and_markup_is_stripped(report_paragraphs):
    assert report_paragraphs[60].text == (
        "At its 7th meeting, on 13 April 2017, the Expert Group adopted its report "
        "(UNODC/CCPCJ/EG.4/2017/L.1 and Add.1 to 4)."
    )
    assert "(E/CN.15/2011/19, annexes I and II)" in report_paragraphs[2].text
    assert "would, inter alia, help" in report_paragraphs[46].text
    assert not any("**" in p.text or "](#)" in p.text for p in report_paragraphs.values())


def test_sections_follow_the_heading_outline(report_paragraphs):
    assert report_paragraphs[1].section == ("I. Introduction",)
    assert report_paragraphs[11].section[0] == "III. Summary of deliberations"
    assert report_paragraphs[11].section[1].startswith("A. Update by the Secretariat")
    assert report_paragraphs[23].section == (
        "III. Summary of deliberations",
        "C. Consideration of the draft comprehensive study of the problem of cybercrime and comments "
        "thereto, and consideration of the way forward on the draft study",
    )
    assert report_paragraphs[56].section == (
        "III. Organization of the meeting",
        "C. Adoption of the agenda and other organizational matters",
    )
    assert report_paragraphs[60].section == ("IV. Adoption of the report",)


def test_line_spans_point_into_the_source(report_paragraphs):
    p4 = report_paragraphs[4]
    assert p4.lines[0] < p4.lines[1]  # spans the page break
    doc = read_document(REPORT)
    assert doc.lines[p4.lines[0] - 1].startswith("4. In the Doha Declaration")
    assert doc.lines[p4.lines[1] - 1].startswith("responses and to propose")


def test_document_metadata():
    doc = read_document(REPORT)
    assert doc.title.startswith("Report on the meeting of the Expert Group to Conduct a Comprehensive Study")
    assert doc.date == "24 April 2017"


def test_unnumbered_document_is_numbered_in_order(tmp_path):
    path = write(
        tmp_path / "notes.md",
        "# Notes\n\nThe first block of text.\nIt wraps.\n\n"
        "## Part two\n\nA second block.\n\nA list follows:\n- one item\n- another item\n",
    )
    paras = split_paragraphs(read_document(path))
    assert [p.number for p in paras] == [1, 2, 3]
    assert not any(p.numbered_by_source for p in paras)
    assert paras[0].text == "The first block of text. It wraps."
    assert paras[1].section == ("Part two",)
    assert paras[2].text == "A list follows:\none item\nanother item"


def test_a_short_numbered_list_in_prose_does_not_make_a_numbered_document(tmp_path):
    prose = "Some prose paragraph that is long enough to matter in the count of characters. " * 4
    path = write(tmp_path / "essay.txt", f"{prose}\n\n1. first point\n2. second point\n\n{prose}\n\n{prose}\n")
    paras = split_paragraphs(read_document(path))
    assert not paras[0].numbered_by_source
    assert len(paras) == 4  # nothing dropped


def test_paragraphs_a_pdf_ran_into_one_line_get_their_own_numbers(tmp_path):
    text = (
        "1. We welcome the plan of action.\n\n"
        "2. We reaffirm the importance of the Convention.8 3. We recall the Global Compact, "
        "as adopted in 2018. 4. We also reaffirm the definition of trafficking in persons.\n\n"
        "5. We note that the study covers chapters 3. 6. and 7 only in part.\n"
    )
    paras = split_paragraphs(read_document(write(tmp_path / "declaration.txt", text)))
    assert [p.number for p in paras] == [1, 2, 3, 4, 5]
    assert paras[1].text == "We reaffirm the importance of the Convention.8"
    assert paras[2].text == "We recall the Global Compact, as adopted in 2018."
    assert paras[3].text == "We also reaffirm the definition of trafficking in persons."
    assert paras[2].lines == (3, 3)
    assert "chapters 3. 6. and 7" in paras[4].text  # "6." before a small letter opens nothing


def test_numbers_typed_without_a_full_stop_are_the_speakers_own(tmp_path):
    # A speech typed "17  We need ...": the speaker's numbers, not blocks counted in order
    # (which would count the salutation as paragraph 1 and cite every paragraph one too high).
    text = (
        "Mr President, Excellencies\n\n"
        "1 I bring greetings from my country.\n\n"
        "2 First, we must return to the basics by reinforcing the role of the\n"
        "United Nations in maintaining peace. That is its reason for being.\n\n"
        "3  We need to accelerate our efforts on climate change.\n\n"
        "4  Thank you.\n"
    )
    paras = split_paragraphs(read_document(write(tmp_path / "speech.txt", text)))
    assert [p.number for p in paras] == [1, 2, 3, 4]
    assert all(p.numbered_by_source for p in paras)
    assert paras[1].text.startswith("First, we must") and paras[1].text.endswith("reason for being.")
    assert paras[2].text == "We need to accelerate our efforts on climate change."


def test_lines_that_open_with_a_figure_are_not_paragraph_numbers(tmp_path):
    text = (
        "The plan has three parts.\n\n"
        "2030 Agenda targets are reviewed each year by the Forum.\n\n"
        "17 Goals make up the Agenda, with their targets.\n\n"
        "The review ends the cycle.\n"
    )
    paras = split_paragraphs(read_document(write(tmp_path / "plan.txt", text)))
    assert [p.number for p in paras] == [1, 2, 3, 4]
    assert not any(p.numbered_by_source for p in paras)
    assert paras[2].text == "17 Goals make up the Agenda, with their targets."


def test_strip_markup():
    assert (
        strip_markup("**B. Adoption** of [E/CN.15/2011/19](#) and *inter alia*")
        == "B. Adoption of E/CN.15/2011/19 and inter alia"
    )


RESOLUTION = """United Nations
General Assembly Distr.: General

Resolution adopted by the General Assembly on 26 November 2025

80/10. International Day of Indigenous Women and Girls

The General Assembly,

Reaffirming the purposes and principles of the Charter of the United Nations,

Recalling the Universal Declaration of Human Rights and the United Nations Declaration on the Rights of Indigenous Peoples,

Stressing the importance of the empowerment of Indigenous women and girls and of their full, equal and meaningful participation in decision-making,

Recognizing that 5 September is commemorated in several countries as the International Day of Indigenous Women,

1. Decides to proclaim 5 September of each year as the International Day of the World's Indigenous Women and Girls;

2. Requests the Secretary-General to bring the present resolution to the attention of all States Members;

51st plenary meeting
"""


def test_a_resolution_keeps_its_operative_numbers_and_its_preamble_is_paragraph_0(tmp_path):
    paras = split_paragraphs(read_document(write(tmp_path / "res.md", RESOLUTION)))
    assert [p.number for p in paras] == [0, 1, 2]
    assert all(p.numbered_by_source for p in paras)
    preamble = paras[0]
    assert preamble.text.startswith("The General Assembly,\nReaffirming the purposes")  # masthead left out
    assert preamble.text.endswith("as the International Day of Indigenous Women,")
    assert preamble.lines == (8, 16)
    assert paras[1].text.startswith("Decides to proclaim 5 September")


@pytest.mark.parametrize(
    "line, shown",
    [
        ("See <https://unodc.org> or <john@x.org>.", "See https://unodc.org or john@x.org."),
        ("[Foo](https://en.wikipedia.org/wiki/Foo_(bar)) is a page.", "Foo is a page."),
        ("a<b and c>d", "a<b and c>d"),
        ("call __init__ now", "call __init__ now"),
        ("[[call us]](https://evil.example/phish)", "[call us]"),
        ("**bold**, *italic* and __two words__", "bold, italic and two words"),
        ('x <b>bold</b> <span class="a">y</span>', "x bold y"),
    ],
)
def test_markup_is_stripped_as_a_reader_sees_the_page(line, shown):
    assert strip_markup(line) == shown


@pytest.mark.parametrize(
    "text, expected",
    [
        # A year that a line break left alone is text, not a paragraph number to drop.
        ("The group met in May\n2017.\nIt adopted a plan.\n", ["The group met in May 2017. It adopted a plan."]),
        (
            "1. The group met in May\n2017.\n\n2. It adopted a plan.\n",
            ["The group met in May 2017.", "It adopted a plan."],
        ),
        # A number alone on its line above its text still opens its paragraph.
        ("1.\nThe group met.\n\n2.\nIt adopted a plan.\n", ["The group met.", "It adopted a plan."]),
    ],
)
def test_a_number_alone_on_its_line_opens_a_paragraph_or_stays_as_text(tmp_path, text, expected):
    paras = split_paragraphs(read_document(write(tmp_path / "d.md", text)))
    assert [p.text for p in paras] == expected


def test_a_speech_written_a_paragraph_a_line_gets_a_paragraph_a_line(tmp_path):
    """A General Debate speech as plain text puts each paragraph on one long line with no blank
    lines between: each line is a paragraph (a line broken inside a sentence stays with the one
    before); a Markdown file or a text of short lines keeps its blocks."""
    first = "The world today faces war, debt and a changing climate, and no nation can meet them alone. " * 3
    second = "We must therefore strengthen the partnerships that uphold the dignity of every person " * 3
    broken = "and the rights of every people, whatever their size."
    third = "Our delegation will work with all Member States to that end, in this Hall and beyond it. " * 3
    text = f"{first.strip()}\n{second.strip()}\n{broken}\n{third.strip()}\n"
    speech = split_paragraphs(read_document(write(tmp_path / "speech.txt", text), root=tmp_path))
    assert [p.text for p in speech] == [first.strip(), f"{second.strip()} {broken}", third.strip()]
    assert [p.number for p in speech] == [1, 2, 3] and not speech[0].numbered_by_source
    markdown = split_paragraphs(read_document(write(tmp_path / "speech.md", text), root=tmp_path))
    assert len(markdown) == 1
    short = "A short line of prose.\nAnother short line.\nA third one.\n"
    assert len(split_paragraphs(read_document(write(tmp_path / "notes.txt", short), root=tmp_path))) == 1


ANNEXED = """# Report of the Working Group on the Universal Periodic Review: Ruritania

## I. Summary of the proceedings

1. The Working Group held its review of Ruritania on 5 May 2014. The Working Group took note of the information provided and of the questions put in advance by the delegations of several States, which were transmitted to the State under review through the troika. The Working Group took note of the information provided and of the questions put in advance by the delegations of several States, which were transmitted to the State under review through the troika. The Working Group took note of the information provided and of the questions put in advance by the delegations of several States, which were transmitted to the State under review through the troika.

2. The delegation was headed by the Minister of Justice. The Working Group took note of the information provided and of the questions put in advance by the delegations of several States, which were transmitted to the State under review through the troika. The Working Group took note of the information provided and of the questions put in advance by the delegations of several States, which were transmitted to the State under review through the troika. The Working Group took note of the information provided and of the questions put in advance by the delegations of several States, which were transmitted to the State under review through the troika.

3. The review went on. The Working Group took note of the information provided and of the questions put in advance by the delegations of several States, which were transmitted to the State under review through the troika. The Working Group took note of the information provided and of the questions put in advance by the delegations of several States, which were transmitted to the State under review through the troika. The Working Group took note of the information provided and of the questions put in advance by the delegations of several States, which were transmitted to the State under review through the troika.

4. The review went on. The Working Group took note of the information provided and of the questions put in advance by the delegations of several States, which were transmitted to the State under review through the troika. The Working Group took note of the information provided and of the questions put in advance by the delegations of several States, which were transmitted to the State under review through the troika. The Working Group took note of the information provided and of the questions put in advance by the delegations of several States, which were transmitted to the State under review through the troika.

5. The review went on. The Working Group took note of the information provided and of the questions put in advance by the delegations of several States, which were transmitted to the State under review through the troika. The Working Group took note of the information provided and of the questions put in advance by the delegations of several States, which were transmitted to the State under review through the troika. The Working Group took note of the information provided and of the questions put in advance by the delegations of several States, which were transmitted to the State under review through the troika.

6. The review went on. The Working Group took note of the information provided and of the questions put in advance by the delegations of several States, which were transmitted to the State under review through the troika. The Working Group took note of the information provided and of the questions put in advance by the delegations of several States, which were transmitted to the State under review through the troika. The Working Group took note of the information provided and of the questions put in advance by the delegations of several States, which were transmitted to the State under review through the troika.

## II. Conclusions

7. The recommendations below enjoy the support of Ruritania.

## Annex

[English only]

## Composition of the delegation

The delegation of Ruritania was headed by H.E. Ms. Ada Lorne, Minister of Justice, and was
composed of the following members:

- Mr. Ben Ortiz, Alternate Head of Delegation, Ambassador to the United Nations Office at
  Geneva;

- Ms. Cleo Park, Legal Adviser, Ministry of Foreign Affairs.
"""


def test_an_annex_outside_the_numbered_paragraphs_is_text_cited_by_its_headings(tmp_path):
    doc = read_document(write(tmp_path / "upr.md", ANNEXED), root=tmp_path)
    paragraphs = split_paragraphs(doc)
    assert [p.number for p in paragraphs if p.kind == "para"] == [1, 2, 3, 4, 5, 6, 7]
    (annex,) = [p for p in paragraphs if p.kind == "text"]  # "[English only]" alone is no text to answer from
    assert annex.ref == "Annex, Composition of the delegation"
    assert annex.section == ("Annex", "Composition of the delegation")
    assert annex.text.splitlines() == [
        "The delegation of Ruritania was headed by H.E. Ms. Ada Lorne, Minister of Justice, and was "
        "composed of the following members:",
        "Mr. Ben Ortiz, Alternate Head of Delegation, Ambassador to the United Nations Office at Geneva;",
        "Ms. Cleo Park, Legal Adviser, Ministry of Foreign Affairs.",
    ]
    assert annex.number < 0
    first, last = annex.lines
    assert doc.lines[first - 1].startswith("The delegation of Ruritania") and doc.lines[last - 1].endswith(
        "Foreign Affairs."
    )


def test_a_question_about_an_annex_is_answered_from_it_and_grounded(tmp_path, embedder):
    from rag.assistant import Assistant
    from rag.cite.grounding import GroundingChecker
    from rag.cite.serialize import answer_record
    from rag.index import build_index, load_index

    write(tmp_path / "corpus" / "upr.md", ANNEXED)
    build_index(tmp_path / "corpus", tmp_path / "index", embedder=embedder, progress=False)
    data = load_index(tmp_path / "index")
    assistant = Assistant(data, embedder, index_dir=tmp_path / "index")
    answer = assistant.ask("Who was the alternate head of the delegation?")
    record = answer_record(answer)
    cited = record["citations"][0]
    assert "Ben Ortiz, Alternate Head of Delegation" in cited["quote"]
    assert cited["para"] is None and cited["cite"] == "Annex, Composition of the delegation"
    assert record["answer"].endswith("[Annex, Composition of the delegation]")
    from ui.app import evidence_html

    assert "Annex, Composition of the delegation" in evidence_html(assistant, answer)  # the page's card too
    checker = GroundingChecker(
        data.paragraphs, tmp_path / "corpus", {d: i.file for d, i in data.manifest.documents.items()}
    )
    assert checker.check_record(record) == []


def test_reproduced_resolutions_and_an_annex_keep_their_own_numbers_with_their_part(tmp_path):
    from rag.cite.citations import label

    paras = split_paragraphs(read_document(write(tmp_path / "report.md", REPRODUCED)))
    body = [(p.number, label(p)) for p in paras if p.kind == "para"]
    assert body == [
        (1, "para. 1"),
        (10000, "res. 10/1, preamble"),
        (10001, "res. 10/1, para. 1"),
        (10002, "res. 10/1, para. 2"),
        (20000, "res. 10/2, preamble"),
        (20001, "res. 10/2, para. 1"),
        (20002, "res. 10/2, para. 2"),
        (20003, "res. 10/2, para. 3"),
        (2, "para. 2"),  # the report's own numbers go on after the resolutions
        (3, "para. 3"),
        (30001, "annex, para. 1"),
        (30002, "annex, para. 2"),
    ]
    assert all(p.numbered_by_source for p in paras)
    by_label = {label(p): p for p in paras}
    assert by_label["res. 10/1, preamble"].text.startswith("The Commission on Crime Prevention,\nRecalling its")
    assert by_label["res. 10/2, para. 2"].text.startswith("Invites donors to fund surveys of wastewater")
    assert by_label["annex, para. 1"].text.startswith("The Commission had before it the report")
    # A decision without numbers of its own is text cited by its name.
    decision = by_label["decision 10/101"]
    assert decision.kind == "text" and decision.text.startswith("At its 5th meeting")
    assert len({p.number for p in paras}) == len(paras)  # every number names one paragraph


def test_chapters_whose_numbers_go_on_are_not_parts(tmp_path):
    text = (
        "# Report\n\n## Chapter I\n\n1. The meeting opened.\n\n2. The agenda was adopted.\n\n"
        "## Chapter II\n\n3. The group discussed the draft study.\n\n4. The group adopted its report.\n"
    )
    paras = split_paragraphs(read_document(write(tmp_path / "report.md", text)))
    assert [(p.number, p.ref) for p in paras] == [(1, ""), (2, ""), (3, ""), (4, "")]


def test_an_annex_named_on_a_line_of_its_own_is_numbered_on_its_own(tmp_path):
    """A file without headings (text taken from a PDF): "Annex" alone between blank lines."""
    text = (
        "The General Assembly,\n\nRecalling its resolution 79/1,\n\nNoting the declaration,\n\n"
        "1. Endorses the declaration contained in the annex to the present resolution;\n\n"
        "2. Decides to review its implementation.\n\nAnnex\n\n"
        "1. We, the Heads of State, met in Awaza.\n\n2. We stress the needs of landlocked States.\n\n"
        "3. We commit to act.\n"
    )
    paras = split_paragraphs(read_document(write(tmp_path / "res.md", text)))
    assert [(p.number, p.ref) for p in paras] == [
        (0, ""),
        (1, ""),
        (2, ""),
        (10001, "annex, para. 1"),
        (10002, "annex, para. 2"),
        (10003, "annex, para. 3"),
    ]
    assert paras[3].section == ("Annex",)


# A report with a masthead, a table of contents, a summary and a covering note before paragraph 1.
FRONTED = """# Report on water use

## Contents

Introduction ........................................ 1-2 3

Annex ............................................... 5

## Summary

The present report describes how the basin's water was used in the last decade. It finds that
irrigation took two thirds of it and proposes a metering scheme.

## Introduction

1. The board asked for this report at its spring session, after two dry summers had emptied the
upper reservoirs and farmers had asked for a fair share of what remained in the lower ones.

2. It covers the years 2015 to 2024, the ten years for which the basin authority kept monthly
records of every licensed intake, well and canal, and of the rain that fell on the catchment.

3. Figures come from the basin authority, whose engineers checked each meter twice a year and
corrected the readings of those that had drifted, as its annual reports of those years explain.

4. Irrigation took two thirds of the water in every year but the wettest, when it took half; towns
took a fifth, and industry, mostly the paper mill and the two quarries, took the rest of it.

5. Losses from the canals were larger than expected: about one cubic metre in six never reached a
field, mostly through the old earthen stretches below the second weir and at the sluice gates.

6. The board is invited to approve a metering scheme for every intake above ten litres a second,
to be phased in over three years, with the cost shared between the authority and the users.
"""


def test_text_before_paragraph_1_is_cited_by_its_heading_and_a_contents_table_is_left_out(tmp_path):
    doc = read_document(write(tmp_path / "water.md", FRONTED), root=tmp_path)
    paragraphs = split_paragraphs(doc)
    assert [p.number for p in paragraphs if p.kind == "para"] == [1, 2, 3, 4, 5, 6]
    (summary,) = [p for p in paragraphs if p.kind == "text"]  # the contents lines are not text to quote
    assert summary.ref == "Summary" and summary.number < 0
    assert summary.text.startswith("The present report describes") and summary.text.endswith("metering scheme.")
    assert not any("......" in p.text for p in paragraphs)


def test_a_covering_letter_above_every_heading_is_cited_by_the_document_title(tmp_path):
    text = (
        "# Letter dated 4 May 2025 from the Chair addressed to the Board\n\n"
        "I have the honour to transmit the annual report of the water authority.\n\n"
        "(Signed) Ana Ruiz\n\n## Report\n\n1. The authority met four times in the year, twice in the capital and twice "
        "at the reservoirs, to review the state of its wells, canals and meters.\n\n"
        "2. It approved a budget for the next three years that doubles the money for repairs and keeps the "
        "tariffs that households pay for the first ten cubic metres of each month.\n\n"
        "3. It closed one well near the coast, where salt water had reached the aquifer, and opened two "
        "new ones further inland, whose water was tested by the national laboratory.\n"
    )
    paragraphs = split_paragraphs(read_document(write(tmp_path / "letter.md", text), root=tmp_path))
    (letter,) = [p for p in paragraphs if p.kind == "text"]
    assert letter.ref == "Letter dated 4 May 2025 from the Chair addressed to"  # its first ten words
    assert letter.text.splitlines() == [
        "I have the honour to transmit the annual report of the water authority.",
        "(Signed) Ana Ruiz",
    ]


def test_a_table_in_an_annex_keeps_a_line_a_row_and_a_question_quotes_its_row(tmp_path, embedder):
    from rag.assistant import Assistant
    from rag.index import build_index, load_index

    body = "".join(
        f"{i}. The customs service reported on its seizures of firearms at the border crossings in month {i} "
        "of the period, with the help of the national police and the port authority.\n\n"
        for i in range(1, 7)
    )
    table = "Year Month Pistols Rifles Total\n2021 January 30 2 32\n2021 February 27 1 28\n2021 March 8 3 11\n"
    write(tmp_path / "corpus" / "seizures.md", f"# Seizures report\n\n{body}## Annex\n\n### Firearms seized\n\n{table}")
    paragraphs = split_paragraphs(read_document(tmp_path / "corpus" / "seizures.md", root=tmp_path / "corpus"))
    (annex,) = [p for p in paragraphs if p.kind == "text"]
    assert annex.ref == "Annex, Firearms seized" and annex.text.splitlines() == table.splitlines()
    build_index(tmp_path / "corpus", tmp_path / "index", embedder=embedder, progress=False)
    assistant = Assistant(load_index(tmp_path / "index"), embedder)
    answer = assistant.ask("How many firearms were seized in February 2021?", threshold=0.0)
    assert answer.citations[0].quote == "2021 February 27 1 28"
    assert answer.citations[0].label == "Annex, Firearms seized"
