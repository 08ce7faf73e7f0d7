"""Documents in other formats: PDF (UN layout), Word, HTML, treaties in articles; and bad files."""

from __future__ import annotations

import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import public_data, write
from pdfmaker import un_report, write_pdf

from rag.assistant import Assistant
from rag.cite.citations import copy_text, label, marker, paragraph_pages
from rag.cite.grounding import GroundingChecker
from rag.cite.serialize import answer_record
from rag.errors import UnreadableDocument
from rag.index import build_index, load_index
from rag.readers import read_document
from rag.text.paragraphs import split_paragraphs
from rag.text.sentences import split_sentences


def by_label(paragraphs):
    return {label(p): p for p in paragraphs}


def assert_each_paragraph_grounded(paras, folder, doc):
    """Every paragraph, quoted whole, passes the grounding check against folder/doc.md."""
    checker = GroundingChecker(paras, folder, {doc: f"{doc}.md"})
    for p in paras:
        got = checker.check(
            "q", {"doc": doc, "cite": label(p), "para": p.number, "quote": p.text, "start": 0, "end": len(p.text)}
        )
        assert got is None, got


def test_a_un_report_pdf_keeps_its_numbers_pages_notes_and_recommendations(tmp_path):
    doc = read_document(un_report(tmp_path / "ruritania.pdf"))
    assert doc.symbol == "A/HRC/99/1" and doc.date == "3 March 2015"
    assert doc.title == "Report of the Working Group on the Universal Periodic Review"
    paras = by_label(split_paragraphs(doc))
    assert list(paras) == [
        "para. 1",
        "para. 2",
        "para. 3",
        "para. 4",
        "para. 4.1",
        "para. 4.2",
        "para. 5",
        "para. 6",
        "fn. 1",
        "Table 1",
    ]
    # across the page break, without the running header, footer, page number or footnote mark
    assert paras["para. 3"].text == (
        "The delegation noted that the Convention on Cybercrime had been signed "
        "and that its ratification by the parliament was expected before the end "
        "of the year, according to the minister of justice."
    )
    assert paragraph_pages(paras["para. 3"]) == (1, 2)
    assert paras["fn. 1"].kind == "note" and paras["fn. 1"].text == "Signed at Budapest on 23 November 2001."
    assert (
        paras["para. 4.1"].number == 4 and paras["para. 4.1"].text == "Ratify the Convention on Cybercrime (Estonia);"
    )
    # the table's rows stay with its caption, out of paragraph 5
    assert paras["para. 5"].text == "Ruritania reported the following figures on river pollution."
    assert "2013 120 14" in paras["Table 1"].text
    everything = " ".join(p.text for p in paras.values())
    assert "GE.15" not in everything and "A/HRC/99/1" not in everything and "Distr." not in everything
    assert paras["para. 1"].section == ("I. Summary of the proceedings",)


