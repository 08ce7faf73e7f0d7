"""What kind of fact a question asks for, and whether a sentence holds a new one of that kind.

"Who ...?" wants a name, "When ...?" a date, "How many ...?" a number, "Which country ...?"
a country. A sentence only answers such a question if it holds a fact of that kind that the
question did not already contain: "a donor State" does not answer "Which donor State?".
"""

from __future__ import annotations

import re

_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_DATE = re.compile(
    rf"\b(\d{{1,2}}(?:st|nd|rd|th)? (?:{_MONTHS})(?: \d{{4}})?|(?:{_MONTHS})(?: \d{{1,2}},?)? \d{{4}}|"
    rf"(?:{_MONTHS})|(?:1\d|20)\d\d(?:s)?(?!\s+[A-Z][a-z])|(?<=in )\d{{3}}|\d{{1,2}}(?:st|nd|rd|th) century|"
    rf"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday))\b"
)
# A year on its own; not one that names something ("the 2030 Agenda").
_YEAR = re.compile(r"\b(?:1\d|20)\d\d\b(?!\s+[A-Z][a-z])")
# A footnote mark set right after punctuation or a word: "persons.8", "Crime,6".
_FOOTNOTE_MARK = re.compile(r"(?<=[,.;:\u201d\u2019)])\d{1,3}\b")
_NUMBER = re.compile(
    r"\b(\d[\d,.]*|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
    r"thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|"
    r"twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|million|billion|"
    r"dozens?|half|quarter|twice)\b"
    r"(?!-(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth)\b)",  # "the twenty-first century"
    re.IGNORECASE,
)
_NAME = re.compile(r"\b[A-Z][\w’'.-]*(?:\s+(?:of|the|for|and|de|van|von|al|du)?\s*[A-Z][\w’'.-]*)*")

#: Member States of the United Nations and a few other entities, as UN documents name them.
COUNTRIES = frozenset(
    """Afghanistan|Albania|Algeria|Andorra|Angola|Antigua and Barbuda|Argentina|Armenia|Australia|Austria|
    Azerbaijan|Bahamas|Bahrain|Bangladesh|Barbados|Belarus|Belgium|Belize|Benin|Bhutan|Bolivia|
    Bosnia and Herzegovina|Botswana|Brazil|Brunei Darussalam|Bulgaria|Burkina Faso|Burundi|Cabo Verde|
    Cambodia|Cameroon|Canada|Central African Republic|Chad|Chile|China|Colombia|Comoros|Congo|Costa Rica|
    Côte d’Ivoire|Côte d'Ivoire|Croatia|Cuba|Cyprus|Czechia|Democratic People's Republic of Korea|
    Democratic Republic of the Congo|Denmark|Djibouti|Dominica|Dominican Republic|Ecuador|Egypt|El Salvador|
    Equatorial Guinea|Eritrea|Estonia|Eswatini|Ethiopia|Fiji|Finland|France|Gabon|Gambia|Georgia|Germany|
    Ghana|Greece|Grenada|Guatemala|Guinea|Guinea-Bissau|Guyana|Haiti|Honduras|Hungary|Iceland|India|
    Indonesia|Iran|Iraq|Ireland|Israel|Italy|Jamaica|Japan|Jordan|Kazakhstan|Kenya|Kiribati|Kuwait|
    Kyrgyzstan|Lao People's Democratic Republic|Latvia|Lebanon|Lesotho|Liberia|Libya|Liechtenstein|
    Lithuania|Luxembourg|Madagascar|Malawi|Malaysia|Maldives|Mali|Malta|Marshall Islands|Mauritania|
    Mauritius|Mexico|Micronesia|Monaco|Mongolia|Montenegro|Morocco|Mozambique|Myanmar|Namibia|Nauru|
    Nepal|Netherlands|New Zealand|Nicaragua|Niger|Nigeria|North Macedonia|Norway|Oman|Pakistan|Palau|
    Panama|Papua New Guinea|Paraguay|Peru|Philippines|Poland|Portugal|Qatar|Republic of Korea|
    Republic of Moldova|Romania|Russian Federation|Russia|Rwanda|Saint Kitts and Nevis|Saint Lucia|
    Saint Vincent and the Grenadines|Samoa|San Marino|Sao Tome and Principe|Saudi Arabia|Senegal|Serbia|
    Seychelles|Sierra Leone|Singapore|Slovakia|Slovenia|Solomon Islands|Somalia|South Africa|South Sudan|
    Spain|Sri Lanka|Sudan|Suriname|Sweden|Switzerland|Syrian Arab Republic|Syria|Tajikistan|Thailand|
    Timor-Leste|Togo|Tonga|Trinidad and Tobago|Tunisia|Türkiye|Turkey|Turkmenistan|Tuvalu|Uganda|Ukraine|
    United Arab Emirates|United Kingdom|United Kingdom of Great Britain and Northern Ireland|
    United Republic of Tanzania|Tanzania|United States|United States of America|Uruguay|Uzbekistan|
    Vanuatu|Venezuela|Viet Nam|Vietnam|Yemen|Zambia|Zimbabwe|Holy See|State of Palestine|Palestine|
    England|Scotland|Wales|Europe|Africa|Asia|America""".replace("\n", "")
    .replace("    ", "")
    .split("|")
)
_CITY = re.compile(r"\b(which|what) (city|town)\b", re.IGNORECASE)
_COUNTRY = re.compile(r"\b(" + "|".join(sorted((re.escape(c) for c in COUNTRIES), key=len, reverse=True)) + r")\b")

