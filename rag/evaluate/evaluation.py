"""Run a question file through the assistant and measure retrieval, answers, grounding, abstention."""

from __future__ import annotations

import logging
import re
import statistics
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from rag.assistant import Assistant, Considered
from rag.cite.grounding import GroundingChecker
from rag.cite.serialize import answer_record
from rag.errors import InputError
from rag.evaluate.questions import read_questions
from rag.evaluate.report import write_report
from rag.evaluate.results import (
    KIND_KS,
    KS,
    AbstentionFigures,
    AnswerFigures,
    Calibration,
    CalibrationBin,
    ConfidenceFigures,
    CurvePoint,
    Figures,
    Floors,
    GroundingFigures,
    IndexFacts,
    KindRecall,
    LatencyFigures,
    QuestionResult,
    Report,
    RetrievalFigures,
    choose_threshold,
    mean_of,
    roc_auc,
)
from rag.text.terms import terms
from rag.types import Answer
from rag.ways_in.batch import error_record

log = logging.getLogger(__name__)


def document_kinds(assistant: Assistant, doc_ids: set[str]) -> dict[str, str]:
    """The kind of each document, read off its structure, whatever its language: "treaty" (cited
    by article), "UPR" (recommendations numbered under a paragraph, or the review in its title),
    "resolution" (a preamble before numbered operative paragraphs, or a /RES/ symbol),
    "unnumbered" (no paragraph numbers of its own: speeches, letters, web pages), else "report"."""
    kinds: dict[str, str] = {}
    for doc in doc_ids:
        info = assistant.documents[doc]
        first, last = assistant.data.doc_rows[doc]
        refs = [p.ref for p in assistant.data.paragraphs[first:last] if p.kind == "para"]
        numbers = [p.number for p in assistant.data.paragraphs[first:last] if p.kind == "para"]
        if any(r.startswith("Art. ") for r in refs):
            kinds[doc] = "treaty"
        elif "Universal Periodic Review" in (info.title or "") or any(re.match(r"para\. \d+\.\d+$", r) for r in refs):
            kinds[doc] = "UPR"
        elif "/RES/" in (info.symbol or "") or (info.numbered and 0 in numbers):
            kinds[doc] = "resolution"
        elif not info.numbered:
            kinds[doc] = "unnumbered"
        else:
            kinds[doc] = "report"
    return kinds


def gold_fields(fields: dict[str, Any]) -> tuple[list[int] | None, list[str]]:
    """`gold_paras` and `answer_keys` of a question row, as lists.

    JSONL gives lists; a CSV cell gives text such as "[4, 9]", "4;9" or "[]". An empty cell
    means no gold was given.

    Raises:
        InputError: the field is there but is not a list of paragraph numbers or of phrases.
    """
    paras = fields.get("gold_paras")
    if isinstance(paras, str):
        text = paras.strip()
        paras = None if not text else [p for p in re.split(r"[\s,;\[\]]+", text) if p]
    if isinstance(paras, int) and not isinstance(paras, bool):
        paras = [paras]
    gold: list[int] | None = None
    if paras is not None:
        bad = InputError(f"gold_paras must be a list of paragraph numbers, got {paras!r}")
        if not isinstance(paras, list):
            raise bad
        try:
            gold = [int(p) for p in paras]
        except (TypeError, ValueError):
            raise bad from None
    keys = fields.get("answer_keys") or []
    if isinstance(keys, str):
        keys = [keys]
    if not isinstance(keys, list) or not all(isinstance(k, (str, int, float)) for k in keys):
        raise InputError(f"answer_keys must be a list of phrases, got {keys!r}")
    return gold, [str(k) for k in keys]


CURVE = tuple(float(t) for t in np.round(np.arange(0.0, 1.0001, 0.01), 2))


