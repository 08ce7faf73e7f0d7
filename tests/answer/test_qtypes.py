"""What kind of fact a question wants, and whether a sentence holds a new one."""

from rag.answer.qtypes import entity_coverage, has_answer_of_type, question_entities, question_type


def test_question_types():
    assert question_type("When was the provisional agenda adopted?") == "when"
    assert question_type("How many Member States took part?") == "count"
    assert question_type("Which donor State said it would fund the programme?") == "country"
    assert question_type("Who opened the meeting?") == "who"
    assert question_type("What was said about the draft study?") is None


def test_a_general_mention_does_not_answer_which_state():
    q = "Which donor State said it would fund the programme in 2017?"
    assert (
        has_answer_of_type(
            "country",
            "One speaker representing a donor State noted that his "
            "Government would likely continue to fund the programme.",
            q,
        )
        == 0.0
    )
    assert has_answer_of_type("country", "The Government of Norway would fund the programme.", q) == 1.0


def test_labels_dates_and_list_markers_are_not_counts():
    q = "How many States are parties to the Budapest Convention?"
    for sentence in (
        "The Budapest Convention, in particular its article 32 (b), was discussed.",
        "8. Adoption of the report.",
        "At its 1st meeting, on 10 April 2017, the Expert Group adopted its agenda.",
        "It recalled resolution 65/230 and document E/CN.15/2011/19.",
    ):
        assert has_answer_of_type("count", sentence, q) == 0.0, sentence
    assert (
        has_answer_of_type(
            "count",
            "The meeting was attended by representatives of 87 Member States.",
            "How many Member States took part?",
        )
        == 1.0
    )


def test_a_name_made_of_the_questions_own_words_is_not_new():
    q = "What is the name of South Africa's Permanent Representative to the United Nations?"
    opened = (
        "The meeting was opened, on an exceptional basis, by the Permanent Representative "
        "of South Africa to the United Nations."
    )
    assert has_answer_of_type("who", opened, q) == 0.0
    assert (
        has_answer_of_type(
            "who", "The Rapporteur, Christopher Ram (Canada), introduced the reports.", "Who introduced the reports?"
        )
        == 1.0
    )


def test_years_and_ordinals_are_things_the_question_singles_out():
    assert "fourth" in question_entities("When will the fourth meeting of the Expert Group take place?")
    assert "2017" in question_entities("Which donor State said it would fund the programme in 2017?")
    assert "Budapest" in question_entities("How many States joined the Budapest Convention?")


def test_a_name_is_read_as_users_write_it():
    # The word that opens a question is capitalised for that reason only, unless it is a name.
    assert question_entities("Besides Germany, which States spoke?") == ["Germany"]
    assert question_entities("Under Article 5, who pays?") == []
    assert question_entities("Grenada's leader said what?") == ["Grenada"]
    assert question_entities("What did China's minister propose?") == ["China"]
    assert question_entities("What did the United States say about the study?") == ["United States"]
    assert question_entities("What did the Council of Europe say?") == ["Europe"]


def test_a_name_counts_as_mentioned_when_the_text_names_it_another_way():
    assert entity_coverage(["UN"], "a letter to the United Nations") == 1.0
    assert entity_coverage(["TPNW"], "the Treaty on the Prohibition of Nuclear Weapons entered into force") == 1.0
    assert entity_coverage(["UN-backed"], "an inquiry of the United Nations") == 1.0
    assert entity_coverage(["Dutch"], "the Government of the Kingdom of the Netherlands") == 1.0
    assert entity_coverage(["Belarusian"], "Belarus voted against") == 1.0
    assert entity_coverage(["Dutch-Cypriot"], "between the Netherlands and Cyprus") == 1.0
    # ... and not when it does not.
    assert entity_coverage(["EU"], "the Council adopted the text") == 0.0
    assert entity_coverage(["Dutch"], "the Government of Belgium") == 0.0
    # "United States" is one name: the United Nations and its Member States are not it.
    assert entity_coverage(["United States"], "the United Nations and its Member States") == 0.0
    assert entity_coverage(["United States"], "experts of the United States of America") == 1.0


def test_an_acronym_is_sought_in_a_long_run_of_capitalised_words_without_listing_its_parts():
    # A table of names or a page in capitals is one run of thousands of capitalised words: the
    # acronym is looked for in its initials, not among every part of them (quadratic, then more).
    run = " ".join(["Zeta"] * 5000)
    assert entity_coverage(["UN"], f"{run} United Nations") == 1.0
    assert entity_coverage(["UN"], run) == 0.0


def test_a_verb_after_what_makes_the_states_the_subject_not_the_answer():
    assert question_type("What do States commit to do about the demand that fuels trafficking?") is None
    assert question_type("What should Member States do?") is None
    assert question_type("Which States spoke at the meeting?") == "country"