#: Capitalised words that name roles and bodies in general, not a particular one.
_GENERIC = frozenset(
    """The A An In At On For Of By To It This That These Those He She They We I Its Their His Her
    Chair Vice-Chair Vice-Chairs Bureau Secretariat Rapporteur Member States State Government Governments
    Commission Committee Council Group Expert Meeting Convention Conventions Programme Party Parties Speakers
    Speaker Many Some Several Other One Most Various Further However Furthermore Nevertheless Also Doing
    Article Chapter Annex Section Part Paragraph Resolution According Among As With Upon After Before
    Such Both Each Every All Any No Not If When Where While Although Because Since Thus Therefore
    January February March April May June July August September October November December
    Monday Tuesday Wednesday Thursday Friday Saturday Sunday""".split()
)


# A word between "which" and the thing asked for ("which donor State"), but not a verb that
# makes the thing the subject of the question ("what do States commit to").
_MODIFIER = r"(?!(?:do|does|did|is|are|was|were|have|has|had|can|could|should|must|will|would|may|might)\b)\w+"


# Things cited by number or symbol: "Which resolution ...?" wants "65/230", "which chapters" "3 to 8".
_LABELLED = (
    r"(resolutions?|decisions?|documents?|articles?|paragraphs?|chapters?|sections?|annex(es)?|"
    r"rules?|agenda items?|items?|symbols?)"
)
_SYMBOL = re.compile(r"\b[A-Z]+(?:/[A-Za-z0-9.]+)+")  # a document symbol: "E/CN.15/2011/19"


def _labels(sentence: str, question: str) -> list[str]:
    """The numbers the sentence gives to things of the kind the question asks about ("resolution
    65/230", "chapters 3 to 8"), and document symbols when it asks for a document."""
    kinds = {
        m.group(0).lower().rstrip("s")
        for m in re.finditer(
            r"\b(resolution|decision|document|article|paragraph|chapter|section|annex|rule|item|symbol)s?\b",
            question,
            re.IGNORECASE,
        )
    }
    found = []
    for kind in kinds - {"document", "symbol"}:
        found += [
            m.group(1)
            for m in re.finditer(
                rf"\b{kind}s?\s+((?:No\.\s*)?\d[\w/.]*(?:\s*(?:to|and|-)\s*\d[\w/.]*)?)", sentence, re.IGNORECASE
            )
        ]
    if kinds & {"document", "symbol"}:
        found += _SYMBOL.findall(sentence)
    return found


