"""Retrieved paragraphs -> an Answer of verbatim, cited sentences, or an abstention."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from rag.answer.features import Candidate, TermWeights, candidate_features, list_context
from rag.answer.qtypes import asked_count, items_in
from rag.answer.scorer import Scorer
from rag.cite.citations import label, marker, paragraph_name, quote_pages
from rag.index import IndexData
from rag.retrieve.retriever import Evidence
from rag.settings import Settings
from rag.text.terms import terms
from rag.types import Answer, Citation

log = logging.getLogger(__name__)

NO_ANSWER = "The documents do not answer this question."
#: The most sentences an answer quotes for a question that asks for several things.
MAX_LISTED = 6


def score_sentences(
    question: str, query_terms: list[str], evidence: Evidence, data: IndexData, idf: TermWeights, scorer: Scorer
) -> list[Candidate]:
    """Every sentence of the retrieved paragraphs with its confidence; best first."""
    found = candidate_features(question, query_terms, evidence, data, idf)
    if not found.candidates:
        return []
    return scorer.rank(question, found, data)


def _near_duplicate(data: IndexData, a: int, b: int, limit: float) -> bool:
    return float(data.sentence_vector(a) @ data.sentence_vector(b)) >= limit


def _covered(c: Candidate, query_terms: set[str]) -> set[str]:
    text = c.paragraph.text
    return query_terms & set(terms(text[c.start : c.end] + " " + list_context(text, c.start)))


def _same(a: Candidate, b: Candidate) -> bool:
    """Do two candidates quote overlapping text of one paragraph?"""
    return a.paragraph == b.paragraph and a.start < b.end and b.start < a.end


def compose_answer(
    question: str,
    candidates: list[Candidate],
    evidence: Evidence,
    parts: Sequence[Sequence[Candidate]],
    data: IndexData,
    settings: Settings,
    threshold: float,
) -> Answer:
    """Quote the best sentences verbatim with citations, or abstain and say why (below `threshold`)."""
    docs = data.manifest.documents

    def abstain(reason: str, confidence: float = 0.0) -> Answer:
        return Answer(
            question=question,
            text=NO_ANSWER,
            citations=(),
            hits=evidence.hits,
            abstained=True,
            reason=reason,
            confidence=confidence,
            documents=docs,
        )

    if not candidates:
        return abstain("nothing in the documents matched the question")
    best = candidates[0]
    if best.score < threshold:
        where = paragraph_name(best.paragraph, docs)
        return abstain(
            f"the closest sentence ({where}) has confidence {best.score:.2f}, below the threshold {threshold:.2f}",
            best.score,
        )
    chosen = [best]
    wanted = set(terms(question))
    covered = _covered(best, wanted)
    # A question that says how many things it wants ("Which three States ...?") is answered by as
    # many sentences as it takes to name them, when the best sentence does not list them all.
    count = asked_count(question) or 0
    listed = items_in(best.paragraph.text[best.start : best.end])
    for cand in candidates[1:]:
        missing = listed < count  # the quotes so far name fewer things than the question asks for
        most = max(settings.max_sentences, min(count, MAX_LISTED)) if missing else settings.max_sentences
        margin = max(settings.margin, settings.list_margin) if missing else settings.margin
        if len(chosen) >= most or cand.score < max(threshold, best.score - margin):
            break
        if any(_same(cand, c) for c in chosen):
            continue  # overlaps a quote already chosen
        if any(_near_duplicate(data, cand.row, c.row, settings.near_duplicate) for c in chosen):
            continue
        adds = _covered(cand, wanted) - covered
        if settings.require_new_terms and not adds:
            continue  # says nothing about the question that the chosen quotes do not
        covered |= adds
        chosen.append(cand)
        listed += items_in(cand.paragraph.text[cand.start : cand.end])
    # Each part of a compound question ("..., and when did it enter into force?") gets its own
    # best sentence too, when the quotes so far do not hold it and it clears the threshold.
    for part in parts:
        first = part[0] if part else None
        if first is None or first.score < threshold or any(_same(first, c) for c in chosen):
            continue
        if not any(_near_duplicate(data, first.row, c.row, settings.near_duplicate) for c in chosen):
            chosen.append(first)
    citations = tuple(
        Citation(
            doc_id=c.paragraph.doc_id,
            paragraph=c.paragraph.number,
            section=c.paragraph.section,
            quote=c.paragraph.text[c.start : c.end],
            start=c.start,
            end=c.end,
            score=round(c.score, 4),
            numbered_by_source=c.paragraph.numbered_by_source,
            label=label(c.paragraph),
            pages=quote_pages(c.paragraph, c.start, c.end),
            kind=c.paragraph.kind,
        )
        for c in chosen
    )
    text = " ".join(f"{c.quote} {marker(c, docs)}" for c in citations)
    return Answer(
        question=question,
        text=text,
        citations=citations,
        hits=evidence.hits,
        abstained=False,
        confidence=best.score,
        documents=docs,
    )
