"""Enumerated provisions are quoted whole: a lead-in with its items, an item with its lead-in."""

import pytest

from rag.answer.compose import MAX_ITEMS
from rag.answer.listing import asks_for_all, list_block
from rag.assistant import Assistant
from tests.conftest import assistant_over

PACT = """# Convention on the protection of mountain springs

Article 1 – Purposes

The purposes of this Convention are:
a) To protect mountain springs from pollution;
b) To assist communities that depend on them; and
c) To promote cooperation among the Parties in order to meet those objectives.

Article 2 – Reports

Each Party shall report to the secretariat every four years on the measures it has taken.

Article 3 – Final decisions

A decision of the panel shall become final
a) when the parties declare that they will not appeal; or
b) three months after the date of the decision.

Article 4 – Measures

Each Party shall adopt measures concerning:
a) the sampling of water at each spring;
b) the fencing of springs used for drinking water;
c) the registration of wells drilled within one kilometre of a spring;
d) the licensing of bottling plants;
e) the disposal of mining waste in catchment areas;
f) the grazing of cattle near springs;
g) the publication of water quality data; and
h) the training of inspectors.
"""

LIST = "The purposes of this Convention are:\na) To protect springs;\nb) To assist communities."


@pytest.fixture(scope="module")
def pact(tmp_path_factory, embedder) -> Assistant:
    return assistant_over(tmp_path_factory.mktemp("pact"), "pact.md", PACT, embedder)


def test_a_list_block_is_its_lead_in_and_the_lines_under_it():
    block = list_block(LIST, LIST.index("b)"))
    assert block is not None
    assert LIST[slice(*block.lead)] == "The purposes of this Convention are:"
    assert [LIST[slice(*span)] for span in block.items] == ["a) To protect springs;", "b) To assist communities."]
    assert list_block(LIST, 0) == block  # from the lead-in too
    # A line that stops mid-sentence above marked items leads them without a colon.
    final = "A decision shall become final\na) when no party appeals; or\nb) after three months."
    assert list_block(final, final.index("b)")).lead == (0, len("A decision shall become final"))
    # An item that runs on to the next ("...; or") leads nothing; plain text is on no list.
    assert list_block("One sentence. Another sentence.", 5) is None
    assert list_block("First line.\nSecond line.", 14) is None


@pytest.mark.parametrize(
    ("question", "all_of_them"),
    [
        ("List the purposes of the Convention.", True),
        ("What are the purposes of the Convention?", True),
        ("Which measures must each Party adopt?", True),
        ("Under the Protocol, what measures must States take?", True),
        ("What is the purpose of the Convention?", False),
        ("Which Party reported first?", False),
        ("What access does the public have?", False),
        ("How often must a Party report?", False),
    ],
)
def test_questions_that_ask_for_every_item(question, all_of_them):
    assert asks_for_all(question) is all_of_them


def test_the_purposes_are_quoted_as_the_lead_in_and_every_item_in_order(pact):
    answer = pact.ask("What are the purposes of the Convention?")
    quotes = [c.quote for c in answer.citations]
    assert quotes[0] == "The purposes of this Convention are:"
    assert [q[:2] for q in quotes[1:4]] == ["a)", "b)", "c)"]
    assert {c.paragraph for c in answer.citations[:4]} == {answer.citations[0].paragraph}


def test_one_item_asked_for_is_quoted_first_and_whole(pact):
    answer = pact.ask("Is the grazing of cattle near springs regulated?")
    quotes = [c.quote for c in answer.citations]
    assert quotes[0] == "f) the grazing of cattle near springs;"
    assert not any(q.startswith(("a)", "b)", "g)")) for q in quotes)  # not the other measures


def test_a_lead_in_without_a_colon_is_completed(pact):
    answer = pact.ask("When does a decision of the panel become final?")
    assert "when the parties declare that they will not appeal" in answer.text
    assert "three months after the date of the decision" in answer.text


def test_a_long_list_gives_as_many_items_as_the_question_counts(pact):
    answer = pact.ask("Which two measures concerning cattle and mining waste must each Party adopt?")
    quotes = [c.quote for c in answer.citations if c.quote.startswith(tuple("abcdefgh"))]
    assert len(quotes) == 2
    assert any("mining waste" in q for q in quotes) and any("cattle" in q for q in quotes)
    assert quotes == sorted(quotes)  # in the document's order


def test_a_plain_paragraph_is_quoted_as_before(pact):
    answer = pact.ask("How often must a Party report?")
    assert [c.quote for c in answer.citations] == [
        "Each Party shall report to the secretariat every four years on the measures it has taken."
    ]


def test_a_closing_line_after_marked_items_is_no_item():
    text = "The Secretary-General shall notify:\n(a) any signature;\n(b) any denunciation.\nDONE at Geneva."
    block = list_block(text, text.index("(b)"))
    assert [text[slice(*span)] for span in block.items] == ["(a) any signature;", "(b) any denunciation."]
    assert list_block(text, text.index("DONE")) is None


def test_an_item_mark_without_its_space_still_marks_an_item():
    text = "Where a State acts, it shall:\n(a) Ensure safety;\n(b) Take due account of cargo;\n(d)Ensure it is sound."
    assert len(list_block(text, 0).items) == 3


