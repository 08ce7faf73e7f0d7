"""Run a question file through the assistant and measure retrieval, answers, grounding, abstention."""

from __future__ import annotations

import json
import logging
import re
import statistics
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .assistant import Assistant, Considered
from .batch import error_record
from .errors import InputError
from .grounding import GroundingChecker, normalise
from .questions import read_questions
from .serialize import answer_record
from .terms import terms
from .types import Answer

log = logging.getLogger(__name__)

KS = (1, 3, 5, 10, 20)


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


@dataclass
class QuestionResult:
    """One question: its gold fields, its answer and what was measured on it."""

    id: str
    question: str | None
    gold_paras: list[int] | None  # None: no gold given; []: the documents do not answer it
    gold_doc: str | None
    answer_keys: list[str]
    record: dict[str, Any]  # the answer as `rag batch` writes it (or an error record)
    latency_ms: float
    retrieved: list[tuple[str, int]]  # top 10 paragraphs, for recall@k
    answer: Answer | None = None  # None when the question could not be asked
    best_confidence: float = 0.0  # the best candidate's confidence: what any threshold is compared with
    answered_right: dict[float, bool] = field(default_factory=dict)  # threshold -> correct and cited
    grounding: list[dict[str, Any]] = field(default_factory=list)

    def correct_at(self, threshold: float) -> bool:
        """Is the answer composed at this threshold correct, with a gold citation?"""
        return self.answered_right.get(round(threshold, 2), False)

    def is_gold(self, doc: str, para: int) -> bool:
        return bool(self.gold_paras) and para in (self.gold_paras or []) and (self.gold_doc in (None, doc))

    @property
    def answerable(self) -> bool:
        return bool(self.gold_paras)

    @property
    def unanswerable(self) -> bool:
        return self.gold_paras is not None and not self.gold_paras

    @property
    def abstained(self) -> bool:
        return self.answer is None or self.answer.abstained

    @property
    def confidence(self) -> float:
        return self.answer.confidence if self.answer is not None else 0.0

    def recall_at(self, k: int) -> float:
        gold = set(self.gold_paras or [])
        found = {p for d, p in self.retrieved[:k] if self.is_gold(d, p)}
        return len(found & gold) / len(gold) if gold else 0.0

    def reciprocal_rank(self) -> float:
        for rank, (d, p) in enumerate(self.retrieved, start=1):
            if self.is_gold(d, p):
                return 1.0 / rank
        return 0.0

    def cited(self, answer: Answer | None = None) -> list[tuple[str, int]]:
        answer = answer or self.answer
        # A footnote is no paragraph: citing one never counts as citing a gold paragraph.
        return [(c.doc_id, c.paragraph) for c in answer.citations if c.kind == "para"] if answer is not None else []

    def key_hit(self, answer: Answer | None = None) -> bool:
        answer = answer or self.answer
        if answer is None or answer.abstained or not self.answer_keys:
            return False
        text = normalise(answer.text).lower()
        return all(normalise(k).lower() in text for k in self.answer_keys)

    def cites_gold(self, answer: Answer | None = None) -> bool:
        return any(self.is_gold(d, p) for d, p in self.cited(answer))

    def citation_precision(self) -> float | None:
        cited = self.cited()
        return sum(self.is_gold(d, p) for d, p in cited) / len(cited) if cited else None

    def citation_recall(self) -> float:
        gold = set(self.gold_paras or [])
        return len({p for d, p in self.cited() if self.is_gold(d, p)}) / len(gold) if gold else 0.0

    def correct(self, answer: Answer | None = None) -> bool:
        """Answered with every answer key and cited to a gold paragraph."""
        return self.key_hit(answer) and self.cites_gold(answer)


def roc_auc(positive: list[float], negative: list[float]) -> float | None:
    """How often a positive scores above a negative (ties count half): 1.0 separates them fully."""
    if not positive or not negative:
        return None
    p, n = np.asarray(positive, dtype=np.float64)[:, None], np.asarray(negative, dtype=np.float64)[None, :]
    return round(float((p > n).mean() + 0.5 * (p == n).mean()), 4)


def _mean(values: list[float]) -> float | None:
    return round(float(np.mean(values)), 4) if values else None


def choose_threshold(answerable: list[float], unanswerable: list[float], *, max_wrong: float = 0.10) -> float | None:
    """The threshold that best separates the two score sets with at most `max_wrong` answerable abstentions."""
    if not answerable or not unanswerable:
        return None
    a, u = np.asarray(answerable), np.asarray(unanswerable)
    best_t, best = 0.0, -1.0
    for t in np.round(np.arange(0.0, 1.0001, 0.005), 3):
        wrong = float((a < t).mean())
        if wrong > max_wrong:
            break
        gain = float((u < t).mean()) - wrong
        if gain > best + 1e-9:
            best_t, best = float(t), gain
    return best_t