# Roles only a person fills: a question about one wants a person's name, not a body or a country.
_PERSON_ROLE = re.compile(
    r"\b(chair(ed|s|man|woman|person)?|vice-chair|elected|rapporteur|president|minister|director|"
    r"ambassador|secretary|head|leader|king|queen|author|founder|judge|representative|spokes\w*|"
    r"ceo|mayor|governor|envoy|commissioner)s?\b"
)
#: Words of the names of bodies, posts and documents, which are not persons' names.
_NOT_PERSON = frozenset(
    """United Nations General Assembly Council Commission Committee Office Government Governments
    Convention Union Organization Organisation Group Conference Agenda Declaration Protocol Plan Action
    Programme Report Court Bank Fund Secretariat Secretary-General Permanent Representative Special
    Rapporteur Rapporteurs Chair Vice-Chair Bureau Expert Member States State Republic Kingdom Federation
    Crime Justice Criminal Prevention Drugs Human Rights Study Meeting Session Article Agency Institute
    Centre Center University Network Forum Board Mechanism Treaty Charter Law Act Resolution Global Update
    International National Regional European African Asian Arab American Internet Parliament Ministry
    Department Police Service Mission Working Party Parties Framework Initiative Compact
    Summary Summit Day Year Week Decade Principles Guidelines Strategy Vienna Geneva New York""".split()
)

#: Words of bodies, posts and documents: no part of a city's name.
_BODY = _NOT_PERSON - {"Vienna", "Geneva", "New", "York"}


def question_type(question: str) -> str | None:
    """The kind of fact a question wants: 'when', 'count', 'label' (a number or symbol: "Which
    resolution ...?"), 'country', 'person' (a person's name:
    "Who chaired ...?", "What is the name of the Rapporteur?"), 'who' (a name or a role: "Who opened
    the meeting?"), 'where' or None."""
    q = question.lower().strip()
    if (
        re.match(r"^when\b", q)
        or re.search(rf"\b(which|what) ({_MODIFIER} )?(dates?|days?|years?|months?|time|deadline)\b", q)
        or re.search(r"\b(on what date|in what year|which year|what year|which date|since when|how long ago)\b", q)
        or re.search(r"\b(by|until|till) when\b", q)
    ):
        return "when"
    if (
        re.search(r"^((by|for|within|up to|in|after|at|to|over) )?how (many|much)\b", q)
        or re.search(r"\b(what|which) (number|percentage|share|proportion|amount|age)\b", q)
        or re.search(r"\bvote count\b", q)
        # "What was the budget ...?", "What is the total cost ...?": an amount is wanted.
        or re.search(
            r"\bwhat (is|was|are|were|will be) the (\w+ )?(budget|cost|costs|price|sum|total|value|salary|fee|fees|"
            r"fine|rate|percentage|share|amount|figure|turnout|population)\b",
            q,
        )
    ):
        return "count"
    if re.search(rf"\b(which|what) ({_MODIFIER} ){{0,2}}{_LABELLED}\b", q):
        return "label"
    if re.search(
        rf"\b(which|what) ({_MODIFIER} )?(country|countries|state|states|government|governments|nation|nations|member state|member states|delegation|delegations)\b(?! that)",
        q,
    ):
        return "country"
    if _PERSON_ROLE.search(q) and (
        re.match(r"^(who|whom|whose)\b", q) or re.search(r"\b(what is the name|name the)\b", q)
    ):
        return "person"
    if (
        re.match(r"^(who|whom|whose)\b", q)
        or re.search(
            rf"\b(which|what) ({_MODIFIER} ){{0,2}}(person|people|organi[sz]ations?|body|bodies|institutions?|universit(y|ies)|compan(y|ies)|firms?|officials?|courts?|offices?|authorit(y|ies)|agenc(y|ies)|organs?)\b",
            q,
        )
        or re.search(r"\bwhat is the name of\b|\bwho\b", q)
    ):
        return "who"
    if re.match(r"^where\b", q) or re.search(
        r"\b((in|at) (which|what) (place|venue|location)|(which|what) (city|town))\b", q
    ):
        return "where"
    return None


def _new(found: list[str], question: str) -> bool:
    """Does any fact found in the sentence say more than the question? A fact whose words all
    occur in the question ("Permanent Representative of South Africa" for "South Africa's
    Permanent Representative") says nothing new."""
    asked = set(re.findall(r"\w+", question.lower()))
    return any(not set(re.findall(r"\w+", f.lower())) <= asked for f in found)


