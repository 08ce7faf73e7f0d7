"""Features: rows built by name, columns read by name, and the year or number a document never prints."""

from __future__ import annotations

import pytest
from conftest import write

from rag.answer.features import (
    FEATURES,
    GAPS,
    candidate_features,
    feature_matrix,
    leans_on_previous,
    references,
    weights_by_name,
)
from rag.assistant import Assistant
from rag.errors import ModelProblem
from rag.index import build_index, load_index
from rag.text.terms import terms


def test_rows_are_built_by_name_and_a_row_missing_a_feature_is_an_error():
    row = {name: 0.5 for name in FEATURES if name not in GAPS}
    better = dict(row, sentence_cosine=0.9, sentence_coverage=0.8)
    matrix = feature_matrix([row, better])
    assert matrix.shape == (2, len(FEATURES))
    assert matrix[:, FEATURES.index("cosine_gap")].tolist() == pytest.approx([-0.4, 0.0])
    assert matrix[1, FEATURES.index("sentence_coverage")] == pytest.approx(0.8)
    del row["novelty"]
    with pytest.raises(KeyError, match="novelty"):
        feature_matrix([row])


def test_a_fitted_model_reads_its_columns_by_name_and_a_new_column_weighs_nothing():
    columns = ("a", "b", "c")
    assert weights_by_name(["c", "a"], [3.0, 1.0], columns).tolist() == [1.0, 0.0, 3.0]
    with pytest.raises(ModelProblem, match="does not compute: z"):
        weights_by_name(["a", "z"], [1.0, 2.0], columns)
    with pytest.raises(ModelProblem, match="2 column names for 1 coefficients"):
        weights_by_name(["a", "b"], [1.0], columns)


def test_a_year_or_session_the_document_never_prints_is_flagged(tmp_path, embedder, assistant):
    corpus = tmp_path / "corpus"
    write(
        corpus / "board.md", "# Water board, 2017\n\n1. The board met in Delft in 2017.\n2. It approved a reservoir.\n"
    )
    write(
        corpus / "rail.md",
        "# Rail notes\n\n1. In 2019 the fourth session chose new signals.\n2. Crossings were closed under "
        "decision 4417, and resolution 12/345 stands.\n",
    )
    build_index(corpus, tmp_path / "index", embedder=embedder, progress=False)
    helper = Assistant(load_index(tmp_path / "index"), embedder)

    def flags(question: str) -> dict[str, float]:
        evidence = helper.consider(question, k=4).evidence
        found = candidate_features(question, terms(question), evidence, helper.data, helper.idf)
        column = found.matrix[:, FEATURES.index("year_not_in_document")]
        return {c.paragraph.doc_id: float(v) for c, v in zip(found.candidates, column, strict=True)}

    assert flags("What did the water board approve in 2017?") == {"board": 0.0, "rail": 1.0}
    assert flags("What did the water board approve in 2019?") == {"board": 1.0, "rail": 0.0}
    assert flags("What did the fourth session choose?")["board"] == 1.0  # no fourth session in it
    assert set(flags("What did the water board approve?").values()) == {0.0}
    # A number naming one thing, like a year: "decision 4417" is in the rail notes only; the
    # parts of a symbol ("345" of "12/345") and amounts ("1,000") are not such numbers.
    assert flags("Which crossings were closed under decision 4417?") == {"board": 1.0, "rail": 0.0}
    assert set(flags("What does resolution 12/345 say about crossings?").values()) == {0.0}
    assert set(flags("Were 1,000 crossings closed?").values()) == {0.0}
    # The bundled report (2017) does not say who will chair the group in 2018: a refusal.
    assert assistant.ask("Who will chair the expert group in 2018?").abstained


def test_a_document_named_by_its_title_counts_as_named_in_each_of_its_paragraphs(tmp_path, embedder):
    corpus = tmp_path / "corpus"
    write(
        corpus / "liability.md",
        "# Convention on Liability for Damage to Rivers\n\n"
        "Article 1\n\nA riparian State shall pay compensation for damage caused by its dams.\n\n"
        "Article 2\n\nThis instrument does not apply to nationals of the riparian State.\n",
    )
    write(corpus / "rail.md", "# Rail notes\n\n1. Crossings were closed for repairs.\n")
    build_index(corpus, tmp_path / "index", embedder=embedder, progress=False)
    helper = Assistant(load_index(tmp_path / "index"), embedder)
    question = "Who does the Liability Convention leave out?"
    evidence = helper.consider(question, k=10).evidence  # every paragraph of both
    found = candidate_features(question, terms(question), evidence, helper.data, helper.idf)
    coverage = {
        (c.paragraph.doc_id, c.paragraph.text[:8]): float(v)
        for c, v in zip(found.candidates, found.column("entity_coverage"), strict=True)
    }
    # "Liability Convention" is printed in the title only, yet every article of it names it.
    assert {v for (doc, _), v in coverage.items() if doc == "liability"} == {1.0}
    assert {v for (doc, _), v in coverage.items() if doc == "rail"} == {0.0}


def test_an_untitled_document_counts_as_naming_what_it_keeps_mentioning(tmp_path, embedder):
    speech = (
        "Ruritania stands with the Assembly.\n\nRuritania has built schools.\n\n"
        "Our farmers planted 40,000 trees last year.\n\nRuritania will host the summit.\n"
    )
    write(tmp_path / "corpus" / "speech.txt", speech)  # a speech: no title
    write(tmp_path / "corpus" / "notes.md", "# Forestry notes\n\n" + speech)
    build_index(tmp_path / "corpus", tmp_path / "index", embedder=embedder, progress=False)
    helper = Assistant(load_index(tmp_path / "index"), embedder)
    question = "How many trees did the farmers of Ruritania plant?"
    evidence = helper.consider(question, k=10).evidence
    found = candidate_features(question, terms(question), evidence, helper.data, helper.idf)
    trees = {
        c.paragraph.doc_id: float(v)
        for c, v in zip(found.candidates, found.column("entity_coverage"), strict=True)
        if "trees" in c.paragraph.text
    }
    # Three of the speech's four paragraphs name Ruritania: the fourth is Ruritania's too. A
    # titled document is known by its title, and the paragraph lacking the name still lacks it.
    assert trees == {"speech": 1.0, "notes": 0.0}


@pytest.mark.parametrize(
    ("sentence", "leans"),
    [
        ("That process included three meetings.", True),
        ("One speaker stated that such an instrument should address criminal law.", True),
        ("Each Party shall adopt such legislative and other measures as may be necessary.", False),
        ("The State shall take such measures as are needed.", False),
        ("The Group met twice in Vienna.", False),
    ],
)
def test_a_sentence_that_points_back(sentence, leans):
    assert leans_on_previous(sentence) is leans


def test_a_such_sentence_is_quoted_with_the_one_it_points_back_to(assistant):
    considered = assistant.consider("What should a new instrument address, according to one speaker?")
    quotes = [c.paragraph.text[c.start : c.end] for c in considered.candidates]
    assert any(
        q.startswith("Some speakers noted that an effective global response") and "such an instrument" in q
        for q in quotes
    )


@pytest.mark.parametrize(
    ("question", "refs"),
    [
        ("What does the sixth chapter of the study cover?", [("chapter", 6)]),
        ("What was the third agenda item?", [("item", 3)]),
        ("What does article twenty-one say, and item 4?", [("article", 21), ("item", 4)]),
        ("What does the first paragraph of article 5 say?", [("article", 5)]),  # a part's paragraph
        ("What did the first speaker say?", []),
    ],
)
def test_units_numbered_in_words(question, refs):
    assert references(question) == refs
