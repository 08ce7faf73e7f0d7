from __future__ import annotations

from dataclasses import replace

from conftest import DOC

from rag.grounding import GroundingChecker
from rag.serialize import answer_record


def checker(assistant):
    return GroundingChecker(assistant.data.paragraphs, assistant.corpus_dir(),
                            {d: i.file for d, i in assistant.documents.items()})


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
