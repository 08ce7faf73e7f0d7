from __future__ import annotations

import pytest
from conftest import DOC, write

from rag.assistant import Assistant
from rag.cite.citations import label
from rag.errors import EmptyQuestion, InputError, QuestionTooLong


def test_agenda_item_6_is_cited_to_paragraph_56(assistant):
    answer = assistant.ask("What is agenda item 6 of the meeting?")
    assert not answer.abstained
    assert answer.citations[0].paragraph == 56
    assert answer.citations[0].quote.startswith("6. Examining options to strengthen existing responses")
    assert "[para. 56]" in answer.text
    # a sentence about another agenda item ("agenda item 3", para. 18) is not quoted beside it
    assert all("item 3" not in c.quote for c in answer.citations)


def test_citations_are_verbatim_with_offsets(assistant):
    answer = assistant.ask("Which government provided resources for holding the third meeting?")
    assert not answer.abstained
    top = answer.citations[0]
    assert top.paragraph == 50 and top.doc_id == DOC
    paragraph = assistant.paragraph(DOC, 50)
    for c in answer.citations:
        assert assistant.paragraph(c.doc_id, c.paragraph).text[c.start : c.end] == c.quote
    assert "Government of China" in top.quote
    assert (
        paragraph.section[-1] == "E. Examining options to strengthen existing responses and to propose new "
        "national and international legal or other responses to cybercrime"
    )
    assert [h.rank for h in answer.hits] == list(range(1, len(answer.hits) + 1))
    assert all(a.score >= b.score for a, b in zip(answer.hits, answer.hits[1:], strict=False))


def test_each_quote_carries_its_own_marker(assistant):
    answer = assistant.ask("Who have been the Rapporteurs of the Expert Group?")
    for c in answer.citations:
        assert f"{c.quote} [para. {c.paragraph}]" in answer.text


def test_an_unrelated_question_is_refused_with_a_reason(assistant):
    answer = assistant.ask("What is the boiling point of mercury in kelvin?")
    assert answer.abstained and not answer.citations
    assert answer.text == "The documents do not answer this question."
    assert "below the threshold" in answer.reason
    assert answer.hits  # the closest paragraphs are still shown


def test_bad_questions_get_clear_errors(assistant):
    with pytest.raises(EmptyQuestion, match="empty"):
        assistant.ask("   \n\t ")
    with pytest.raises(QuestionTooLong, match="100,000 characters; the limit is 2,000"):
        assistant.ask("x" * 100_000)


def test_a_question_in_another_script_gets_a_sensible_answer(assistant):
    answer = assistant.ask("Кто финансировал третье совещание группы экспертов?")
    assert answer.abstained or all(
        assistant.paragraph(c.doc_id, c.paragraph).text[c.start : c.end] == c.quote for c in answer.citations
    )


def test_document_filter(assistant):
    assert {h.paragraph.doc_id for h in assistant.ask("Who opened the meeting?", doc_id=DOC).hits} == {DOC}
    with pytest.raises(InputError, match="no document 'nope'"):
        assistant.ask("Who opened the meeting?", doc_id="nope")


def test_k_and_threshold_per_question(assistant):
    assert len(assistant.ask("Who opened the meeting?", k=2).hits) == 2
    assert assistant.ask("Who opened the meeting?", threshold=1.0).abstained


def test_a_resolution_is_cited_by_its_own_numbers_and_preamble(tmp_path, embedder):
    from test_paragraphs import RESOLUTION

    from rag.assistant import Assistant
    from rag.index import build_index

    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "res.md").write_text(RESOLUTION, encoding="utf-8")
    build_index(tmp_path / "corpus", tmp_path / "index", embedder=embedder, progress=False)
    assistant = Assistant.load(tmp_path / "index", embedder=embedder)
    day = assistant.ask("Which day is proclaimed the International Day of the World's Indigenous Women and Girls?")
    assert not day.abstained and day.citations[0].paragraph == 1 and "[para. 1]" in day.text
    charter = assistant.ask("What does the resolution reaffirm about the Charter of the United Nations?")
    assert not charter.abstained and charter.citations[0].paragraph == 0
    assert charter.citations[0].quote == "Reaffirming the purposes and principles of the Charter of the United Nations,"
    assert "[preamble]" in charter.text

    from ui.app import citation_label, evidence_html

    page = evidence_html(assistant, day)
    assert "Preamble (before)" in page and "Paragraph 2 (after)" in page
    assert citation_label(assistant, charter.citations[0]).endswith(", preamble")