def _right_by_threshold(result: QuestionResult, assistant: Assistant, considered: Considered) -> dict[float, bool]:
    """Is the answer composed at each threshold of the curve correct? One retrieval and one
    scoring serve them all: composing is pure and cheap, and below (best - margin) the answer
    does not change with the threshold."""
    if not result.answerable or not considered.candidates:
        return {t: False for t in CURVE}
    best = considered.candidates[0].score
    margin = assistant.settings.margin
    base = result.correct(assistant.compose(considered, threshold=0.0))
    out: dict[float, bool] = {}
    for t in CURVE:
        if t > best:
            out[t] = False
        elif t <= best - margin:
            out[t] = base
        else:
            out[t] = result.correct(assistant.compose(considered, threshold=t))
    return out


def evaluate(assistant: Assistant, questions: str | Path) -> Report:
    """Answer every question of a file once and measure the answers and the whole abstention curve."""
    checker = GroundingChecker(
        assistant.data.paragraphs, assistant.corpus_dir(), {d: i.file for d, i in assistant.documents.items()}
    )
    rows: list[QuestionResult] = []
    failed = 0
    for row in read_questions(questions):
        gold: list[int] | None = None
        keys: list[str] = []
        retrieved: list[tuple[str, int]] = []
        answer: Answer | None = None
        considered: Considered | None = None
        started = time.perf_counter()
        try:
            if row.error is not None or row.question is None:
                raise InputError(row.error or "no question")
            gold, keys = gold_fields(row.fields)
            q = assistant.check_question(row.question)
            vector = assistant.encode_question(q)
            considered = assistant.consider(q, doc_id=row.doc, vector=vector)
            answer = assistant.compose(considered)
            latency = (time.perf_counter() - started) * 1000
            record = answer_record(answer, qid=row.id)
            hits = assistant.evidence(q, vector, terms(q), k=max(KS), doc_id=row.doc).hits
            retrieved = [(h.paragraph.doc_id, h.paragraph.number) for h in hits]
        except InputError as exc:
            latency = (time.perf_counter() - started) * 1000
            record = error_record(row, str(exc))
            failed += 1
        gold_doc = assistant.document_id(str(row.fields.get("gold_doc") or "").strip() or None)
        result = QuestionResult(row.id, row.question, gold, gold_doc, keys, record, latency, retrieved, answer)
        if considered is not None:
            result.best_confidence = considered.candidates[0].score if considered.candidates else 0.0
            result.answered_right = _right_by_threshold(result, assistant, considered)
        result.grounding = [asdict(f) for f in checker.check_record(record)]
        rows.append(result)
    return _measure(rows, assistant, failed)


def reliability(rows: list[QuestionResult], bins: int = 10) -> Calibration:
    """Calibration of the confidence: per bin of the best candidate's confidence, how often the
    answer quoted with no threshold is right (an unanswerable question's answer never is)."""
    asked = [
        r
        for r in rows
        if r.answer is not None and (r.answerable or r.unanswerable) and (r.unanswerable or r.answer_keys)
    ]
    table = []
    ece = 0.0
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        members = [r for r in asked if lo <= r.best_confidence < hi or (b == bins - 1 and r.best_confidence == 1.0)]
        if not members:
            table.append(CalibrationBin((lo, hi), 0, None, None))
            continue
        conf = float(np.mean([r.best_confidence for r in members]))
        right = float(np.mean([r.correct_at(0.0) for r in members]))
        ece += len(members) / len(asked) * abs(conf - right)
        table.append(CalibrationBin((round(lo, 2), round(hi, 2)), len(members), round(conf, 4), round(right, 4)))
    return Calibration(tuple(table), round(ece, 4) if asked else None, len(asked))


def _recall_by_kind(answerable: list[QuestionResult], assistant: Assistant) -> dict[str, KindRecall]:
    """Recall@1/5/20 of the answerable questions, by the kind of the document that answers them."""
    docs = assistant.documents
    only = next(iter(docs)) if len(docs) == 1 else None
    gold = {r.id: r.gold_doc or only for r in answerable}
    kinds = document_kinds(assistant, {d for d in gold.values() if d is not None and d in docs})
    groups: dict[str, list[QuestionResult]] = {}
    for r in answerable:
        groups.setdefault(kinds.get(gold[r.id] or "", "unknown"), []).append(r)
    return {
        kind: KindRecall(len(rs), {k: mean_of([r.recall_at(k) for r in rs]) for k in KIND_KS})
        for kind, rs in sorted(groups.items())
    }