def test_a_year_question_wants_a_year_and_names_are_not_dates():
    q = "In which year was the World Day against Trafficking in Persons first observed?"
    assert has_answer_of_type("when", "We welcome the designation of 30 July as the World Day.12", q) == 0.0
    assert has_answer_of_type("when", "The World Day was first observed in 2014.", q) == 1.0
    assert (
        has_answer_of_type(
            "when",
            "It will incorporate aspects of the 2030 Agenda for Sustainable Development.",
            "When was the Group created?",
        )
        == 0.0
    )


def test_footnote_marks_are_not_counts():
    q = "How many States have ratified the Protocol?"
    assert has_answer_of_type("count", "We urge ratification of the Convention,6 and the Protocol.8", q) == 0.0
    assert has_answer_of_type("count", "The Protocol has been ratified by 180 States.", q) == 1.0


def test_a_question_about_a_post_only_a_person_holds_wants_a_persons_name():
    assert question_type("Who chaired the Expert Group at its third meeting?") == "person"
    assert question_type("What is the name of South Africa's Permanent Representative?") == "person"
    assert question_type("Who opened the meeting, and why?") == "who"  # a role answers this
    q = "Who took over as Rapporteur of the group?"
    assert (
        has_answer_of_type(
            "person", "In line with that information, Erik Planken (Netherlands) would serve as Rapporteur.", q
        )
        == 1.0
    )
    assert (
        has_answer_of_type(
            "person",
            "The Expert Group thanked the Government of China for its resources.",
            "Who chaired the Expert Group?",
        )
        == 0.0
    )
    assert (
        has_answer_of_type(
            "person",
            "We underline the work of the Special Rapporteurs of the Human "
            "Rights Council and the Special Representative of the Secretary-General.",
            "Who is the current Special Rapporteur on trafficking?",
        )
        == 0.0
    )


def test_a_question_about_a_resolution_or_chapter_wants_its_number():
    q = "Which General Assembly resolution asked for an expert group?"
    assert question_type(q) == "label"
    assert question_type("On which days did the group discuss the study?") == "when"
    assert (
        has_answer_of_type(
            "label", "In its resolution 65/230, the General Assembly requested the Commission to establish a group.", q
        )
        == 1.0
    )
    assert has_answer_of_type("label", "The Assembly asked for a group.8", q) == 0.0
    assert has_answer_of_type("label", "The meeting was held from 25 to 28 February 2013.", q) == 0.0
    chapters = "Which chapters of the draft study should meetings go through?"
    assert has_answer_of_type("label", "They suggested examining the study chapter by chapter.", chapters) == 0.0
    assert has_answer_of_type("label", "the issues dealt with in chapters 3 to 8 of the study", chapters) == 1.0


def test_a_question_about_a_budget_or_a_cost_wants_an_amount(assistant):
    """ "What was the budget ...?" wants a figure: a sentence about budget resources with no amount
    does not answer it, and the assistant refuses rather than quote one."""
    assert question_type("What was the budget of the Expert Group in 2019?") == "count"
    assert question_type("What is the total cost of the programme?") == "count"
    assert question_type("What was the outcome of the vote?") is None
    sentence = "Some speakers also suggested providing the Expert Group with regular budget resources."
    assert has_answer_of_type("count", sentence, "What was the budget of the Expert Group?") == 0.0
    assert assistant.ask("What was the budget of the Expert Group in 2019?").abstained


def test_a_city_question_wants_a_city_not_a_country_or_a_body():
    q = "In which city will the 2026 regional climate summit take place?"
    assert question_type(q) == "where" and question_type("Which town hosted the talks?") == "where"
    country = (
        "We look forward to hosting a regional climate summit in Kazakhstan in 2026 under United Nations auspices."
    )
    assert has_answer_of_type("where", country, q) == 0.0
    for sentence in ("The summit will be held at United Nations Headquarters in New York.", "DONE at Nicosia."):
        assert has_answer_of_type("where", sentence, q) == 1.0, sentence
    # A country still answers where, when no city is asked for.
    assert has_answer_of_type("where", country, "Where will the 2026 regional climate summit take place?") == 1.0


def test_an_ordinal_in_words_is_no_count():
    q = "How many posts will the reform cut?"
    century = "The reform equips the Organization for the twenty-first century."
    assert has_answer_of_type("count", century, q) == 0.0
    assert has_answer_of_type("count", "The reform will cut twenty-five posts.", q) == 1.0


def test_question_types_asked_in_other_words():
    assert question_type("On what exact date did the convention enter into force?") == "when"
    assert question_type("By what deadline must the States report?") == "when"
    assert question_type("By when must the report be submitted?") == "when"
    assert question_type("Within how many days must the visas be issued?") == "count"
    assert question_type("At what age may a judge serve no longer?") == "count"
    assert question_type("Which official heads the procedure?") == "who"
    assert question_type("Which court hears the appeal?") == "who"
    # A yes-no question about an age wants no number.
    assert question_type("Can doubts about how old a victim is block an inquiry?") is None


def test_every_number_word_up_to_ninety_is_a_count():
    q = "Up to what age is a person a child under the protocol?"
    for sentence in ("A child is any person under eighteen years of age.", "Judges retire at seventy."):
        assert has_answer_of_type("count", sentence, q) == 1.0, sentence