def test_a_unit_named_by_its_number_is_found(tmp_path, embedder):
    """Questions that name a recommendation, an article or a paragraph by its number reach it,
    though its number is not among its words and its neighbours share them."""
    from rag.index import build_index, load_index

    corpus = tmp_path / "corpus"
    recommendations = "\n".join(
        f"12.{i} Continue its efforts to protect the rights of {topic} ({state});"
        for i, (topic, state) in enumerate(
            [("children", "Brazil"), ("women", "Chile"), ("migrants", "Egypt"), ("persons with disabilities", "France")]
            * 3,
            start=180,
        )
    )
    opening = "".join(f"{i}. The delegation answered question {i} on its report.\n\n" for i in range(1, 12))
    write(
        corpus / "upr.md",
        f"# Report\n\n{opening}"
        "12. The following recommendations enjoy the support of the State under review:\n\n"
        f"{recommendations}\n\n13. The conclusions reflect the position of the States.\n",
    )
    write(
        corpus / "treaty.md",
        "# Convention\n\n## Article 23\n\n1. Each Party shall adopt measures on data.\n\n"
        "## Article 24\n\n1. Each Party shall adopt measures on extradition.\n\n"
        "2. Extradition shall be subject to the conditions of the law of the requested Party.\n\n"
        "## Article 25\n\n1. Each Party shall adopt measures on mutual assistance.\n",
    )
    write(
        corpus / "notes.md",
        "# Annual report\n\n1. The board met twice.[^26] It reviewed the budget.[^27]\n\n"
        "2. It adopted the plan.[^28]\n\n[^26]: See document BD/2024/1.\n\n"
        "[^27]: The budget is set out in document BD/2024/7, annex II.\n\n[^28]: Adopted without a vote.\n",
    )
    build_index(corpus, tmp_path / "index", embedder=embedder, progress=False)
    assistant = Assistant(load_index(tmp_path / "index"), embedder)
    hits = assistant.retrieve("What does recommendation 12.187 ask for?", k=5)
    assert label(hits[0].paragraph) == "para. 12.187"
    answer = assistant.ask("What does recommendation 12.187 ask for?", threshold=0.0)
    assert answer.citations[0].label == "para. 12.187"
    assert label(assistant.retrieve("What does article 24(2) provide?", k=5)[0].paragraph) == "Art. 24(2)"
    assert {label(h.paragraph) for h in assistant.retrieve("What does article 24 say?", k=5)[:2]} == {
        "Art. 24(1)",
        "Art. 24(2)",
    }
    assert label(assistant.retrieve("What does footnote 27 of the annual report say?", k=5)[0].paragraph) == "fn. 27"
    footnote = assistant.ask("What does footnote 27 of the annual report say?", threshold=0.0)
    assert footnote.citations[0].label == "fn. 27" and "BD/2024/7" in footnote.citations[0].quote


def test_a_paragraph_of_a_reproduced_resolution_is_cited_with_its_part(tmp_path, embedder):
    """A report reproducing resolutions numbered from 1: the answer cites the resolution's own
    paragraph with the resolution's name, the quote stands where the citation says, and a
    question naming the paragraph by its number reaches it."""
    from conftest import REPRODUCED

    from rag.cite.grounding import GroundingChecker
    from rag.cite.serialize import answer_record
    from rag.index import build_index, load_index

    write(tmp_path / "corpus" / "report.md", REPRODUCED)
    build_index(tmp_path / "corpus", tmp_path / "index", embedder=embedder, progress=False)
    data = load_index(tmp_path / "index")
    assistant = Assistant(data, embedder, index_dir=tmp_path / "index")
    answer = assistant.ask("What does the Commission invite donors to fund?")
    assert not answer.abstained
    cited = answer.citations[0]
    assert cited.label == "res. 10/2, para. 2" and cited.paragraph == 20002
    assert "surveys of wastewater" in cited.quote and "[res. 10/2, para. 2]" in answer.text
    from ui.app import evidence_html

    assert "res. 10/2, para. 2" in evidence_html(assistant, answer)  # the page's card names the part too
    checker = GroundingChecker(
        data.paragraphs, tmp_path / "corpus", {d: i.file for d, i in data.manifest.documents.items()}
    )
    assert checker.check_record(answer_record(answer)) == []
    named = assistant.retrieve("What does paragraph 1 of resolution 10/2 say?", k=5)
    assert label(named[0].paragraph) == "res. 10/2, para. 1"
    assert label(
        assistant.retrieve("Where will the eleventh session be held under decision 10/101?", k=5)[0].paragraph
    ) == ("decision 10/101")
    assert assistant.paragraph("report", "res. 10/1, para. 2") is not None