# "1. ", "(a) ", "iv) ": digits, one letter or a roman numeral; not a title ("Mr. Ortiz", "Dr. Lee").
_LIST_MARKER = re.compile(r"^\s*(\(?(?:\d{1,4}|[a-zA-Z]|[ivxlcIVXLC]{1,5})[.)]\s+)+")
# Numbers that label rather than count: "article 32", "resolution 65/230", "E/CN.15/2011/19".
_LABEL_NUMBER = re.compile(
    r"\b(?:articles?|art\.|paragraphs?|paras?\.|items?|chapters?|sections?|rules?|"
    r"annex(?:es)?|resolutions?|decisions?|no\.|number)\s+[\d/.()a-z]+|"
    r"\S*\d+/\S*",
    re.IGNORECASE,
)


def has_answer_of_type(kind: str | None, sentence: str, question: str) -> float:
    """1.0 if the sentence holds a fact of the wanted kind that is not in the question, else 0.0;
    0.5 when the question wants no particular kind."""
    if kind is None:
        return 0.5
    sentence = _LIST_MARKER.sub("", sentence)  # a list marker is neither a number nor a word
    if kind == "when":
        wanted = _YEAR if re.search(r"\byears?\b", question, re.IGNORECASE) else _DATE
        return float(_new([m.group(0) for m in wanted.finditer(sentence)], question))
    if kind == "count":
        # Dates, labels and footnote marks are not counts.
        counted = _DATE.sub(" ", _LABEL_NUMBER.sub(" ", _FOOTNOTE_MARK.sub(" ", sentence)))
        return float(_new([m.group(0) for m in _NUMBER.finditer(counted)], question))
    if kind == "country":
        return float(_new([m.group(0) for m in _COUNTRY.finditer(sentence)], question))
    if kind == "label":
        return float(_new(_labels(sentence, question), question))
    if kind == "person":
        return float(_new(_persons(sentence), question))
    names = []
    for m in _NAME.finditer(sentence):
        words = [w.strip(".’'-") for w in re.split(r"\s+", m.group(0))]
        words = [w for w in words if w not in _GENERIC and w[:1].isupper()]
        if words and (m.start() > 0 or len(words) > 1 or (len(words[0]) > 1 and words[0].isupper())):
            names.append(" ".join(words))
    if kind == "where":
        if _CITY.search(question):  # a city is wanted: a country or a body does not say which
            names = [n for n in names if not _COUNTRY.fullmatch(n) and not _BODY.intersection(n.split())]
        else:
            names += [m.group(0) for m in _COUNTRY.finditer(sentence)]
    return float(_new(names, question))


def _persons(sentence: str) -> list[str]:
    """Names of persons the sentence mentions: two or more capitalised words, or one after a title
    ("Ms. Chen"), not opening the sentence, not in a quoted title, and not words of bodies, posts,
    countries or places."""
    text = re.sub(r"[\u201c\"][^\u201d\"]*[\u201d\"]", " ", sentence)  # titles in quotes
    out = []
    word = r"[A-Z][a-z\u00e0-\u00ff'\u2019]+(?:-[A-Za-z\u00e0-\u00ff'\u2019]+)*"
    for m in re.finditer(
        rf"(?:\b(?:Mr|Mrs|Ms|Dr|Sir|Dame)\.?\s+)?\b{word}"
        rf"(?:\s+(?:(?:de|da|van|von|al|bin|del|der|la|le)\s+){{0,2}}{word}){{0,3}}",
        text,
    ):
        words = m.group(0).split()
        titled = words[0].rstrip(".") in ("Mr", "Mrs", "Ms", "Dr", "Sir", "Dame")
        if not titled and (m.start() == 0 or len([w for w in words if w[:1].isupper()]) < 2):
            continue  # one capitalised word is as often a place or a thing as a person
        if any(w in _NOT_PERSON or w in _GENERIC for w in words if w[:1].isupper()) and not titled:
            continue
        if _COUNTRY.search(m.group(0)):
            continue
        out.append(m.group(0))
    return out


_QUESTION_WORDS = frozenset(
    "What Which Who Whom Whose When Where Why How Did Does Do Is Are Was Were Can Could "
    "Should Would Will Has Have Had May Might Must Shall Tell Name List Give According".split()
)


