"""Composing an answer: a question that says how many things it wants is answered by as many
sentences as it takes to name them, and each part of a compound question by a sentence of its own."""

from dataclasses import replace

import pytest

from rag.answer.qtypes import MAX_PARTS, asked_count, items_in, question_parts
from rag.assistant import Assistant
from rag.settings import Settings
from tests.conftest import assistant_over

REPORT = """# Report of the Working Group on river basins

1. The Working Group held its third session in Nairobi in March.

2. The Working Group appointed Ms. Amina Diallo of Senegal as its first rapporteur on river pollution.

3. Delegations discussed the funding of monitoring stations along shared rivers.

4. Mr. Tomas Lindqvist of Sweden was also named, to report on the pollution of rivers.

5. The session was attended by Chile, Kenya and Viet Nam as observers.
"""


@pytest.fixture(scope="module")
def river(tmp_path_factory, embedder) -> Assistant:
    return assistant_over(tmp_path_factory.mktemp("river"), "river.md", REPORT, embedder)


@pytest.mark.parametrize(
    ("question", "count"),
    [
        ("Which three States attended as observers?", 3),
        ("Who were the two rapporteurs on river pollution?", 2),
        ("Name the four priorities of the plan.", 4),
        ("In which six languages is the convention authentic?", 6),
        ("What did both rapporteurs report?", 2),
        ("Under the Covenant, what three guarantees does an arrested person have?", 3),
        ("Once the flag State agrees, what two things may a State do?", 2),
        ("Which of the three options was chosen?", None),  # one of them
        ("Which  of the   three options was chosen?", None),  # whatever the spacing
        ("Why did the two countries object?", None),  # the count is not what is asked
        ("In which language do the two sides write?", None),
        ("What did the country give up three decades ago?", None),
        ("When was the two-thirds majority reached?", None),
    ],
)
def test_the_count_a_question_asks_for(question, count):
    assert asked_count(question) == count


def test_items_a_sentence_lists():
    assert items_in("The session was attended by Chile, Kenya and Viet Nam as observers.") == 3
    assert items_in("The Working Group held its third session in Nairobi in March.") == 1


def test_two_rapporteurs_named_in_two_paragraphs_are_both_quoted(river):
    answer = river.ask("Who were the two rapporteurs on river pollution?")
    assert not answer.abstained
    assert {c.paragraph for c in answer.citations} >= {2, 4}
    assert "Amina Diallo" in answer.text and "Tomas Lindqvist" in answer.text
    # The second scores further below the first than an ordinary answer's margin admits.
    scores = sorted((c.score for c in answer.citations), reverse=True)
    assert scores[0] - scores[1] > Settings().margin
    # Asked for one of them, the answer does not reach for the other paragraph by the list rule.
    one = river.ask("Who was the first rapporteur on river pollution?")
    assert one.citations[0].paragraph == 2


def test_a_sentence_that_lists_all_the_things_asked_for_is_quoted_alone(river):
    answer = river.ask("Which three States attended as observers?")
    assert [c.paragraph for c in answer.citations] == [5]


def test_the_list_margin_is_a_setting(river, embedder):
    with pytest.raises(Exception, match="list_margin"):
        Settings(list_margin=1.5)


@pytest.mark.parametrize(
    ("question", "parts"),
    [
        (
            "When was the treaty adopted, and when did it enter into force?",
            ["When was the treaty adopted?", "when did it enter into force?"],
        ),
        (
            "When was it adopted, when did it take effect, and when was its first review meeting?",
            ["When was it adopted?", "when did it take effect?", "when was its first review meeting?"],
        ),
        (
            "In the regional resolution, what are States asked to avoid, and what are they urged to do?",
            [
                "In the regional resolution, what are States asked to avoid?",
                "In the regional resolution, what are they urged to do?",
            ],
        ),
        (
            "In what year was the office set up, and where and when did the forum meet?",
            ["In what year was the office set up?", "where and when did the forum meet?"],
        ),
        # One question, whatever its commas and "and"s.
        ("When was the conference held, which ended without an outcome?", None),
        ("What does the resolution ask of the Commission and of the Secretary-General?", None),
        ("Where and when did the meeting take place?", None),
        ("Which countries abstained, and why?", None),
    ],
)
def test_the_parts_of_a_compound_question(question, parts):
    assert question_parts(question) == (parts or [question])


def test_each_part_of_a_compound_question_is_quoted(river):
    question = "In which city was the session held, and what was discussed about funding?"
    considered = river.consider(question)
    assert len(considered.parts) == 2
    answer = river.compose(considered)
    assert [c.paragraph for c in answer.citations] == [1, 3]
    # Without the parts, the second half goes unanswered.
    alone = river.compose(replace(considered, parts=()))
    assert [c.paragraph for c in alone.citations] == [1]


VALLEYS = """# Report on quiet valleys

1. The Convention on quiet valleys was adopted on 7 July 2017, and the Group awaited its entry into force.

2. The Convention on quiet valleys has been in force since 22 January 2021.

3. The Group discussed the funding of valley wardens.
"""


def test_a_part_whose_best_sentence_another_part_claimed_takes_its_next_best(tmp_path, embedder):
    valleys = assistant_over(tmp_path, "valleys.md", VALLEYS, embedder)
    question = "When was the Convention on quiet valleys adopted, and when did it enter into force?"
    considered = valleys.consider(question)
    # Paragraph 1 names the entry into force without its date, and is both parts' best sentence ...
    assert [part[0].paragraph.number for part in considered.parts] == [1, 1]
    # ... so the second part rests on its next best, which holds the date.
    answer = valleys.compose(considered)
    assert [c.paragraph for c in answer.citations] == [1, 2]
    assert "22 January 2021" in answer.text


def test_a_long_chain_of_parts_is_answered_whole():
    # Each part is scored over the evidence again: a question of many parts must not multiply the work.
    chain = "When was it adopted" + "".join(f", and when did step {i} happen" for i in range(MAX_PARTS))
    assert len(question_parts(chain + "?")) == 1
    five = "When was it adopted" + "".join(f", and when did step {i} happen" for i in range(MAX_PARTS - 1))
    assert len(question_parts(five + "?")) == MAX_PARTS
    huge = "What did they decide, and why did they decide it? " * 40  # 2,000 characters of it
    assert question_parts(huge) == [huge]
