"""What is known about each candidate sentence of the retrieved paragraphs, as numbers.

Every sentence of the retrieved paragraphs becomes one row of a feature matrix; a scorer
(`rag.answer.scorer`) turns the rows into confidences and the composer quotes the best. Every feature
lies in [0, 1] or close to it, so that hand weights and a fitted linear model read them alike.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from rag.answer.qtypes import entity_coverage, has_answer_of_type, question_entities, question_type
from rag.cite.citations import label
from rag.errors import ModelProblem
from rag.index import IndexData
from rag.retrieve.retriever import Evidence, named_units
from rag.text.parts import asked_parts, part_prefix
from rag.text.terms import passage_terms, terms
from rag.types import Paragraph

#: The kinds of fact `question_type` knows; each gets a "wanted but missing" feature.
KINDS = ("who", "person", "when", "count", "label", "country", "where")

FEATURES: tuple[str, ...] = (
    "sentence_cosine",  # question vs the sentence (with the one before, if it points back)
    "sentence_coverage",  # share of the question's term weight in the sentence
    "paragraph_coverage",  # ... in the paragraph and its heading
    "paragraph_cosine",  # question vs the paragraph
    "paragraph_rank",  # the retriever's fused score over the best paragraph's
    "entity_coverage",  # share of the names the question mentions that the paragraph holds
    "year_not_in_document",  # the question names a year that the paragraph's document never prints
    "reference",  # the sentence is the "item 6" / "para. 12" the question names
    "other_reference",  # ... or names another of the same kind instead ("item 3")
    "type_found",  # the question wants a kind of fact and the sentence has a new one
    *(f"missing_{kind}" for kind in KINDS),  # it wants one of that kind and the sentence has none
    "novelty",  # share of the sentence's terms that the question does not use
    "cosine_gap",  # sentence cosine minus the best candidate's (<= 0)
    "coverage_gap",  # sentence coverage minus the best candidate's (<= 0)
    "sentence_length",  # log of the sentence's term count, scaled
    "why_question",
    "how_question",
    "yes_no_question",
)
#: Columns worked out over all candidates of a question: each one's value minus the best's.
GAPS = {"cosine_gap": "sentence_cosine", "coverage_gap": "sentence_coverage"}

_YES_NO = re.compile(r"^(did|does|do|is|are|was|were|can|could|has|have|had|will|would|should|may)\b", re.I)


class TermWeights:
    """Inverse document frequency of terms, read off the BM25 index."""

    def __init__(self, data: IndexData) -> None:
        bm25 = data.bm25
        vocab: dict[str, int] = getattr(bm25, "vocab_dict", {})
        indptr = np.asarray(bm25.scores["indptr"])  # type: ignore[attr-defined]
        n = max(1, len(data.paragraphs))
        self.default = math.log(1 + (n + 0.5) / 0.5)
        self._vocab = vocab
        self._postings = (indptr, bm25.scores["indices"])  # type: ignore[attr-defined]
        self.idf: dict[str, float] = {}
        for term, tid in vocab.items():
            df = int(indptr[tid + 1] - indptr[tid]) if tid + 1 < len(indptr) else 0
            self.idf[term] = math.log(1 + (n - df + 0.5) / (df + 0.5))

    def in_rows(self, term: str, rows: tuple[int, int]) -> bool:
        """Does a paragraph of rows [first, last) hold the term? (Its postings in the BM25 index.)"""
        return self.rows_holding(term, rows) > 0

    def rows_holding(self, term: str, rows: tuple[int, int]) -> int:
        """How many paragraphs of rows [first, last) hold the term."""
        tid = self._vocab.get(term)
        if tid is None:
            return 0
        indptr, indices = self._postings
        held = np.asarray(indices[int(indptr[tid]) : int(indptr[tid + 1])])
        return int(((held >= rows[0]) & (held < rows[1])).sum())

    def weight(self, term: str) -> float:
        return self.idf.get(term, self.default)

    def coverage(self, wanted: list[str], have: set[str]) -> float:
        """Share of the question's term weight that `have` contains."""
        unique = set(wanted)
        total = sum(self.weight(t) for t in unique)
        if total <= 0:
            return 0.0
        return sum(self.weight(t) for t in unique if t in have) / total