_ORDINAL = re.compile(
    r"\b(second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|"
    r"\d{1,2}(?:st|nd|rd|th))\b",
    re.IGNORECASE,
)


#: Generic nouns that, right after a name's own word, make one name with it: "United States" is
#: not "United" (which every "United Nations" holds), nor "Arab States" "Arab".
_NAME_NOUNS = frozenset({"States", "State"})
_POSSESSIVE = re.compile(r"[’']s$")
_ACRONYM = re.compile(r"^[A-Z]{2,6}s?$")
# A run of capitalised words, with the small words official names carry between them.
_CAPITAL_RUN = re.compile(r"[A-Z][\w’'-]*(?:\s+(?:(?:of|on|the|and|for|in|to|against)\s+)*[A-Z][\w’'-]*)*")
_SMALL = frozenset("of on the and for in to against".split())
#: Adjectives of nationality that do not start with their country's name.
_DEMONYMS = {
    "Dutch": "Netherlands",
    "British": "United Kingdom",
    "American": "United States",
    "Swiss": "Switzerland",
    "French": "France",
    "Greek": "Greece",
    "Turkish": "Türkiye",
    "Filipino": "Philippines",
    "Emirati": "United Arab Emirates",
    "Saudi": "Saudi Arabia",
    "Czech": "Czechia",
    "Welsh": "Wales",
    "Scottish": "Scotland",
    "English": "England",
    "Irish": "Ireland",
    "Danish": "Denmark",
    "Finnish": "Finland",
    "Polish": "Poland",
    "Spanish": "Spain",
    "Norwegian": "Norway",
    "Malagasy": "Madagascar",
    "Congolese": "Congo",
    "Ivorian": "Côte d",  # Côte d'Ivoire, with either apostrophe
    "Salvadoran": "El Salvador",
    "Salvadorian": "El Salvador",
    "Cypriot": "Cyprus",
}
_DEMONYM_END = re.compile(r"(?:ians?|eans?|ans?|ese|ish|is?|ic)$")


def question_entities(question: str) -> list[str]:
    """Names the question mentions (capitalised words and symbols like 65/230), possessives cut
    ("China's": China). The question's first word counts only when it is a country or an acronym:
    "Besides", "Under" and "During" are capitalised because they open it. A generic noun stays in a
    name when it follows one of the name's own words ("United States")."""
    out = []
    opening = re.match(r"\W*", question).end()  # type: ignore[union-attr]
    for m in _NAME.finditer(question):
        words: list[str] = []
        for k, raw in enumerate(re.split(r"\s+", m.group(0))):
            w = _POSSESSIVE.sub("", raw.strip(".’'-?,")).strip(".’'-")
            if not w or w in _QUESTION_WORDS:
                continue
            if k == 0 and m.start() == opening and w not in COUNTRIES and not _ACRONYM.match(w):
                continue
            if w in _GENERIC:
                if words and w in _NAME_NOUNS and words[-1] not in _GENERIC and words[-1][:1].isupper():
                    words.append(w)
                continue
            if words or w[:1].isupper():  # not a joining "of" left in front ("Council of Europe")
                words.append(w)
        if words:
            out.append(" ".join(words))
    out += re.findall(r"\b\d+/\d+\b", question)
    # Years and ordinals single out one of several: "the fourth meeting", "in 2017".
    out += re.findall(r"\b(?:1[89]|20)\d\d\b", question)
    out += [m.lower() for m in _ORDINAL.findall(question)]
    return out


def _initials(text: str) -> list[str]:
    """The initials of every run of capitalised words in the text ("Treaty on the Prohibition of
    Nuclear Weapons": TPNW); an acronym is named where it is a part of one of them."""
    return ["".join(w[0] for w in run.split() if w not in _SMALL) for run in _CAPITAL_RUN.findall(text)]


