"""Retrieved paragraphs -> an Answer of verbatim, cited sentences, or an abstention."""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass

import numpy as np

from .index import IndexData
from .retrieval import Evidence
from .settings import Settings
from .qtypes import entity_coverage, has_answer_of_type, question_entities, question_type
from .terms import terms
from .types import Answer, Citation, Paragraph

log = logging.getLogger(__name__)

NO_ANSWER = "The documents do not answer this question."

_REFERENCE = re.compile(
    r"\b(item|point|chapter|article|section|annex|paragraph|paras?\.?)\s+(\d{1,4})\b", re.IGNORECASE)


def references(question: str) -> list[tuple[str, int]]:
    """Numbered labels the question names: "agenda item 6" -> [("item", 6)]."""
    return [(m.group(1).lower().rstrip("."), int(m.group(2))) for m in _REFERENCE.finditer(question)]


def reference_match(refs: list[tuple[str, int]], para: Paragraph, start: int, sentence: str) -> float:
    """1.0 when the sentence is what a numbered reference in the question points at."""
    for kind, n in refs:
        if kind.startswith("para") and para.numbered_by_source and para.number == n:
            return 1.0
        on_list_line = start > 0 and para.text[start - 1] == "\n"
        if on_list_line and re.match(rf"\(?{n}[.)]\s", sentence):
            return 1.0
        if re.search(rf"\b{re.escape(kind)}s?\s+{n}\b", sentence, re.IGNORECASE):
            return 1.0
    return 0.0


@dataclass(frozen=True)
class Weights:
    """How the sentence score mixes its evidence; all parts lie in [0, 1], and the score is
    divided by the sum of the weights (the reference bonus aside) so that it does too."""

    sentence_cosine: float = 0.45
    sentence_coverage: float = 0.25
    paragraph_coverage: float = 0.15
    paragraph_cosine: float = 0.10
    answer_type: float = 0.0
    reference: float = 0.2  # bonus when the sentence is the "item 6" the question names
    missing_entity: float = 0.2  # share of the score lost when the paragraph lacks the names asked about
    missing_type: float = 0.1  # share lost when a who/when/how-many question gets no such fact
    # The retriever's fused score relative to the best paragraph's: a sentence the scorer
    # likes in a paragraph the retriever ranks low is less likely to be the answer.
    paragraph_rank: float = 0.2

    def total(self) -> float:
        return (self.sentence_cosine + self.sentence_coverage + self.paragraph_coverage
                + self.paragraph_cosine + self.answer_type + self.paragraph_rank) or 1.0


class TermWeights:
    """Inverse document frequency of terms, read off the BM25 index."""

    def __init__(self, data: IndexData) -> None:
        bm25 = data.bm25
        vocab: dict[str, int] = getattr(bm25, "vocab_dict", {})
        indptr = np.asarray(bm25.scores["indptr"])  # type: ignore[attr-defined]
        n = max(1, len(data.paragraphs))
        self.default = math.log(1 + (n + 0.5) / 0.5)
        self.idf: dict[str, float] = {}
        for term, tid in vocab.items():
            df = int(indptr[tid + 1] - indptr[tid]) if tid + 1 < len(indptr) else 0
            self.idf[term] = math.log(1 + (n - df + 0.5) / (df + 0.5))

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
    row: int  # sentence row
    paragraph: Paragraph
    start: int
    end: int
    score: float


def marker(citation: Citation, *, with_doc: bool) -> str:
    """The inline marker of a citation, e.g. "[para. 50]"."""
    number = f"para. {citation.paragraph}" if citation.numbered_by_source else \
        f"para. {citation.paragraph}, counted in order"
    return f"[{citation.doc_id}, {number}]" if with_doc else f"[{number}]"