@dataclass(frozen=True)
class Candidate:
    """A sentence (or a sentence with the one it leans on) that could be quoted."""

    row: int  # sentence row in the index
    paragraph: Paragraph
    start: int
    end: int
    score: float = 0.0


@dataclass(frozen=True)
class CandidateFeatures:
    """Candidates of one question and their feature rows (same order)."""

    candidates: tuple[Candidate, ...]
    matrix: np.ndarray  # (len(candidates), len(FEATURES)), float32

    def column(self, name: str) -> np.ndarray:
        return self.matrix[:, FEATURES.index(name)]


_UNITS = (
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen"
).split()
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
_UNIT_ORDINALS = (
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth "
    "fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth"
).split()
_TEN_ORDINALS = "twentieth thirtieth fortieth fiftieth sixtieth seventieth eightieth ninetieth".split()
_WORD_VALUES = (
    {w: i + 1 for i, w in enumerate(_UNITS)}
    | {w: 20 + 10 * i for i, w in enumerate(_TENS)}
    | {w: i + 1 for i, w in enumerate(_UNIT_ORDINALS)}
    | {w: 20 + 10 * i for i, w in enumerate(_TEN_ORDINALS)}
)
_NUMBER_WORD = r"(?:(?:" + "|".join(_TENS) + r")-)?(?:" + "|".join(sorted(_WORD_VALUES, key=len, reverse=True)) + r")"
_UNIT_WORDS = r"(item|point|chapter|article|section|annex|paragraph)"
_REFERENCE = re.compile(rf"\b({_UNIT_WORDS[1:-1]}|paras?\.?)\s+(\d{{1,4}})\b", re.IGNORECASE)
# "chapter six", "article twenty-one"; "the sixth chapter", "the third agenda item" (not "the first
# paragraph of article 5": a part's paragraph, not the document's).
_REFERENCE_AFTER = re.compile(rf"\b{_UNIT_WORDS}\s+({_NUMBER_WORD})\b(?!-)", re.IGNORECASE)
_REFERENCE_BEFORE = re.compile(rf"\b({_NUMBER_WORD})\s+(?:agenda\s+)?{_UNIT_WORDS}\b", re.IGNORECASE)


def word_value(word: str) -> int:
    """The number a word names: "six" and "sixth" 6, "twenty-first" 21."""
    tens, _, unit = word.lower().rpartition("-")
    return _WORD_VALUES.get(tens, 0) + _WORD_VALUES[unit] if tens else _WORD_VALUES[unit]


def references(question: str) -> list[tuple[str, int]]:
    """Numbered labels the question names: "agenda item 6" -> [("item", 6)], and in words ("the
    sixth chapter" -> [("chapter", 6)]); not a paragraph it names of a part ("paragraph 1 of
    resolution 68/6" is no paragraph 1 of the document)."""
    parts = [span for _, span in asked_parts(question)]
    found = [(m.start(), m.group(1), int(m.group(2))) for m in _REFERENCE.finditer(question)]
    found += [(m.start(), m.group(1), word_value(m.group(2))) for m in _REFERENCE_AFTER.finditer(question)]
    found += [
        (m.start(), m.group(2), word_value(m.group(1)))
        for m in _REFERENCE_BEFORE.finditer(question)
        if not (m.group(2).lower() == "paragraph" and re.match(r"\s+of\b", question[m.end() :]))
    ]
    return [
        (kind.lower().rstrip("."), n) for start, kind, n in sorted(found) if not any(a <= start < b for a, b in parts)
    ]