def _demonym_of(word: str, text: str) -> bool:
    """Does the text name the country an adjective of nationality stands for ("Belarusian": Belarus)?"""
    if word in _DEMONYMS:
        return _DEMONYMS[word].lower() in text.lower()
    stem = _DEMONYM_END.sub("", word)
    if len(stem) < 3 or stem == word:
        return False
    for w in re.findall(r"\b[A-Z][a-zà-ÿ]{2,}", text):
        if w.startswith(stem) or (len(w) >= 4 and stem.startswith(w)):
            return True
    return False


def _mentions(entity: str, low: str, text: str, initials: list[str] | None) -> bool:
    """The text names the entity: every word of it (a generic noun right after one of the name's
    own words with it: "united states", not "united" and "states" apart), the words an acronym
    stands for ("UN": United Nations), or the country an adjective of nationality names."""
    words = entity.split()
    if all(w.lower() in low for w in words):
        return all(
            re.search(rf"\b{re.escape(a.lower())}\s+{re.escape(b.lower())}\b", low)
            for a, b in zip(words, words[1:], strict=False)
            if b in _NAME_NOUNS and a not in _GENERIC
        )
    if len(words) == 1 and "-" in entity.strip("-"):  # "Dutch-Cypriot", "UN-backed": its named parts
        parts = [w for w in entity.split("-") if w[:1].isupper()]
        return bool(parts) and all(_mentions(w, low, text, initials) for w in parts)
    if len(words) == 1 and _ACRONYM.match(entity):
        return initials is not None and any(entity.rstrip("s") in run for run in initials)
    if len(words) == 1 and entity.endswith("s") and len(entity) > 4 and entity[:-1].lower() in low:
        return True  # "the Americas": America
    if len(words) == 1 and entity[:1].isupper():
        return _demonym_of(entity, text)
    return False


def entity_coverage(entities: list[str], text: str) -> float:
    """Share of the question's names that the text mentions (1.0 when it names none)."""
    if not entities:
        return 1.0
    low = text.lower()
    initials = _initials(text) if any(re.search(r"\b[A-Z]{2,6}\b", e) for e in entities) else None
    return sum(_mentions(e, low, text, initials) for e in entities) / len(entities)


_COUNT_WORDS = dict(zip("two three four five six seven eight nine ten".split(), range(2, 11), strict=True)) | {
    "both": 2
}
# "which three States", "the two rapporteurs", "name four", "both meetings": the question names
# how many things it wants. Not "two years ago", "the two-thirds majority", "one of the three".
_ASKED_COUNT = re.compile(
    r"\b(?:which|what|name|list|the|give|are|were|its|their)\s+(?:\w+\s+)?"
    r"(?P<n>two|three|four|five|six|seven|eight|nine|ten|[2-9])(?![-\u2011])\s+(?!(?:years?|months?|weeks?|days?|"
    r"hours?|decades?|centuries|times|per ?cent|percent|thirds?|quarters?)\b)(?P<what>\w+)"
    r"|\bboth\s+(?!of\b|(?:is|are|was|were)\b)(?P<both>\w+)",
    re.IGNORECASE,
)
_COUNT_OPENING = re.compile(
    r"\s*(?:(?:at|in|on|for|from|to|by|under|with|during|of|between|among)\s+)?"
    r"(which|what|who|whom|name|list|give|identify|when|where)\b",
    re.I,
)
# "which of the three", "one of two": a part of the things named, not all of them.
_ONE_OF = re.compile(r"\bof\s+$", re.IGNORECASE)


# "Under the Covenant, what ...", "Once the flag State agrees, which ...": a phrase before the
# question proper, ended by a comma that a question word follows.
_LEADING_PHRASE = re.compile(r"^[^,?]{3,120},\s+(?=(?:what|which|who|whom|when|where|name|list)\b)", re.IGNORECASE)


def asked_question(question: str) -> str:
    """The question without a phrase that comes before it ("Under the Covenant, what three
    guarantees ...?" -> "what three guarantees ...?")."""
    m = _LEADING_PHRASE.match(question)
    return question[m.end() :] if m else question


