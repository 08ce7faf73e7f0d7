from __future__ import annotations

import json

import pytest
from conftest import DOC, copy_site, write

from rag.cite.serialize import answer_record
from rag.evaluate.results import QuestionResult, choose_threshold
from rag.types import Answer, Citation
from rag.ways_in.cli import main


def result(gold, retrieved, cited, *, answer="", keys=(), abstained=False, conf=0.5):
    given = Answer(
        question="question?",
        text=answer,
        hits=(),
        abstained=abstained,
        confidence=conf,
        citations=tuple(Citation(DOC, p, (), "", 0, 0, conf) for p in cited),
    )
    return QuestionResult(
        "q", "question?", gold, DOC, list(keys), answer_record(given), 1.0, [(DOC, p) for p in retrieved], given
    )


def test_retrieval_metrics_by_hand():
    r = result([4, 9], retrieved=[1, 4, 2, 3, 5, 6, 7, 8, 9, 10], cited=[])
    assert r.recall_at(1) == 0.0
    assert r.recall_at(3) == 0.5
    assert r.recall_at(10) == 1.0
    assert r.reciprocal_rank() == 0.5
    other_doc = QuestionResult("q", "?", [4], "another-doc", [], {"citations": []}, 1.0, [(DOC, 4)])
    assert other_doc.recall_at(1) == 0.0  # the right number in the wrong document is not gold


def test_citation_metrics_and_correctness_by_hand():
    r = result([4, 9], retrieved=[4], cited=[4, 5], answer="The 87 States met [para. 4]", keys=["87 states"])
    assert r.citation_precision() == 0.5
    assert r.citation_recall() == 0.5
    assert r.key_hit() and r.correct()
    wrong_para = result([4], retrieved=[4], cited=[5], answer="87 States", keys=["87"])
    assert wrong_para.key_hit() and not wrong_para.correct()
    refused = result([4], retrieved=[4], cited=[], answer="", keys=["87"], abstained=True)
    assert not refused.key_hit() and refused.citation_precision() is None


def test_threshold_choice_respects_the_wrong_abstention_cap():
    answerable = [0.9, 0.8, 0.7, 0.6, 0.55, 0.5, 0.45, 0.4, 0.35, 0.3]
    unanswerable = [0.2, 0.25, 0.5, 0.6]
    t = choose_threshold(answerable, unanswerable, max_wrong=0.10)
    assert sum(a < t for a in answerable) / len(answerable) <= 0.10
    assert t == pytest.approx(0.255, abs=0.006)  # best (unanswerable refused - answerable refused)
    assert choose_threshold([], unanswerable) is None


@pytest.fixture()
def evaldir(tmp_path, bundled_index, monkeypatch):
    copy_site(tmp_path, bundled_index)
    monkeypatch.chdir(tmp_path)
    write(
        tmp_path / "q.jsonl",
        '{"id": "a", "question": "What is agenda item 6 of the meeting?", "gold_paras": [56], '
        '"answer_keys": ["Examining options"]}\n'
        '{"id": "b", "question": "How many Member States attended?", "gold_paras": [57], "answer_keys": ["87"]}\n'
        '{"id": "c", "question": "What is the boiling point of mercury in kelvin?", "gold_paras": []}\n'
        '{"id": "d", "question": "Who opened the meeting?"}\n'
        '{"id": "e", "question": "  "}\n',
    )
    return tmp_path