def reference_match(refs: list[tuple[str, int]], para: Paragraph, start: int, sentence: str) -> float:
    """1.0 when the sentence is what a numbered reference in the question points at."""
    for kind, n in refs:
        if kind.startswith("para") and para.numbered_by_source and para.number == n and not para.ref:
            return 1.0
        if kind == "article" and re.match(rf"Art\. {n}(\(|$)", para.ref):
            return 1.0  # a treaty's "Art. 24(1)" for a question about article 24
        on_list_line = start > 0 and para.text[start - 1] == "\n"
        if on_list_line and re.match(rf"\(?{n}[.)]\s", sentence):
            return 1.0
        if re.search(rf"\b{re.escape(kind)}s?\s+{n}\b", sentence, re.IGNORECASE):
            return 1.0
    return 0.0


def reference_conflict(refs: list[tuple[str, int]], sentence: str) -> float:
    """1.0 when the sentence names another number of a kind the question names ("agenda item 3"
    for a question about item 6) and not the one asked about."""
    for kind, n in refs:
        if kind.startswith("para"):
            continue
        numbers = {int(m) for m in re.findall(rf"\b{re.escape(kind)}s?\s+(\d{{1,4}})\b", sentence, re.IGNORECASE)}
        if numbers and n not in numbers:
            return 1.0
    return 0.0


def names_unit(units: set[str], para: Paragraph) -> float:
    """1.0 when the paragraph is a unit the question names by its number ("recommendation
    121.184" for para. 121.184, "article 24" for Art. 24(1), "resolution 68/6" for res. 68/6,
    para. 1)."""
    if not units:
        return 0.0
    name = label(para)
    article = name.startswith("Art. ") and "(" in name and name[: name.index("(") + 1] in units
    return float(name in units or article or part_prefix(name) in units)


def list_context(text: str, start: int) -> str:
    """For a sentence on a list line, the lines that introduce it (the paragraph's first line and
    the nearest line above ending with a colon); empty for ordinary sentences."""
    if start == 0 or text[start - 1] != "\n":
        return ""
    above = text[: start - 1].split("\n")
    intro = [above[0]]
    for line in reversed(above[1:]):
        if line.rstrip().endswith(":"):
            intro.append(line)
            break
    return " ".join(intro)


_ANAPHOR = re.compile(
    r"^(That|This|These|Those|They|It|Its|Such|He|She|His|Her|Their|The same|"
    r"In that regard|Doing so|To that end)\b"
)


#: How far into a sentence a "such" that points back is looked for ("One speaker stated that such
#: an instrument should ..."), and how far after it an "as" makes it point forward instead ("such
#: legislative and other measures as may be necessary").
_SUCH_WITHIN, _AS_WITHIN = 7, 6


def _such_points_back(sentence: str) -> bool:
    words = sentence.lower().split()
    at = next((i for i, w in enumerate(words[:_SUCH_WITHIN]) if w == "such"), None)
    return at is not None and at + 1 < len(words) and "as" not in words[at + 1 : at + 1 + _AS_WITHIN]


def leans_on_previous(sentence: str) -> bool:
    """Does the sentence open by pointing back ("That process ...", "They ...", "One speaker stated
    that such an instrument ...")?"""
    return bool(_ANAPHOR.match(sentence)) or _such_points_back(sentence)


_YEAR = re.compile(r"\b(?:1[89]|20)\d\d\b")
# A number that names one thing ("resolution 2419", "Convention 128"): three digits or more, not a
# year, not part of an amount ("1,000", "2.5") or of a symbol ("77/286", whose parts are no words).
_IDENTIFIER = re.compile(r"(?<![\d,./$€£])\b\d{3,}\b(?![,./]\d)")
# An ordinal singles out one of several ("the fourth session"); "first" alone is too common to.
_ORDINAL_WORD = re.compile(
    rf"\b(?:(?:{'|'.join(_TENS)})-)?(?:{'|'.join(_UNIT_ORDINALS[1:] + _TEN_ORDINALS)})\b", re.IGNORECASE
)


def _year_missing(years: set[str], doc_id: str, data: IndexData, idf: TermWeights) -> float:
    """1.0 when the question names a year, an ordinal or a number naming one thing ("resolution
    2419") that the document never prints (in a paragraph, a heading, its title, date or symbol):
    whatever it says, it is not about that."""
    if not years:
        return 0.0
    info = data.manifest.documents.get(doc_id)
    about = " ".join(x for x in (info.title, info.date, info.symbol) if x) if info else ""
    rows = data.doc_rows.get(doc_id, (0, 0))
    low = about.lower()
    return float(any(y.lower() not in low and not any(idf.in_rows(t, rows) for t in terms(y)) for y in years))