def asked_count(question: str) -> int | None:
    """How many things a question asks for when it says so ("Which three States ...?": 3; "the two
    rapporteurs": 2; "both meetings": 2; "Under the Covenant, what three ...": 3); None when it
    does not. The count must be part of what is asked, near the question word: not "Why did the
    two countries ...?" or "Were both ...?"."""
    question = asked_question(question)
    if not _COUNT_OPENING.match(question):
        return None
    words = question.split()
    head = " ".join(words[:6])
    for m in _ASKED_COUNT.finditer(head):
        if len(head[: m.start("n") if m.group("n") else m.start("both")].split()) > 3:
            continue  # past the question's opening words: "In which language do the two sides ...?"
        if _ONE_OF.search(head[: m.start()]):
            continue
        if m.group("both"):
            return 2
        word = m.group("n").lower()
        what = m.group("what").lower()
        if not what.endswith("s") and what not in ("people", "children", "men", "women", "criteria", "media"):
            continue  # "the two-year plan", "three percent": not things counted
        return int(word) if word.isdigit() else _COUNT_WORDS[word]
    return None


# A list inside one sentence: short items split by commas, semicolons or a final "and"/"or".
_ITEM_SPLIT = re.compile(r"\s*(?:;|,(?:\s+(?:and|or))?|\s(?:and|or)\s)\s*")
#: The most words an item of a list inside a sentence has ("Chile, Kenya and Viet Nam"); longer
#: parts are clauses of a long sentence, not the things a question counts.
ITEM_WORDS = 6


def items_in(sentence: str) -> int:
    """How many short items a sentence lists (1 for a sentence with no list)."""
    return max(1, sum(1 for part in _ITEM_SPLIT.split(sentence) if 0 < len(part.split()) <= ITEM_WORDS))


_AUX = r"(?:do|does|did|is|are|was|were|has|have|had|can|could|must|may|might|should|shall|will|would)"
_PREPOSED = r"(?:by|until|in|on|at|to|from|for|under|with|since)\s+(?:when|which|what|whom)"
_WH = rf"(?:when|where|why|how|who|whom|whose|what|which|{_PREPOSED})"
# What opens a question of its own: a wh-word, or "what"/"which" with a verb of its own close by
# ("what document is ..."; not "the Commission and which bodies").
_OPENER = rf"(?:(?:when|where|why|how|who|whom|whose)\b|(?:what|which)\b(?:\s+\w+){{0,3}}?\s+{_AUX}\b|{_PREPOSED}\b)"
_STRONG_JOIN = re.compile(rf",\s+and\s+(?={_WH}\b)", re.IGNORECASE)  # "..., and when did ..."
_WEAK_JOIN = re.compile(rf"\s+and\s+(?={_OPENER})", re.IGNORECASE)  # "... and when did ..."
_COMMA_JOIN = re.compile(rf",\s+(?={_OPENER})", re.IGNORECASE)  # "A, when did B, and C"
#: The most parts a question is split into; one with more is answered whole (each part is
#: scored over the evidence again, so a long chain of "and what ..." must not multiply the work).
MAX_PARTS = 5


def question_parts(question: str) -> list[str]:
    """The questions a compound question asks ("When was the treaty adopted, and when did it
    enter into force?" -> two), each ending with '?'; [question] for a simple one. An opening
    phrase shared by the parts ("In the regional resolution, what ... and what ...?") goes with
    each; a part of fewer than three words joins the next ("where and when did ..."). A question
    of more than MAX_PARTS parts is not split."""
    body = question.strip().rstrip("?.").strip()
    strong = bool(_STRONG_JOIN.search(body))
    pieces = [body]
    for rule in (_STRONG_JOIN, _WEAK_JOIN, *((_COMMA_JOIN,) if strong else ())):
        pieces = [piece for part in pieces for piece in rule.split(part)]
    merged: list[str] = []
    for piece in (p.strip(" ,") for p in pieces):
        if not piece:
            continue
        if merged and len(merged[-1].split()) < 3:
            merged[-1] = f"{merged[-1]} and {piece}"
        else:
            merged.append(piece)
    if len(merged) > 2 and not re.match(rf"{_OPENER}|{_AUX}\b", merged[0], re.IGNORECASE):
        intro = merged.pop(0)
        merged = [f"{intro}, {piece}" for piece in merged]
    if not 2 <= len(merged) <= MAX_PARTS or any(len(piece.split()) < 3 for piece in merged):
        return [question]
    return [f"{piece}?" for piece in merged]