def score_sentences(question: str, query_terms: list[str], evidence: Evidence, data: IndexData,
                    idf: TermWeights, weights: Weights = Weights()) -> list[Candidate]:
    """Score every sentence of the retrieved paragraphs; best first."""
    kind = question_type(question)
    scale = weights.total()
    refs = references(question)
    entities = question_entities(question)
    sentences = data.sentences
    out: list[Candidate] = []
    if not evidence.hit_rows:
        return out
    rows = np.asarray(evidence.hit_rows)
    top_score = max((h.score for h in evidence.hits), default=0.0) or 1.0
    fused = {row: h.score / top_score for row, h in zip(evidence.hit_rows, evidence.hits, strict=True)}
    in_hits = np.flatnonzero(np.isin(sentences[:, 0], rows))
    para_terms: dict[int, set[str]] = {}
    para_entities: dict[int, float] = {}
    paragraph_cos: dict[int, float] = {}
    for srow in in_hits:
        prow, start, end = (int(x) for x in sentences[srow])
        para = data.paragraphs[prow]
        text = para.text[start:end]
        if prow not in para_terms:
            context = " ".join(para.section[-1:]) + " " + para.text
            para_terms[prow] = set(terms(context))
            para_entities[prow] = entity_coverage(entities, context)
            paragraph_cos[prow] = data.paragraph_cosine(prow, evidence.query)
        # A sentence that points back ("That process included ...") is read, scored and
        # quoted together with the sentence before it, so the quote makes sense alone.
        if leans_on_previous(text) and srow > 0 and int(sentences[srow - 1][0]) == prow:
            start = int(sentences[srow - 1][1])
            text = para.text[start:end]
        typed = has_answer_of_type(kind, text, question)
        score = (
            weights.sentence_cosine * data.sentence_cosine(int(srow), evidence.query)
            + weights.sentence_coverage * idf.coverage(
                query_terms, set(terms(text + " " + list_context(para.text, start))))
            + weights.paragraph_coverage * idf.coverage(query_terms, para_terms[prow])
            + weights.paragraph_cosine * paragraph_cos[prow]
            + weights.answer_type * typed
            + weights.paragraph_rank * fused[prow]
            + (weights.reference * reference_match(refs, para, start, text) if refs else 0.0)
        ) * (1.0 - weights.missing_entity * (1.0 - para_entities[prow])) \
          * (1.0 - weights.missing_type * (typed == 0.0))
        out.append(Candidate(int(srow), para, start, end, min(1.0, score / scale)))
    out.sort(key=lambda c: -c.score)
    return out


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


_ANAPHOR = re.compile(r"^(That|This|These|Those|They|It|Its|Such|He|She|His|Her|Their|The same|"
                      r"In that regard|Doing so|To that end)\b")


def leans_on_previous(sentence: str) -> bool:
    """Does the sentence open by pointing back ("That process ...", "They ...")?"""
    return bool(_ANAPHOR.match(sentence))


def _near_duplicate(data: IndexData, a: int, b: int, limit: float) -> bool:
    return float(data.sentence_vector(a) @ data.sentence_vector(b)) >= limit


def _covered(c: Candidate, query_terms: set[str]) -> set[str]:
    text = c.paragraph.text
    return query_terms & set(terms(text[c.start:c.end] + " " + list_context(text, c.start)))


def compose_answer(question: str, candidates: list[Candidate], evidence: Evidence, data: IndexData,
                   settings: Settings) -> Answer:
    """Quote the best sentences verbatim with citations, or abstain and say why."""
    with_doc = len(data.manifest.documents) > 1
    docs = data.manifest.documents
    if not candidates:
        return Answer(question=question, text=NO_ANSWER, citations=(), hits=evidence.hits,
                      abstained=True, reason="nothing in the documents matched the question",
                      documents=docs)
    best = candidates[0]
    if best.score < settings.threshold:
        where = f"{best.paragraph.doc_id}, para. {best.paragraph.number}" if with_doc else f"para. {best.paragraph.number}"
        return Answer(
            question=question, text=NO_ANSWER, citations=(), hits=evidence.hits, abstained=True,
            reason=(f"the closest sentence ({where}) has confidence {best.score:.2f}, "
                    f"below the threshold {settings.threshold:.2f}"),
            confidence=best.score, documents=docs,
        )
    chosen = [best]
    wanted = set(terms(question))
    covered = _covered(best, wanted)
    for cand in candidates[1:]:
        if len(chosen) >= settings.max_sentences:
            break
        if cand.score < max(settings.threshold, best.score - settings.margin):
            break
        if any(c.paragraph == cand.paragraph and c.start < cand.end and cand.start < c.end for c in chosen):
            continue  # overlaps a quote already chosen
        if any(_near_duplicate(data, cand.row, c.row, settings.near_duplicate) for c in chosen):
            continue
        adds = _covered(cand, wanted) - covered
        if settings.require_new_terms and not adds:
            continue  # says nothing about the question that the chosen quotes do not
        covered |= adds
        chosen.append(cand)
    citations = tuple(
        Citation(doc_id=c.paragraph.doc_id, paragraph=c.paragraph.number, section=c.paragraph.section,
                 quote=c.paragraph.text[c.start:c.end], start=c.start, end=c.end,
                 score=round(c.score, 4), numbered_by_source=c.paragraph.numbered_by_source)
        for c in chosen
    )
    text = " ".join(f"{c.quote} {marker(c, with_doc=with_doc)}" for c in citations)
    return Answer(question=question, text=text, citations=citations, hits=evidence.hits,
                  abstained=False, confidence=best.score, documents=docs)