def test_rag_eval_writes_reports_and_gates(evaldir, capsys):
    assert main(["eval", "q.jsonl", "--out", "rep"]) == 0
    out = capsys.readouterr().out
    assert "recall@5" in out and "grounding: " in out and "100.00%" in out
    report = json.loads((evaldir / "rep" / "report.json").read_text())
    f = report["figures"]
    assert f["questions"] == 5 and f["answerable"] == 2 and f["unanswerable"] == 1 and f["failed"] == 1
    assert f["retrieval"]["recall@10"] == 1.0
    assert f["grounding"]["rate"] == 1.0
    assert {r["id"] for r in report["rows"]} == {"a", "b", "c", "d", "e"}
    page = (evaldir / "rep" / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 4 and "Failures" in page and "Reliability" in page
    bins = f["calibration"]["bins"]
    assert len(bins) == 10 and sum(b["questions"] for b in bins) == f["calibration"]["questions"] == 3
    assert len((evaldir / "rep" / "answers.jsonl").read_text().splitlines()) == 5
    assert "No floors were asked for" in page
    assert main(["eval", "q.jsonl", "--out", "rep2", "--min-recall5", "1.01"]) == 1
    assert "recall@5 1.0 is below the floor 1.01" in capsys.readouterr().err
    assert "Floors failed" in (evaldir / "rep2" / "report.html").read_text()
    assert main(["eval", "q.jsonl", "--out", "rep4", "--min-recall5", "0.5"]) == 0
    assert "Floors passed" in (evaldir / "rep4" / "report.html").read_text()
    assert (
        main(["eval", "q.jsonl", "--out", "rep3", "--min-abstention", "1.01", "--max-wrong-abstention", "-0.01"]) == 1
    )
    err = capsys.readouterr().err
    assert "abstention on unanswerable questions" in err and "abstention on answerable questions" in err


def test_gold_fields_from_jsonl_and_csv():
    from rag.evaluate.evaluation import gold_fields

    assert gold_fields({"gold_paras": [4, 9], "answer_keys": ["87"]}) == ([4, 9], ["87"])
    assert gold_fields({"gold_paras": "[4, 9]", "answer_keys": "87"}) == ([4, 9], ["87"])
    assert gold_fields({"gold_paras": "4;9"}) == ([4, 9], [])
    assert gold_fields({"gold_paras": "[]"}) == ([], [])
    assert gold_fields({"gold_paras": ""}) == (None, [])
    assert gold_fields({}) == (None, [])


def test_malformed_gold_is_a_failed_row_not_a_crash(evaldir, capsys):
    write(
        evaldir / "bad.jsonl",
        '{"id": "x", "question": "Who opened the meeting?", "gold_paras": "abc"}\n'
        '{"id": "y", "question": "Who opened the meeting?", "answer_keys": {"a": 1}}\n'
        '{"id": "z", "question": "How many Member States attended?", "gold_paras": [57], "answer_keys": ["87"]}\n',
    )
    assert main(["eval", "bad.jsonl", "--out", "rep"]) == 0
    captured = capsys.readouterr()
    assert "1 answerable" in captured.out and "2 failed" in captured.out
    assert "question x: gold_paras must be a list of paragraph numbers" in captured.err
    assert "question y: answer_keys must be a list of phrases" in captured.err


def test_a_gold_document_may_be_named_by_file_or_symbol(evaldir, assistant):
    from rag.cite.documents import Documents
    from rag.evaluate.evaluation import evaluate
    from rag.types import DocumentInfo

    write(
        evaldir / "named.jsonl",
        '{"id": "f", "question": "How many Member States attended?", "gold_paras": [57], '
        '"gold_doc": "cybercrime-expert-group-2017.md", "answer_keys": ["87"]}\n'
        '{"id": "o", "question": "How many Member States attended?", "gold_paras": [57], '
        '"gold_doc": "another-report", "answer_keys": ["87"]}\n',
    )
    rows = {r.id: r for r in evaluate(assistant, evaldir / "named.jsonl").rows}
    assert rows["f"].gold_doc == "cybercrime-expert-group-2017" and rows["f"].correct()
    assert not rows["o"].correct()  # the right paragraph number in another document is not gold
    docs = {
        "res/A_RES_80_9": DocumentInfo("res/A_RES_80_9", "res/A_RES_80_9.md", "", 31, symbol="A/RES/80/9"),
        "a/notes": DocumentInfo("a/notes", "a/notes.md", "", 3),
        "b/notes": DocumentInfo("b/notes", "b/notes.md", "", 3),
    }
    table = Documents(docs)
    assert table.find("A/RES/80/9") == table.find("a_res_80_9.md") == table.find("A_RES_80_9") == "res/A_RES_80_9"
    assert table.find("notes") is None and table.find("a/notes") == "a/notes"  # a shared stem names neither
    assert assistant.ask("How many Member States attended?", doc_id="cybercrime-expert-group-2017.md").citations


def test_an_abstention_floor_without_unanswerable_questions_says_so(evaldir, capsys):
    write(
        evaldir / "answerable.jsonl",
        '{"id": "b", "question": "How many Member States attended?", "gold_paras": [57], "answer_keys": ["87"]}\n',
    )
    assert main(["eval", "answerable.jsonl", "--out", "rep", "--min-abstention", "0.5"]) == 1
    assert "--min-abstention needs questions the documents do not answer" in capsys.readouterr().err


def test_one_pass_curve_agrees_with_answers_at_each_threshold(assistant, tmp_path):
    """`rag eval` asks each question once and composes the curve from the same candidates: at any
    threshold its verdict is the verdict on the answer `ask` gives at that threshold."""
    from rag.evaluate.evaluation import evaluate

    rows = [
        {"id": f"q{i}", "question": q, "gold_paras": gold, "answer_keys": keys}
        for i, (q, gold, keys) in enumerate(
            [
                ("What is agenda item 6 of the meeting?", [56], ["Examining options"]),
                ("Which country's government paid for the third meeting?", [50], ["China"]),
                ("How many Member States attended?", [57], ["87"]),
                ("Who won the football world cup in 2014?", [], []),
            ]
        )
    ]
    path = write(tmp_path / "q.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    report = evaluate(assistant, path)
    for r in report.rows:
        for t in (0.0, 0.3, round(assistant.settings.threshold, 2), 0.9):
            asked = assistant.ask(r.question, threshold=t)
            assert r.correct_at(t) == (r.answerable and r.correct(asked)), (r.id, t)
    point = next(c for c in report.curve if c.threshold == round(assistant.settings.threshold, 2))
    assert round(point.correct_cited, 4) == report.figures.answers.correct_cited


def test_documents_are_sorted_into_kinds_by_their_structure(tmp_path, embedder):
    from conftest import write

    from rag.assistant import Assistant
    from rag.evaluate.evaluation import document_kinds
    from rag.index import build_index, load_index

    corpus = tmp_path / "corpus"
    write(
        corpus / "verdrag.md",
        "# Verdrag\n\n## Article 1\n\n1. De partijen werken samen.\n\n2. Zij overleggen.\n\n## Article 2\n\nDit verdrag treedt in werking.\n\n## Article 3\n\nHet kan worden opgezegd.\n",
    )
    write(
        corpus / "res.md",
        "# Resolution 80/1\n\nThe General Assembly,\n\nRecalling its earlier work,\n\n1. Decides to act;\n\n2. Requests a report;\n",
    )
    write(corpus / "speech.txt", "I greet the President of the Assembly.\n\nWe must act on the climate together.\n")
    write(
        corpus / "report.md",
        "# Report of the meeting\n\n1. The meeting opened in Vienna.\n\n2. It closed on Friday.\n\n3. Ten States attended.\n",
    )
    build_index(corpus, tmp_path / "index", embedder=embedder, progress=False)
    assistant = Assistant(load_index(tmp_path / "index"), embedder)
    kinds = document_kinds(assistant, set(assistant.documents))
    assert kinds == {"verdrag": "treaty", "res": "resolution", "speech": "unnumbered", "report": "report"}
