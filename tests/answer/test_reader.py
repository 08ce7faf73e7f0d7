"""The reader: the shipped cross-encoder and fitted model choose the sentence and set the confidence."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from rag.answer.features import candidate_features
from rag.answer.reader import COLUMNS, DEFAULT_READER, READER_FILE, ReaderModel, ReaderScorer
from rag.assistant import Assistant
from rag.errors import SelectorProblem
from rag.index import load_index
from rag.text.terms import terms


@pytest.fixture(scope="module")
def reader() -> ReaderScorer:
    return ReaderScorer.load()


@pytest.fixture(scope="module")
def reader_assistant(bundled_index, embedder, reader):
    return Assistant(load_index(bundled_index), embedder, index_dir=bundled_index, scorer=reader)


def test_the_reader_answers_through_the_command_line_and_sets_its_own_threshold(bundled_index, reader):
    from rag.ways_in.cli import main

    loaded = Assistant.load(bundled_index, scorer=reader)
    assert loaded.threshold == reader.model.threshold
    assert loaded.scorer.label == f"reader:{reader.selector.label}"
    assert (
        main(["ask", "What is agenda item 6 of the meeting?", "--index", str(bundled_index), "--scorer", "reader"]) == 0
    )


def test_the_confidence_is_the_models_probability_for_the_quoted_sentence(reader_assistant, reader):
    """The best candidate's score is the fitted model's probability over its row (the hand
    ranking, the cross-encoder's readings and the features), and candidates are ordered by it."""
    question = "Which government provided the extrabudgetary resources for the meeting?"
    considered = reader_assistant.consider(question)
    scores = [c.score for c in considered.candidates]
    assert scores == sorted(scores, reverse=True)
    found = candidate_features(
        considered.question,
        terms(considered.question),
        considered.evidence,
        reader_assistant.data,
        reader_assistant.idf,
    )
    order, rows = reader.read(considered.question, found, reader_assistant.data)
    assert rows.shape == (min(reader.model.top, len(found.candidates)), len(COLUMNS))
    probability = reader.model.probability(rows)
    assert considered.candidates[0].score == pytest.approx(float(probability.max()))
    best = found.candidates[order[int(np.argmax(probability))]]
    assert (best.row, best.start) == (considered.candidates[0].row, considered.candidates[0].start)
    answer = reader_assistant.compose(considered)
    assert answer.confidence == pytest.approx(float(probability.max()))


def test_the_reader_finds_who_paid_for_the_meeting(reader_assistant):
    """The report says (para. 50) that China provided the meeting's extrabudgetary resources."""
    paid = reader_assistant.ask("Which government provided extrabudgetary resources for the meeting?")
    assert not paid.abstained and paid.citations[0].paragraph == 50
    assert "China" in paid.citations[0].quote


def test_a_damaged_or_mismatched_reader_file_is_one_clear_error(tmp_path):
    folder = tmp_path / "selector"
    shutil.copytree(DEFAULT_READER, folder)
    (folder / READER_FILE).write_text("{not json")
    with pytest.raises(SelectorProblem, match="reader"):
        ReaderScorer.load(folder)
    model = ReaderModel.load(DEFAULT_READER / READER_FILE)
    raw = json.loads(model.to_json())
    (folder / READER_FILE).write_text(json.dumps({**raw, "columns": raw["columns"][:-1], "coef": raw["coef"][:-1]}))
    assert ReaderScorer.load(folder).model.coef[-1] == 0.0  # a column it was not fitted on weighs nothing
    (folder / READER_FILE).write_text(json.dumps({**raw, "columns": ["no_such_column", *raw["columns"][1:]]}))
    with pytest.raises(SelectorProblem, match="does not compute: no_such_column.*refit it"):
        ReaderScorer.load(folder)
    (folder / READER_FILE).write_text(json.dumps({**raw, "about": {**raw["about"], "selector": "answer-selector@0.1"}}))
    with pytest.raises(SelectorProblem, match="fitted for answer-selector@0.1"):
        ReaderScorer.load(folder)


def test_answering_with_the_reader_imports_no_torch(bundled_index, reader):
    """A new process answers with the reader on ONNX Runtime (its export cached when the fixture
    loaded it), importing neither torch nor transformers."""
    code = (
        "import sys; from rag.assistant import Assistant; from rag.answer.reader import ReaderScorer; "
        f"a = Assistant.load({str(bundled_index)!r}, scorer=ReaderScorer.load()); r = a.ask('What is agenda item 6?'); "
        "print(r.scorer.split(':')[0], len(r.citations) + r.abstained > 0); "
        "print(sorted(m for m in ('torch', 'transformers', 'sentence_transformers') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["reader", "True", "[]"]
