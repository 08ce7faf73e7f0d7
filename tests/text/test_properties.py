"""Property-based tests: any input gives an answer or one of the project's own errors, and the
invariants of quotes and paragraphs hold (hypothesis generates the inputs)."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rag.cite.grounding import normalise
from rag.errors import RagError
from rag.text.lines import quotable
from rag.text.paragraphs import split_paragraphs
from rag.text.sentences import split_sentences
from rag.types import Document

# Text as people and files have it: any script, punctuation, control characters, lone surrogates.
ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=300)
WORDS = st.sampled_from(
    [
        "The",
        "committee",
        "met",
        "in",
        "Vienna",
        "on",
        "3",
        "May",
        "2017.",
        "Article",
        "1.",
        "2.",
        "12.",
        "(a)",
        "#",
        "##",
        "-",
        "*",
        "**bold**",
        "[link](x)",
        "<b>",
        "__init__",
        "[^1]",
        "[^1]:",
        "145.2",
        "\u00e9t\u00e9",
        "\u0434\u043e\u043a\u043b\u0430\u0434",
        "\u62a5\u544a",
        ":",
        ";",
        "\n",
        "\n\n",
        "  ",
    ]
)
MARKDOWN = st.lists(WORDS, max_size=120).map(lambda ws: " ".join(ws).replace(" \n ", "\n"))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(question=ANY_TEXT)
def test_any_question_gives_an_answer_or_a_clear_error(assistant, question):
    try:
        answer = assistant.ask(question)
    except RagError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    for c in answer.citations:
        paragraph = assistant.paragraph(c.doc_id, c.label)
        assert paragraph is not None and paragraph.text[c.start : c.end] == c.quote


@settings(max_examples=300, deadline=None)
@given(text=MARKDOWN)
def test_every_paragraph_comes_from_its_document(text):
    lines = tuple(text.split("\n"))
    doc = Document(doc_id="d", path="d.md", lines=lines)
    for p in split_paragraphs(doc):
        assert p.text.strip()
        first, last = p.lines
        source = normalise(" ".join(quotable(line) for line in lines[first - 1 : last]))
        assert normalise(p.text) in source, (p.text, source)


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(ANY_TEXT, MARKDOWN))
def test_sentences_are_spans_of_their_paragraph(text):
    end = 0
    for s in split_sentences(text):
        assert end <= s.start < s.end <= len(text)
        assert text[s.start : s.end].strip() and not re.match(r"\s", text[s.start])
        end = s.end