def _measure(rows: list[QuestionResult], assistant: Assistant, failed: int) -> Report:
    ans = [r for r in rows if r.answerable and r.answer is not None]
    una = [r for r in rows if r.unanswerable and r.answer is not None]
    keyed = [r for r in ans if r.answer_keys]
    answered = [r for r in ans if not r.abstained]
    citations = sum(len(r.record.get("citations", [])) for r in rows)
    ungrounded = sum(len(r.grounding) for r in rows)
    latencies = [r.latency_ms for r in rows if r.answer is not None]
    a_conf = [r.best_confidence for r in ans]
    u_conf = [r.best_confidence for r in una]
    curve = [
        CurvePoint(
            threshold=t,
            abstained_unanswerable=float(np.mean([c < t for c in u_conf])) if u_conf else 0.0,
            abstained_answerable=float(np.mean([c < t for c in a_conf])) if a_conf else 0.0,
            correct_cited=float(np.mean([r.correct_at(t) for r in keyed])) if keyed else 0.0,
        )
        for t in CURVE
    ]
    precisions = [p for p in (r.citation_precision() for r in answered) if p is not None]
    manifest = assistant.data.manifest
    figures = Figures(
        questions=len(rows),
        answerable=len(ans),
        unanswerable=len(una),
        failed=failed,
        retrieval=RetrievalFigures(
            recall={k: mean_of([r.recall_at(k) for r in ans]) for k in KS},
            hit={k: mean_of([float(r.recall_at(k) > 0) for r in ans]) for k in KS},
            mrr=mean_of([r.reciprocal_rank() for r in ans]),
        ),
        answers=AnswerFigures(
            key_hit=mean_of([float(r.key_hit()) for r in keyed]),
            correct_cited=mean_of([float(r.correct()) for r in keyed]),
            citation_precision=mean_of(precisions),
            citation_recall=mean_of([r.citation_recall() for r in ans]),
        ),
        retrieval_by_kind=_recall_by_kind(ans, assistant),
        abstention=AbstentionFigures(
            threshold=assistant.threshold,
            abstained_unanswerable=mean_of([float(r.abstained) for r in una]),
            abstained_answerable=mean_of([float(r.abstained) for r in ans]),
            suggested_threshold=choose_threshold(a_conf, u_conf),
        ),
        grounding=GroundingFigures(citations=citations, grounded=citations - ungrounded),
        latency_ms=LatencyFigures(
            median=round(statistics.median(latencies), 1) if latencies else None,
            p95=round(float(np.percentile(latencies, 95)), 1) if latencies else None,
        ),
        calibration=reliability(rows),
        confidence=ConfidenceFigures(
            answerability_auc=roc_auc(a_conf, u_conf),
            answerable_median=round(float(np.median(a_conf)), 4) if a_conf else None,
            unanswerable_median=round(float(np.median(u_conf)), 4) if u_conf else None,
            correct_cited_no_threshold=round(curve[0].correct_cited, 4) if keyed else None,
        ),
        index=IndexFacts(
            model=manifest.build.model,
            documents=len(manifest.documents),
            paragraphs=manifest.paragraphs,
            created=manifest.created,
        ),
        scorer=assistant.scorer.label,
        settings=asdict(assistant.settings),
    )
    return Report(figures=figures, rows=rows, curve=curve)


def evaluate_file(
    assistant: Assistant, questions: str | Path, out: str | Path | None, floors: dict[str, float | None] | None = None
) -> Report:
    """Evaluate and, if `out` is given, write report.json, report.html and answers.jsonl there.
    `floors` (the keyword arguments of `Report.gate`) are checked and their outcome recorded in
    the report (`figures.floors`)."""
    report = evaluate(assistant, questions)
    asked = {k: v for k, v in (floors or {}).items() if v is not None}
    if asked:
        report.figures.floors = Floors(asked, report.gate(**asked))
    if out is not None:
        out = Path(out)
        report.figures.out = str(out)
        write_report(report, out)
    return report