AGENDA = "The agenda was:\n1. Opening:\n(a) Election;\n(b) Agenda.\n2. Debate.\n3. Exchange:\n(a) Laws;\n(b) Aid.\n4. Report."


def test_a_nested_list_belongs_to_its_item_and_a_sibling_is_no_lead_in():
    block = list_block(AGENDA, AGENDA.index("4. Report"))
    assert AGENDA[slice(*block.lead)] == "The agenda was:"
    assert [AGENDA[slice(*s)][:2] for s in block.items] == ["1.", "2.", "3.", "4."]
    assert [[AGENDA[slice(*s)] for s in lines] for lines in block.nested][2] == ["(a) Laws;", "(b) Aid."]
    inner = list_block(AGENDA, AGENDA.index("(b) Aid"))
    assert AGENDA[slice(*inner.lead)] == "3. Exchange:"


def test_the_bundled_agenda_is_quoted_whole_and_an_item_named_by_number_alone(assistant):
    whole = assistant.ask("What agenda did the Expert Group adopt at its opening meeting?")
    quotes = [c.quote for c in whole.citations]
    assert quotes[0].endswith("adopted the following provisional agenda:")
    assert [q[:2] for q in quotes if q[:1].isdigit()] == ["1.", "2.", "3.", "4.", "5.", "6.", "7.", "8."]
    assert "(d) International cooperation." in quotes
    item = assistant.ask("What is agenda item 6 of the meeting?")
    assert item.citations[0].quote.startswith("6. Examining options to strengthen existing responses")


def test_roman_items_are_one_list_and_a_ninth_letter_is_a_letter():
    text = "The term covers:\n(i) a device;\n(ii) a password; and\n(iii) a code."
    block = list_block(text, 0)
    assert len(block.items) == 3 and not any(block.nested)
    letters = "It shall:\n" + "\n".join(f"({c}) step {c};" for c in "abcdefghij")
    assert len(list_block(letters, 0).items) == 10


def test_an_item_wrapped_onto_the_next_line_goes_on_with_the_list():
    text = (
        "The following documents were issued:\n(a) A national report made in accordance with\n"
        "paragraph 15 (a) (A/HRC/WG.6/19/QAT/1);\n(b) A compilation (A/HRC/WG.6/19/QAT/2);\n"
        "(c) A summary (A/HRC/WG.6/19/QAT/3).\nA list of questions was transmitted."
    )
    block = list_block(text, 0)
    assert [text[slice(*s)][:3] for s in block.items] == ["(a)", "(b)", "(c)"]
    assert [text[slice(*s)] for s in block.nested[0]] == ["paragraph 15 (a) (A/HRC/WG.6/19/QAT/1);"]
    assert list_block(text, text.index("A list of")) is None


@pytest.mark.parametrize(
    "text",
    [
        "",
        ":",
        "\n\n\n",
        "Lead-in:\n",  # a lead-in with nothing under it
        "a)\nb)\nc)",  # marks and no words, no lead-in
        "It shall:\n(a)\n(b)\n:\n::\n(",
        "x" * 50_000 + ":\n" + "y" * 50_000,
    ],
)
def test_malformed_text_is_no_list_or_a_list_of_what_is_there(text):
    for position in {0, len(text) // 2, max(len(text) - 1, 0), len(text) + 10}:
        block = list_block(text, position)
        if block is not None:
            assert block.lead[0] <= block.lead[1] <= block.end <= len(text)
            assert all(text[slice(*span)].strip() for span in block.items)


def test_a_list_of_thousands_of_items_is_answered_with_at_most_the_capped_quotes(tmp_path, embedder):
    items = "\n".join(f"({i}) the recording of spring number {i};" for i in range(1, 3001))
    huge = assistant_over(
        tmp_path, "huge.md", f"# Springs\n\nEach Party shall adopt measures concerning:\n{items}\n", embedder
    )
    answer = huge.ask("What measures must each Party adopt?")
    assert not answer.abstained
    assert answer.citations[0].quote == "Each Party shall adopt measures concerning:"
    assert len(answer.citations) <= 1 + MAX_ITEMS
    numbers = [int(c.quote[1 : c.quote.index(")")]) for c in answer.citations[1:]]
    assert numbers == sorted(numbers)  # the chosen items in the document's order


def test_a_lead_in_quoted_as_a_further_sentence_brings_one_item_not_the_list(assistant):
    # The best sentence is elsewhere (para. 3); para. 7's lead-in only follows it, so its six
    # chapters would bury the answer: the lead-in comes with its best item alone.
    answer = assistant.ask("How many meetings did the Expert Group hold?")
    assert answer.citations[0].paragraph == 3
    quotes = [c.quote for c in answer.citations]
    assert sum(q.startswith("Chapter ") for q in quotes) <= 1
    lead = [k for k, q in enumerate(quotes) if q.startswith("The Commission may wish to decide")]
    assert not lead or quotes[lead[0] + 1].startswith("Chapter ")  # never a colon left hanging


@pytest.mark.parametrize(
    ("question", "chapter"),
    [
        ("Which subject is the eighth chapter of the draft study about?", "Chapter 8. Prevention"),
        ("What is chapter five of the study about?", "Chapter 5. Law enforcement and investigations"),
    ],
)
def test_a_chapter_named_in_words_is_the_numbered_item(assistant, question, chapter):
    assert assistant.ask(question).citations[0].quote == chapter
