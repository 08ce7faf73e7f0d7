from __future__ import annotations

from dataclasses import replace

from conftest import DOC

from rag.cite.grounding import GroundingChecker
from rag.cite.serialize import answer_record


def checker(assistant):
    return GroundingChecker(
        assistant.data.paragraphs, assistant.corpus_dir(), {d: i.file for d, i in assistant.documents.items()}
    )


def test_real_answers_are_grounded(assistant):
    record = answer_record(assistant.ask("How many Member States attended?"), qid="q1")
    assert record["citations"]
    assert checker(assistant).check_record(record) == []


def test_forged_quote_and_wrong_paragraph_are_caught(assistant):
    record = answer_record(assistant.ask("How many Member States attended?"), qid="q1")
    good = record["citations"][0]
    forged = dict(good, quote=good["quote"].replace("87", "97"))
    wrong_para = dict(good, para=good["para"] - 1)
    shifted = dict(good, start=good["start"] + 1, end=good["end"] + 1)
    missing = dict(good, para=999)
    c = checker(assistant)
    assert "not in paragraph" in c.check("q1", forged).problem
    assert "not in paragraph" in c.check("q1", wrong_para).problem
    assert "not at offsets" in c.check("q1", shifted).problem
    assert "has no paragraph 999" in c.check("q1", missing).problem


def test_the_source_file_is_checked_independently_of_the_index(assistant):
    paragraphs = list(assistant.data.paragraphs)
    i = next(i for i, p in enumerate(paragraphs) if p.number == 57)
    paragraphs[i] = replace(paragraphs[i], text="The meeting was attended by 12 people.")
    c = GroundingChecker(paragraphs, assistant.corpus_dir(), {DOC: "cybercrime-expert-group-2017.md"})
    cit = {"doc": DOC, "para": 57, "quote": "The meeting was attended by 12 people.", "start": 0, "end": 38}
    assert "not in the source file" in c.check("q", cit).problem


def test_a_quote_across_a_page_rule_is_grounded_and_footnotes_are_notes_of_their_own(tmp_path):
    from rag.readers import read_document
    from rag.text.paragraphs import split_paragraphs

    (tmp_path / "decl.md").write_text(
        "1. The first meeting was held in Vienna[^1]\n\n---\n\nfrom 17 to 21 January 2011.\n\n"
        "2. The second meeting followed.\n\n[^1]: Resolution 64/293.\n    Continued note.\n",
        encoding="utf-8",
    )
    paras = split_paragraphs(read_document(tmp_path / "decl.md", root=tmp_path))
    assert [p.text for p in paras] == [
        "The first meeting was held in Vienna from 17 to 21 January 2011.",
        "The second meeting followed.",
        "Resolution 64/293. Continued note.",
    ]
    assert [(p.kind, p.ref) for p in paras] == [("para", ""), ("para", ""), ("note", "fn. 1")]
    note = paras[2]
    assert (
        GroundingChecker(paras, tmp_path, {note.doc_id: "decl.md"}).check(
            "q",
            {"doc": note.doc_id, "para": None, "cite": "fn. 1", "quote": note.text, "start": 0, "end": len(note.text)},
        )
        is None
    )
    c = GroundingChecker(paras, tmp_path, {paras[0].doc_id: "decl.md"})
    quote = paras[0].text
    assert c.check("q", {"doc": paras[0].doc_id, "para": 1, "quote": quote, "start": 0, "end": len(quote)}) is None
    forged = quote.replace("17", "18")
    problem = c.check("q", {"doc": paras[0].doc_id, "para": 1, "quote": forged, "start": 0, "end": len(forged)})
    assert problem is not None