@dataclass
class Report:
    """All figures of an eval run, and the rows they came from."""

    figures: dict[str, Any]
    rows: list[QuestionResult]
    curve: list[dict[str, float]]

    def summary(self) -> str:
        f = self.figures
        r = f["retrieval"]
        a = f["answers"]
        ab = f["abstention"]
        g = f["grounding"]
        lines = [
            f"questions: {f['questions']} ({f['answerable']} answerable, {f['unanswerable']} unanswerable, "
            f"{f['failed']} failed)",
            "retrieval: " + ", ".join(f"recall@{k} {r[f'recall@{k}']}" for k in KS) + f", MRR {r['mrr']}",
            "retrieval by document kind: "
            + "; ".join(
                f"{kind} ({v['questions']}) recall@1/5/20 {v['recall@1']} / {v['recall@5']} / {v['recall@20']}"
                for kind, v in f.get("retrieval_by_kind", {}).items()
            ),
            f"answers: key hit {a['key_hit']}, answered correctly with a gold citation {a['correct_cited']}, "
            f"citation precision {a['citation_precision']}, citation recall {a['citation_recall']}",
            f"abstention (threshold {ab['threshold']}): on unanswerable {ab['abstained_unanswerable']}, "
            f"wrongly on answerable {ab['abstained_answerable']}; suggested threshold {ab['suggested_threshold']}",
            f"grounding: {g['grounded']}/{g['citations']} quotes found where cited ({g['rate']:.2%})",
            f"latency: median {f['latency_ms']['median']} ms, p95 {f['latency_ms']['p95']} ms",
        ]
        if f.get("out"):
            lines.append(f"report: {f['out']}/report.html")
        return "\n".join(lines)

    def gate(
        self,
        *,
        min_recall5: float | None = None,
        min_accuracy: float | None = None,
        min_abstention: float | None = None,
        max_wrong_abstention: float | None = None,
    ) -> list[str]:
        """The reasons this run fails its floors (grounding must be 100 %)."""
        f = self.figures
        out = []
        if f["grounding"]["rate"] < 1.0:
            out.append(f"grounding is {f['grounding']['rate']:.2%}, must be 100%")
        r5 = f["retrieval"]["recall@5"]
        if min_recall5 is not None and (r5 is None or r5 < min_recall5):
            out.append(f"recall@5 {r5} is below the floor {min_recall5}")
        acc = f["answers"]["correct_cited"]
        if min_accuracy is not None and (acc is None or acc < min_accuracy):
            out.append(f"answered-and-cited rate {acc} is below the floor {min_accuracy}")
        ab = f["abstention"]
        if min_abstention is not None and ab["abstained_unanswerable"] is None:
            out.append("--min-abstention needs questions the documents do not answer (gold_paras: [])")
        elif min_abstention is not None and ab["abstained_unanswerable"] < min_abstention:
            out.append(
                f"abstention on unanswerable questions {ab['abstained_unanswerable']} is below "
                f"the floor {min_abstention}"
            )
        if max_wrong_abstention is not None and (ab["abstained_answerable"] or 0.0) > max_wrong_abstention:
            out.append(
                f"abstention on answerable questions {ab['abstained_answerable']} is above "
                f"the ceiling {max_wrong_abstention}"
            )
        return out


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
            hits = assistant.retriever.search(
                vector, terms(q), k=max(KS), doc_id=assistant.document_id(row.doc), question=q
            ).hits
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


def reliability(rows: list[QuestionResult], bins: int = 10) -> dict[str, Any]:
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
            table.append({"bin": [lo, hi], "questions": 0, "confidence": None, "right": None})
            continue
        conf = float(np.mean([r.best_confidence for r in members]))
        right = float(np.mean([r.correct_at(0.0) for r in members]))
        ece += len(members) / len(asked) * abs(conf - right)
        table.append(
            {
                "bin": [round(lo, 2), round(hi, 2)],
                "questions": len(members),
                "confidence": round(conf, 4),
                "right": round(right, 4),
            }
        )
    return {"bins": table, "expected_calibration_error": round(ece, 4) if asked else None, "questions": len(asked)}