# A document without a title is known by the names it keeps mentioning (a speech by its country):
# a name of the question in at least this share of its paragraphs counts as named in each of them.
# Read off the UN calibration and train splits (correct 0.552 -> 0.556 and 0.596 -> 0.605,
# unanswerable refused unchanged; 0.1: 0.556 / 0.610 with a refusal fewer on calibration; 0.2: 0.556 /
# 0.601; 0.3: 0.554 / 0.600). For every document alike it cost the AUC 0.015 on the bundled report.
PROMINENT_SHARE = 0.15


def _prominent(entities: list[str], doc_id: str, data: IndexData, idf: TermWeights) -> str:
    """The question's names that an untitled document mentions in PROMINENT_SHARE of its paragraphs
    or more (each word of a name counted apart, the rarest deciding)."""
    info = data.manifest.documents.get(doc_id)
    if not entities or (info is not None and info.title):
        return ""
    first, last = data.doc_rows.get(doc_id, (0, 0))
    size = max(1, last - first)
    named = []
    for entity in entities:
        words = terms(entity)
        if words and min(idf.rows_holding(t, (first, last)) for t in words) >= PROMINENT_SHARE * size:
            named.append(entity)
    return " ".join(named)


def _about(doc_id: str, data: IndexData) -> str:
    """What names a document beside its text: its title, short title and symbol ("the Liability
    Convention" is asked about in articles that never repeat the name)."""
    info = data.manifest.documents.get(doc_id)
    return " ".join(x for x in (info.title, info.short_title, info.symbol) if x) if info else ""


