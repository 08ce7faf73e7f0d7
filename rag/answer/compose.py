"""Retrieved paragraphs -> an Answer of verbatim, cited sentences, or an abstention."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace

from rag.answer.features import Candidate, TermWeights, candidate_features, list_context
from rag.answer.listing import ListBlock, asks_for_all, list_block
from rag.answer.qtypes import asked_count, items_in
from rag.answer.scorer import Scorer
from rag.cite.citations import label, marker, paragraph_name, quote_pages
from rag.index import IndexData
from rag.retrieve.retriever import Evidence
from rag.settings import Settings
from rag.text.terms import terms
from rag.types import Answer, Citation, Paragraph

log = logging.getLogger(__name__)

NO_ANSWER = "The documents do not answer this question."
#: The most sentences an answer quotes for a question that asks for several things.
MAX_LISTED = 6
#: The most items of one enumeration quoted whole (a lead-in with its items); of a longer one, the
#: items the question asks for, or the best scored.
MAX_ITEMS = 12


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


class _Quotable:
    """The candidates of one paragraph, found by where a line starts or ends (one pass over the
    candidates, then a lookup per line: a list of thousands of lines costs no more than its
    sentences' scoring)."""

    def __init__(self, candidates: Sequence[Candidate], paragraph: Paragraph) -> None:
        self.text = paragraph.text
        self.own = [o for o in candidates if o.paragraph is paragraph or o.paragraph == paragraph]  # best first
        self.starts: dict[int, Candidate] = {}
        self.ends: dict[int, Candidate] = {}
        for o in self.own:
            self.starts.setdefault(o.start, o)
            self.ends.setdefault(o.end, o)

    def at(self, span: tuple[int, int], *, end: bool = False) -> Candidate | None:
        """The best scored candidate that holds the first word (or, with end, the last character)
        of a line."""
        start, stop = span
        line = self.text[start:stop]
        if end:
            position = start + len(line.rstrip()) - 1
            found = self.ends.get(position + 1)
        else:
            position = start + len(line) - len(line.lstrip())
            found = self.starts.get(position)
        if found is not None:
            return found
        return next((o for o in self.own if o.start <= position < o.end), None)

    def whole_lines(self, spans: Sequence[tuple[int, int]]) -> list[Candidate]:
        """A quote for each line: the candidate at its first word, stretched to the line's end (an
        item of two sentences is quoted whole); a quote over two lines counts once."""
        out: list[Candidate] = []
        seen: set[int] = set()
        for span in spans:
            found = self.at(span)
            if found is not None and found.start not in seen:
                seen.add(found.start)
                line_end = span[0] + len(self.text[span[0] : span[1]].rstrip())
                out.append(replace(found, end=max(found.end, line_end)))
        return out


def _with_lists(
    chosen: list[Candidate], candidates: Sequence[Candidate], question: str, count: int, settings: Settings
) -> list[Candidate]:
    """The chosen quotes with each enumeration they touch made whole, in document order: a quoted
    lead-in ("Each State Party shall ensure that ...:"), or an item when the question asks for
    several things, comes with its lead-in and every item, up to MAX_ITEMS (or the number asked
    for; past that, the best scored, with those already chosen). An item comes with the lines of a
    list nested under it. An item quoted for a question that wants one thing stays as it is:
    the best sentence is quoted first. A lead-in chosen only as a further sentence, for a question
    that wants one thing, comes with its best item only."""
    several = count >= 2 or asks_for_all(question)
    out: list[Candidate] = []
    blocks: list[tuple[Candidate, ListBlock]] = []
    for k, c in enumerate(chosen):
        if any(_same(c, o) for o in out) or any(o.paragraph == c.paragraph and c.start in b for o, b in blocks):
            continue
        block = list_block(c.paragraph.text, c.start)
        quotable = _Quotable(candidates, c.paragraph) if block else None
        lead = quotable.at(block.lead, end=True) if block and quotable else None
        if block is None or quotable is None or lead is None:
            out.append(c)
            continue
        items = [(found, i) for i, span in enumerate(block.items) for found in quotable.whole_lines([span])]
        picked = [(found, i) for found, i in items if any(_same(found, o) for o in chosen)]
        # A lead-in that is only a further sentence for a question that wants one thing comes
        # with its best item (or those chosen already), not with a whole list burying the answer.
        further = bool(k) and not several and _same(c, lead) and bool(items)
        whole = (several or _same(c, lead)) and not further
        if further:
            picked = picked or [max(items, key=lambda fi: fi[0].score)]
        elif whole:
            limit = count if count >= 2 else MAX_ITEMS
            if len(items) <= limit:
                picked = items
            else:  # the best scored, with those already chosen
                best = sorted(items, key=lambda fi: -fi[0].score)[: count if count >= 2 else settings.max_sentences]
                picked = [fi for fi in items if fi in best or fi in picked]
        members = [found for found, _ in picked]
        for _, i in picked:
            members += quotable.whole_lines(block.nested[i])
        if whole or further:  # the list in the document's order
            members = sorted([lead] + [m for m in members if not _same(m, lead)], key=lambda m: m.start)
        out.extend(members)
        blocks.append((c, block))
    return out


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
    # Each part of a compound question ("..., and when did it enter into force?") claims a sentence
    # of its own: its best one that no part before it claimed, within list_margin of its best and
    # above the threshold (quoted unless the answer holds it already). Two parts whose best is the
    # same sentence ("... adopted on 7 July 2017" for "when adopted" and for "when in force") do
    # not both rest on it: the second takes its next best.
    claimed: list[Candidate] = []
    for part in parts:
        if not part:
            continue
        floor = max(threshold, part[0].score - settings.list_margin)
        pick = next((p for p in part if p.score >= floor and not any(_same(p, c) for c in claimed)), None)
        if pick is None:
            continue
        claimed.append(pick)
        if any(_same(pick, c) for c in chosen):
            continue
        if not any(_near_duplicate(data, pick.row, c.row, settings.near_duplicate) for c in chosen):
            chosen.append(pick)
    chosen = _with_lists(chosen, candidates, question, count, settings)
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