def _recall_by_kind(answerable: list[QuestionResult], assistant: Assistant) -> dict[str, dict[str, Any]]:
    """Recall@1/5/20 of the answerable questions, by the kind of the document that answers them."""
    docs = assistant.documents
    only = next(iter(docs)) if len(docs) == 1 else None
    gold = {r.id: r.gold_doc or only for r in answerable}
    kinds = document_kinds(assistant, {d for d in gold.values() if d in docs})
    groups: dict[str, list[QuestionResult]] = {}
    for r in answerable:
        groups.setdefault(kinds.get(gold[r.id] or "", "unknown"), []).append(r)
    return {
        kind: {"questions": len(rs), **{f"recall@{k}": _mean([r.recall_at(k) for r in rs]) for k in (1, 5, 20)}}
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
    curve = []
    for t in CURVE:
        curve.append(
            {
                "threshold": t,
                "abstained_unanswerable": float(np.mean([c < t for c in u_conf])) if u_conf else 0.0,
                "abstained_answerable": float(np.mean([c < t for c in a_conf])) if a_conf else 0.0,
                "correct_cited": float(np.mean([r.correct_at(t) for r in keyed])) if keyed else 0.0,
            }
        )
    precisions = [p for p in (r.citation_precision() for r in answered) if p is not None]
    manifest = assistant.data.manifest
    figures = {
        "questions": len(rows),
        "answerable": len(ans),
        "unanswerable": len(una),
        "failed": failed,
        "retrieval": {
            **{f"recall@{k}": _mean([r.recall_at(k) for r in ans]) for k in KS},
            **{f"hit@{k}": _mean([float(r.recall_at(k) > 0) for r in ans]) for k in KS},
            "mrr": _mean([r.reciprocal_rank() for r in ans]),
        },
        "answers": {
            "key_hit": _mean([float(r.key_hit()) for r in keyed]),
            "correct_cited": _mean([float(r.correct()) for r in keyed]),
            "citation_precision": _mean(precisions),
            "citation_recall": _mean([r.citation_recall() for r in ans]),
        },
        "retrieval_by_kind": _recall_by_kind(ans, assistant),
        "abstention": {
            "threshold": assistant.threshold,
            "abstained_unanswerable": _mean([float(r.abstained) for r in una]),
            "abstained_answerable": _mean([float(r.abstained) for r in ans]),
            "suggested_threshold": choose_threshold(a_conf, u_conf),
        },
        "grounding": {
            "citations": citations,
            "grounded": citations - ungrounded,
            "rate": 1.0 if citations == 0 else (citations - ungrounded) / citations,
        },
        "latency_ms": {
            "median": round(statistics.median(latencies), 1) if latencies else None,
            "p95": round(float(np.percentile(latencies, 95)), 1) if latencies else None,
        },
        "calibration": reliability(rows),
        # Does the confidence tell answerable from unanswerable questions, whatever the threshold?
        "confidence": {
            "answerability_auc": roc_auc(a_conf, u_conf),
            "answerable_median": round(float(np.median(a_conf)), 4) if a_conf else None,
            "unanswerable_median": round(float(np.median(u_conf)), 4) if u_conf else None,
            "correct_cited_no_threshold": round(curve[0]["correct_cited"], 4) if keyed else None,
        },
        "index": {
            "model": manifest.model,
            "documents": len(manifest.documents),
            "paragraphs": manifest.paragraphs,
            "created": manifest.created,
        },
        "scorer": assistant.scorer.label,
        "settings": asdict(assistant.settings),
    }
    return Report(figures=figures, rows=rows, curve=curve)


def evaluate_file(
    assistant: Assistant, questions: str | Path, out: str | Path | None, floors: dict[str, float | None] | None = None
) -> Report:
    """Evaluate and, if `out` is given, write report.json, report.html and answers.jsonl there.
    `floors` (the keyword arguments of `Report.gate`) are checked and their outcome recorded in
    the report (`figures["floors"]`)."""
    report = evaluate(assistant, questions)
    asked = {k: v for k, v in (floors or {}).items() if v is not None}
    if asked:
        report.figures["floors"] = {"asked": asked, "failed": report.gate(**asked)}
    if out is not None:
        from .report import write_report

        out = Path(out)
        report.figures["out"] = str(out)
        write_report(report, out)
    return report


def row_json(r: QuestionResult) -> dict[str, Any]:
    """A per-question row of report.json."""
    return {
        "id": r.id,
        "question": r.question,
        "gold_paras": r.gold_paras,
        "gold_doc": r.gold_doc,
        "answer_keys": r.answer_keys,
        "abstained": r.abstained,
        "confidence": r.confidence,
        "cited": [p for _, p in r.cited()],
        "retrieved": [p for _, p in r.retrieved],
        "key_hit": r.key_hit(),
        "correct": r.correct() if r.answerable else None,
        "recall@5": r.recall_at(5) if r.answerable else None,
        "latency_ms": round(r.latency_ms, 2),
        "grounding_failures": r.grounding,
        "answer": r.record.get("answer"),
        "error": r.record.get("error"),
    }


def report_json(report: Report) -> str:
    return json.dumps(
        {"figures": report.figures, "curve": report.curve, "rows": [row_json(r) for r in report.rows]},
        indent=1,
        ensure_ascii=False,
    )