def candidate_features(
    question: str, query_terms: list[str], evidence: Evidence, data: IndexData, idf: TermWeights
) -> CandidateFeatures:
    """One feature row for every sentence of the retrieved paragraphs."""
    kind = question_type(question)
    refs = references(question)
    units = set(named_units(question))
    if units and not any(names_unit(units, h.paragraph) for h in evidence.hits):
        units = set(named_units(question, parts=False))  # the resolution may be a document of its own
    entities = question_entities(question)
    # An ordinal that numbers a unit ("the sixth chapter") is printed as its number ("Chapter 6").
    numbering = {m.group(1).lower() for m in _REFERENCE_BEFORE.finditer(question)}
    years = set(_YEAR.findall(question)) | {m.lower() for m in _ORDINAL_WORD.findall(question)} - numbering
    years |= {n for n in _IDENTIFIER.findall(question) if not _YEAR.fullmatch(n)}
    year_missing: dict[str, float] = {}
    about: dict[str, str] = {}  # doc -> its title, short title and symbol
    wanted = set(query_terms)
    low = question.lower().lstrip()
    question_flags = {
        "why_question": float(low.startswith("why")),
        "how_question": float(low.startswith("how ") and kind != "count"),
        "yes_no_question": float(bool(_YES_NO.match(low))),
    }
    sentences = data.sentences
    if not evidence.hit_rows:
        return CandidateFeatures((), np.zeros((0, len(FEATURES)), dtype=np.float32))
    top_score = max((h.score for h in evidence.hits), default=0.0) or 1.0
    fused = {row: h.score / top_score for row, h in zip(evidence.hit_rows, evidence.hits, strict=True)}
    in_hits = data.sentences_of(evidence.hit_rows)
    para_terms: dict[int, set[str]] = {}
    para_entities: dict[int, float] = {}
    paragraph_cos: dict[int, float] = {}
    candidates: list[Candidate] = []
    rows: list[dict[str, float]] = []
    sentence_cos = data.sentence_cosines(in_hits, evidence.query)
    # When the question names a unit by its number and it was found, the other paragraphs are not it.
    unit_found = bool(units) and any(names_unit(units, h.paragraph) for h in evidence.hits)
    for i, srow in enumerate(in_hits):
        prow, start, end = (int(x) for x in sentences[srow])
        para = data.paragraphs[prow]
        text = para.text[start:end]
        if para.doc_id not in year_missing:
            year_missing[para.doc_id] = _year_missing(years, para.doc_id, data, idf)
        if prow not in para_terms:
            context = " ".join(para.section[-1:]) + " " + para.text
            para_terms[prow] = set(passage_terms(context))
            if para.doc_id not in about:
                about[para.doc_id] = _about(para.doc_id, data) + " " + _prominent(entities, para.doc_id, data, idf)
            para_entities[prow] = entity_coverage(entities, context + " " + about[para.doc_id])
            paragraph_cos[prow] = data.paragraph_cosine(prow, evidence.query)
        # A sentence that points back ("That process included ...") is read, scored and
        # quoted together with the sentence before it, so the quote makes sense alone.
        if leans_on_previous(text) and srow > 0 and int(sentences[srow - 1][0]) == prow:
            start = int(sentences[srow - 1][1])
            text = para.text[start:end]
        typed = has_answer_of_type(kind, text, question)
        own_terms = passage_terms(text + " " + list_context(para.text, start))
        novel = [t for t in own_terms if t not in wanted]
        rows.append(
            {
                "sentence_cosine": float(sentence_cos[i]),
                "sentence_coverage": idf.coverage(query_terms, set(own_terms)),
                "paragraph_coverage": idf.coverage(query_terms, para_terms[prow]),
                "paragraph_cosine": paragraph_cos[prow],
                "paragraph_rank": fused[prow],
                "entity_coverage": para_entities[prow],
                "year_not_in_document": year_missing[para.doc_id],
                "reference": max(reference_match(refs, para, start, text) if refs else 0.0, names_unit(units, para)),
                "other_reference": max(
                    reference_conflict(refs, text) if refs else 0.0,
                    float(unit_found and not names_unit(units, para)),
                ),
                "type_found": float(kind is not None and typed == 1.0),
                **{f"missing_{k}": float(kind == k and typed == 0.0) for k in KINDS},
                "novelty": len(novel) / len(own_terms) if own_terms else 0.0,
                "sentence_length": min(1.0, math.log1p(len(own_terms)) / 4.0),
                **question_flags,
            }
        )
        candidates.append(Candidate(int(srow), para, start, end))
    return CandidateFeatures(tuple(candidates), feature_matrix(rows))


def feature_matrix(rows: list[dict[str, float]]) -> np.ndarray:
    """Rows of features by name as a matrix in FEATURES order; the gap columns, which compare each
    candidate with the best, are worked out here over all of them. A row that lacks a feature
    is an error (KeyError), never a silent zero."""
    matrix = np.zeros((len(rows), len(FEATURES)), dtype=np.float32)
    for j, name in enumerate(FEATURES):
        if name not in GAPS:
            matrix[:, j] = [row[name] for row in rows]
    for gap, base in GAPS.items():
        col = matrix[:, FEATURES.index(base)]
        matrix[:, FEATURES.index(gap)] = col - col.max() if len(col) else col
    return matrix


def weights_by_name(names: list[str], coef: list[float], columns: tuple[str, ...]) -> np.ndarray:
    """A fitted model's coefficients, stored by column name, in the order of `columns` (the
    features this version computes, and any columns a model adds): a column the model was not
    fitted on weighs nothing, so adding a feature leaves every shipped model as it was.

    Raises:
        ModelProblem: the model weighs a column this version does not compute, or is malformed.
    """
    if len(names) != len(coef) or len(set(names)) != len(names):
        raise ModelProblem(f"{len(names)} column names for {len(coef)} coefficients")
    unknown = [n for n in names if n not in columns]
    if unknown:
        raise ModelProblem(f"it weighs columns this version does not compute: {', '.join(unknown)}")
    given = dict(zip(names, coef, strict=True))
    return np.asarray([float(given.get(c, 0.0)) for c in columns], dtype=np.float64)