def test_a_pdf_answer_cites_the_printed_number_and_page_and_is_grounded(tmp_path, embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    un_report(corpus / "ruritania.pdf")
    write(corpus / "notes.md", "# Harbour notes\n\n1. The harbour opened in 1901.\n\n2. It closed in 1950.\n")
    build_index(corpus, tmp_path / "index", embedder=embedder, progress=False)
    assistant = Assistant(load_index(tmp_path / "index"), embedder)
    answer = assistant.ask("When is the parliament expected to ratify the cybercrime convention?", threshold=0.0)
    assert not answer.abstained
    c = answer.citations[0]
    assert (c.label, c.pages) == ("para. 3", (1, 2))  # the sentence runs across the page break
    where = "[A/HRC/99/1, para. 3, pp. 1\u20132]"
    assert marker(c, answer.documents) == where and where in answer.text
    assert copy_text(c, answer.documents) == (
        "Report of the Working Group on the Universal Periodic Review (A/HRC/99/1), para. 3, pp. 1\u20132"
    )
    record = answer_record(answer)
    assert record["citations"][0]["cite"] == "para. 3" and record["citations"][0]["pages"] == [1, 2]
    assert record["citations"][0]["ocr"] is False  # read from the text layer, not by OCR
    checker = GroundingChecker(assistant.data.paragraphs, corpus, {d: i.file for d, i in answer.documents.items()})
    assert checker.check("q", record["citations"][0]) is None  # found again in the PDF, read afresh
    forged = dict(record["citations"][0], quote=c.quote.replace("year", "decade"))
    assert checker.check("q", forged) is not None
    rec = assistant.ask("Which recommendation asks to ratify the Convention on Cybercrime?", threshold=0.0)
    assert rec.citations and rec.citations[0].label == "para. 4.1"


def test_documents_without_a_symbol_are_cited_by_a_short_title(tmp_path, embedder):
    corpus = tmp_path / "corpus"
    write(
        corpus / "wb.md",
        "---\ntitle: Minutes of the regional water board of the northern district, 2024\n"
        "short_title: Water board minutes\n---\n\n1. The water board approved a reservoir in Faro.\n2. It adjourned.\n",
    )
    write(corpus / "long.md", "# Report of the harbour committee on the dredging of the eastern basin\n\n1. Text.\n")
    write(corpus / "odd.md", "---\nshort_title: " + "Minutes " * 300 + "\n---\n\n1. Odd.\n2. Text.\n")
    write(corpus / "a.md", "# Annual notes: first part\n\n1. The archive opened in 1901.\n2. Others followed.\n")
    write(corpus / "b.md", "# Annual notes: second part\n\n1. The archive closed in 1950.\n2. It was sold.\n")
    build_index(corpus, tmp_path / "index", embedder=embedder, progress=False)
    docs = load_index(tmp_path / "index").manifest.documents
    assert docs["wb"].short_title == "Water board minutes"  # front matter
    assert docs["long"].short_title == "Report of the harbour committee on …"  # the first six words
    assert docs["a"].short_title == docs["b"].short_title == "Annual notes"
    assert docs["odd"].short_title == "Minutes Minutes Minutes Minutes Minutes Minutes …"  # a long one is cut
    assistant = Assistant(load_index(tmp_path / "index"), embedder)
    assert "[Water board minutes, para. 1]" in assistant.ask("Where did the water board approve a reservoir?").text
    assert "[a, para. 1]" in assistant.ask("When did the archive open?").text  # a shared short title: the id
    assert assistant.ask("Where was a reservoir approved?", doc_id="water board minutes").citations[0].doc_id == "wb"


def test_a_loaded_index_has_one_table_that_names_its_documents_both_ways(tmp_path, embedder):
    from rag.cite.documents import Documents

    corpus = tmp_path / "corpus"
    write(corpus / "x.md", "---\nsymbol: A/RES/1\n---\n\n1. The first resolution.\n2. Text.\n")
    write(corpus / "y.md", "# Harbour notes, part one\n\n1. Boats.\n2. Ships.\n")
    write(corpus / "z.md", "# Railway notes\n\n1. Trains.\n2. Stations.\n")
    build_index(corpus, tmp_path / "index", embedder=embedder, progress=False)
    docs = load_index(tmp_path / "index").manifest.documents
    assert isinstance(docs, Documents)
    assert docs.citation_names == {"x": "A/RES/1", "y": "Harbour notes", "z": "Railway notes"}
    assert docs.name("nowhere") == "nowhere"
    assert docs.find("a/res/1") == "x" and docs.find("y.md") == "y" and docs.find("Railway notes") == "z"
    joint = Documents({"j": replace(docs["x"], doc_id="j", symbol="E/2025/28-E/CN.7/2025/11")})
    assert joint.find("E/2025/28") == joint.find("e/cn.7/2025/11") == joint.find("E/2025/28-E/CN.7/2025/11") == "j"
    with pytest.raises(TypeError):
        docs["w"] = docs["z"]  # type: ignore[index]  # immutable: its names cannot go stale
    shared = Documents({**docs, "w": replace(docs["z"], doc_id="w")})  # two documents share "Railway notes"
    assert shared.name("z") == "z" and shared.name("w") == "w" and shared.find("Railway notes") is None


def test_a_treaty_is_cited_by_article_and_paragraph(tmp_path):
    write(
        tmp_path / "treaty.md",
        (
            "####Convention on Harbours\n\nPreamble The States Parties, wishing to keep harbours open, agree:\n\n"
            "### CHAPTER  I  \n\n####GENERAL PROVISIONS\n\n### Article  1  \n\n####Definitions\n\n"
            'For the purposes of this Convention: \n\na) "harbour" means a sheltered port; \n\n'
            "### Article  2  \n\n####Access\n\n1.   Each Party shall keep its harbours open.  \n"
            "2.   A Party may close a harbour in a storm.  \n\n### Article  3  \n\n####Entry into force\n\n"
            "1.  \n\na) This Convention enters into force on ratification. \n\n2.   It may be denounced.  \n"
        ),
    )
    paras = split_paragraphs(read_document(tmp_path / "treaty.md"))
    assert [label(p) for p in paras] == ["preamble", "Art. 1", "Art. 2(1)", "Art. 2(2)", "Art. 3(1)", "Art. 3(2)"]
    art = by_label(paras)
    assert art["Art. 2(2)"].text == "A Party may close a harbour in a storm."
    assert art["Art. 2(2)"].section == ("CHAPTER I \u2013 GENERAL PROVISIONS", "Article 2 \u2013 Access")
    assert art["Art. 1"].text == 'For the purposes of this Convention:\na) "harbour" means a sheltered port;'
    assert art["Art. 3(1)"].text == "a) This Convention enters into force on ratification."


def test_a_heading_inside_a_treaty_ends_the_paragraph_before_it(tmp_path):
    write(
        tmp_path / "pact.md",
        (
            "####Agreement on Ferries\n\nThe Parties have agreed as follows:\n\n"
            "### Article 1\n\n####Scope\n\nThis Agreement applies to ferries.\n\n"
            "####Note 1:\n\nA ferry includes a pontoon.\n\n"
            "### Article 2\n\n1. Each Party shall license its ferries.\n\n"
            "### Article 3\n\n1. This Agreement enters into force on signature.\n\n"
            "IN WITNESS WHEREOF the undersigned have signed this Agreement.\n\n"
            "### Protocol\n\nAt the signing, the Parties agreed that a pontoon is not a ship.\n"
        ),
    )
    doc = read_document(tmp_path / "pact.md")
    paras = split_paragraphs(doc)
    texts = {p.text: p for p in paras}
    # The note and the protocol are paragraphs of their own, under their headings ...
    note = texts["A ferry includes a pontoon."]
    assert label(note) == "Art. 1" and note.section[-1] == "Note 1:"
    protocol = texts["At the signing, the Parties agreed that a pontoon is not a ship."]
    assert protocol.section[-1] == "Protocol" and not label(protocol).startswith("Art.")
    assert "pontoon" not in by_label(paras)["Art. 3(1)"].text
    # ... so every paragraph is text the document prints in one piece, as the grounding check reads it.
    assert_each_paragraph_grounded(paras, tmp_path, "pact")


def test_a_treaty_register_note_is_no_text_and_backticks_open_a_quote(tmp_path):
    write(
        tmp_path / "zone.md",
        (
            "####Treaty on a Quiet Zone\n\nTreedt in werking op een nader te bepalen tijdstip \n\n"
            "PreambleThe Parties,Desiring to keep the zone quiet,Recalling their earlier talks,"
            "Have agreed as follows:\n\n"
            "### Article 1\nTreedt in werking op een nader te bepalen tijdstip \n\n"
            'For the purposes of this Treaty, ``zone" means the valley.\n\n'
            "### Article 2\nWordt voorlopig toegepast per 01-01-2014\n\n1. Each Party shall keep the zone quiet.\n\n"
            "### Article 3\n\n1. This Treaty enters into force on signature.\n"
        ),
    )
    paras = split_paragraphs(read_document(tmp_path / "zone.md"))
    # The Dutch register's status notes are neither paragraphs nor part of one.
    assert not any("Treedt" in p.text or "Wordt voorlopig" in p.text for p in paras)
    art = by_label(paras)
    assert art["Art. 1"].text == 'For the purposes of this Treaty, "zone" means the valley.'
    assert art["Art. 2(1)"].text == "Each Party shall keep the zone quiet."
    # Preamble clauses run together are sentences of their own.
    preamble = art["preamble"].text
    assert [preamble[s.start : s.end] for s in split_sentences(preamble)][1:] == [
        "Desiring to keep the zone quiet,",
        "Recalling their earlier talks,",
        "Have agreed as follows:",
    ]
    assert_each_paragraph_grounded(paras, tmp_path, "zone")


def test_a_symbol_cited_in_running_text_is_not_the_documents_own(tmp_path):
    speech = (
        "Mr. President,\n\nWe welcome the vision of Our Common Agenda (A/75/982) as a road map for the "
        "crises of our time, and we recall resolution A/RES/75/240 on its follow-up.\n\nA/HRC/99/2 is "
        "cited by nobody here, yet it ends this line of a long sentence about other things entirely.\n"
    )
    write(tmp_path / "speech.txt", speech)
    doc = read_document(tmp_path / "speech.txt")
    assert doc.symbol is None  # a speech cited by its own name, not by a report it mentions
    write(tmp_path / "report.md", "United Nations\n\nA/HRC/99/2\n\nGeneral Assembly Distr.: General\n\n" + speech)
    assert read_document(tmp_path / "report.md").symbol == "A/HRC/99/2"  # a masthead line
    write(tmp_path / "letter.txt", "Letter dated 1 April 2025, issued as document A/79/999\n\n1. Text.\n")
    assert read_document(tmp_path / "letter.txt").symbol is None  # after a lower-case word: a reference


def test_word_and_html_documents_read_as_paragraphs(tmp_path):
    import docx

    d = docx.Document()
    d.add_heading("Water Board Report", level=0)
    d.add_heading("I. Meetings", level=1)
    d.add_paragraph("1. The board met twice in Geneva.")
    d.add_paragraph("2. It adopted a budget of 3 million francs.")
    table = d.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Year", "Budget"
    table.cell(1, 0).text, table.cell(1, 1).text = "2024", "3 million"
    d.add_paragraph("3. The next meeting is in May.")
    d.save(tmp_path / "board.docx")
    doc = read_document(tmp_path / "board.docx")
    paras = by_label(split_paragraphs(doc))
    assert doc.title == "Water Board Report"
    assert paras["para. 2"].text == "It adopted a budget of 3 million francs."  # the table is not glued to it
    assert paras["para. 3"].text == "The next meeting is in May." and paras["para. 1"].section == ("I. Meetings",)
    assert paras["Table 1"].kind == "note" and paras["Table 1"].text == "Year | Budget; 2024 | 3 million"

    write(
        tmp_path / "page.html",
        (
            "<html><head><title>Harbour minutes</title><script>var secret = 'do not index';</script>"
            "<style>p {color: red}</style></head><body><nav>Home | About</nav><h1>Harbour minutes</h1>"
            "<p>1. The harbour committee met on <b>3 May</b>.</p><p>2. It approved the new pier.</p>"
            "<table><tr><th>Pier</th><th>Length</th></tr><tr><td>North</td><td>120 m</td></tr></table>"
            "<ul><li>3. Dredging starts in June.</li></ul><footer>Contact us</footer></body></html>"
        ),
    )
    doc = read_document(tmp_path / "page.html")
    paras = split_paragraphs(doc)
    assert doc.title == "Harbour minutes"
    assert [(label(p), p.text) for p in paras] == [
        ("para. 1", "The harbour committee met on 3 May."),
        ("para. 2", "It approved the new pier."),
        ("para. 3", "Dredging starts in June."),
        ("Table 1", "Pier | Length; North | 120 m"),
    ]
    assert "secret" not in " ".join(doc.lines) and "Contact" not in " ".join(doc.lines)


def test_bad_files_are_refused_with_their_name_and_the_reason(tmp_path):
    write_pdf(tmp_path / "locked.pdf", [[(100, 100, 10, "Secret")]], encrypt=True)
    write_pdf(tmp_path / "scanned.pdf", [[], []])
    (tmp_path / "cut.pdf").write_bytes(un_report(tmp_path / "whole.pdf").read_bytes()[:400])
    (tmp_path / "fake.pdf").write_text("not a pdf at all", encoding="utf-8")
    with zipfile.ZipFile(tmp_path / "renamed.docx", "w") as z:
        z.writestr("hello.txt", "a zip, not a Word file")
    (tmp_path / "text.docx").write_text("plain text", encoding="utf-8")
    expected = {
        "locked.pdf": "encrypted",
        "scanned.pdf": "no text layer",
        "cut.pdf": "truncated",
        "fake.pdf": "not a PDF",
        "renamed.docx": "not a Word document",
        "text.docx": "not a Word document",
    }
    for name, reason in expected.items():
        with pytest.raises(UnreadableDocument) as err:
            read_document(tmp_path / name)
        assert str(err.value).startswith(name) and reason in str(err.value) and "\n" not in str(err.value)


def test_bad_files_beside_good_ones_are_skipped_and_nothing_is_lost(tmp_path, embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    un_report(corpus / "ruritania.pdf")
    build_index(corpus, tmp_path / "index", embedder=embedder, progress=False)
    write_pdf(corpus / "scanned.pdf", [[]])
    (corpus / "fake.docx").write_text("no zip", encoding="utf-8")
    manifest = build_index(corpus, tmp_path / "index", embedder=embedder, progress=False)
    assert list(manifest.documents) == ["ruritania"] and set(manifest.skipped) == {"scanned.pdf", "fake.docx"}
    assert manifest.documents["ruritania"].pages == 2 and manifest.documents["ruritania"].format == "pdf"
    assert len(load_index(tmp_path / "index").paragraphs) == 10


@pytest.fixture(scope="module")
def public_documents(tmp_path_factory, embedder):
    data = public_data()
    base = tmp_path_factory.mktemp("public")
    corpus = base / "corpus"
    corpus.mkdir()
    for rel in (
        "pdf/A_HRC_28_9_UPR_San_Marino_2014.pdf",
        "pdf/S_2025_85_UNODC_sixth_quarterly_report_Haiti.pdf",
        "treaties/BWBV0001839_convention-on-cybercrime.md",
    ):
        (corpus / Path(rel).name).write_bytes((data / "un-related" / rel).read_bytes())
    build_index(corpus, base / "index", embedder=embedder, progress=False)
    return Assistant(load_index(base / "index"), embedder)


@pytest.mark.parametrize(
    "question, where",
    [
        (
            "Does San Marino plan to join the Council of Europe convention on cybercrime?",
            "[A/HRC/28/9, para. 10, p. 4]",
        ),
        (
            "How many violent deaths in Haiti did the UN human rights office count for 2024?",
            "[S/2025/85, para. 4, p. 3]",
        ),
        ("What must each Party criminalise as illegal access?", "Art. 2]"),
    ],
)
def test_real_documents_are_cited_by_their_printed_numbers(public_documents, question, where):
    answer = public_documents.ask(question)
    assert not answer.abstained and where in answer.text
