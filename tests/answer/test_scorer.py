"""Scorers: the hand weights and a fitted linear model read the same feature rows."""

import json

import numpy as np
import pytest

from rag.answer.features import FEATURES
from rag.answer.scorer import BadScorer, HandScorer, LinearScorer


def test_a_fitted_scorer_file_round_trips_reads_its_features_by_name_and_refuses_unknown_ones(tmp_path):
    scorer = LinearScorer(np.linspace(-1, 1, len(FEATURES)), 0.5, {"fitted_by": "test"})
    path = tmp_path / "scorer.json"
    path.write_text(scorer.to_json(), encoding="utf-8")
    again = LinearScorer.load(path)
    rows = np.random.default_rng(0).random((4, len(FEATURES)))
    assert np.allclose(again.score(rows), scorer.score(rows), atol=1e-5)
    assert ((0 < again.score(rows)) & (again.score(rows) < 1)).all()
    older = json.loads(path.read_text())  # fitted before the last feature existed, stored shuffled
    pairs = list(zip(older["features"][:-1], older["coef"][:-1]))[::-1]
    older["features"], older["coef"] = [n for n, _ in pairs], [c for _, c in pairs]
    path.write_text(json.dumps(older), encoding="utf-8")
    without_last = LinearScorer(np.append(scorer.coef[:-1], 0.0), 0.5)
    assert np.allclose(LinearScorer.load(path).score(rows), without_last.score(rows), atol=1e-5)
    older["features"][0] = "a_feature_never_computed"
    path.write_text(json.dumps(older), encoding="utf-8")
    with pytest.raises(BadScorer, match="does not compute: a_feature_never_computed"):
        LinearScorer.load(path)
    path.write_text("not json", encoding="utf-8")
    with pytest.raises(BadScorer, match="not a scorer file"):
        LinearScorer.load(path)


def test_a_sentence_without_the_kind_of_fact_asked_for_scores_lower():
    row = np.zeros((2, len(FEATURES)))
    for i in range(2):
        row[i, FEATURES.index("sentence_cosine")] = 0.7
        row[i, FEATURES.index("sentence_coverage")] = 0.8
        row[i, FEATURES.index("entity_coverage")] = 1.0
    row[0, FEATURES.index("type_found")] = 1.0
    row[1, FEATURES.index("missing_country")] = 1.0
    with_fact, without = HandScorer().score(row)
    assert with_fact > without
    assert without < 0.6 * with_fact + 1e-9


def test_tempting_questions_the_report_does_not_answer_score_below_an_answered_one(assistant):
    """The kind-of-fact and name checks hold tempting questions below a real answer; at the
    cautious threshold of the development set's wording (0.57) they are refused. The default
    (0.42, read off paraphrased questions) answers them with the closest sentence."""
    answer = assistant.ask("Which government provided extrabudgetary resources for the third meeting?")
    assert not answer.abstained and answer.citations[0].paragraph == 50
    assert "Government of China" in answer.citations[0].quote
    for q in (
        "Which donor State said it would fund the programme in 2017?",
        "Who chaired the Expert Group at its third meeting?",
        "How many States are parties to the Budapest Convention?",
    ):
        tempting = assistant.ask(q, threshold=0.57)
        assert tempting.abstained and tempting.confidence < answer.confidence - 0.1, (q, tempting.confidence)
