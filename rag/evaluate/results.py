"""What an eval run measured: one row per question, and the figures over them, as dataclasses.

`Report.to_json()` is report.json's shape (the figures under the keys `rag eval` has always
written); the page of the report and every benchmark read the dataclasses' fields.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from rag.cite.grounding import normalise
from rag.types import Answer

#: The k of recall@k and hit@k.
KS = (1, 3, 5, 10, 20)
#: The k of recall by document kind.
KIND_KS = (1, 5, 20)


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


def mean_of(values: list[float]) -> float | None:
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


@dataclass(frozen=True)
class RetrievalFigures:
    """Recall@k and hit@k (the gold paragraph among the first k) for each k of KS, and MRR."""

    recall: dict[int, float | None]
    hit: dict[int, float | None]
    mrr: float | None

    def to_json(self) -> dict[str, Any]:
        return {
            **{f"recall@{k}": v for k, v in self.recall.items()},
            **{f"hit@{k}": v for k, v in self.hit.items()},
            "mrr": self.mrr,
        }


@dataclass(frozen=True)
class KindRecall:
    """Recall@1/5/20 of the questions answered in documents of one kind."""

    questions: int
    recall: dict[int, float | None]

    def to_json(self) -> dict[str, Any]:
        return {"questions": self.questions, **{f"recall@{k}": v for k, v in self.recall.items()}}


@dataclass(frozen=True)
class AnswerFigures:
    key_hit: float | None  # the answer holds every answer key
    correct_cited: float | None  # ... and cites a gold paragraph
    citation_precision: float | None
    citation_recall: float | None


@dataclass(frozen=True)
class AbstentionFigures:
    threshold: float | None
    abstained_unanswerable: float | None
    abstained_answerable: float | None
    suggested_threshold: float | None


@dataclass(frozen=True)
class GroundingFigures:
    citations: int
    grounded: int  # quotes found verbatim where they are cited

    @property
    def rate(self) -> float:
        return 1.0 if self.citations == 0 else self.grounded / self.citations

    def to_json(self) -> dict[str, Any]:
        return {"citations": self.citations, "grounded": self.grounded, "rate": self.rate}


@dataclass(frozen=True)
class LatencyFigures:
    median: float | None
    p95: float | None


@dataclass(frozen=True)
class CalibrationBin:
    bin: tuple[float, float]
    questions: int
    confidence: float | None  # mean confidence of its questions
    right: float | None  # how often their answer is right

    def to_json(self) -> dict[str, Any]:
        return {"bin": list(self.bin), "questions": self.questions, "confidence": self.confidence, "right": self.right}


@dataclass(frozen=True)
class Calibration:
    bins: tuple[CalibrationBin, ...]
    expected_calibration_error: float | None
    questions: int

    def to_json(self) -> dict[str, Any]:
        return {
            "bins": [b.to_json() for b in self.bins],
            "expected_calibration_error": self.expected_calibration_error,
            "questions": self.questions,
        }


@dataclass(frozen=True)
class ConfidenceFigures:
    """Does the confidence tell answerable from unanswerable questions, whatever the threshold?"""

    answerability_auc: float | None
    answerable_median: float | None
    unanswerable_median: float | None
    correct_cited_no_threshold: float | None


@dataclass(frozen=True)
class IndexFacts:
    model: str
    documents: int
    paragraphs: int
    created: str


@dataclass(frozen=True)
class Floors:
    """The floors a run was asked to meet (`Report.gate`'s arguments) and the reasons it failed."""

    asked: dict[str, float]
    failed: list[str]


@dataclass(frozen=True)
class CurvePoint:
    """At one threshold: abstentions on unanswerable and answerable questions, and correct answers."""

    threshold: float
    abstained_unanswerable: float
    abstained_answerable: float
    correct_cited: float


@dataclass
class Figures:
    """All figures of an eval run."""

    questions: int
    answerable: int
    unanswerable: int
    failed: int
    retrieval: RetrievalFigures
    answers: AnswerFigures
    retrieval_by_kind: dict[str, KindRecall]
    abstention: AbstentionFigures
    grounding: GroundingFigures
    latency_ms: LatencyFigures
    calibration: Calibration
    confidence: ConfidenceFigures
    index: IndexFacts
    scorer: str
    settings: dict[str, Any]
    floors: Floors | None = None
    out: str | None = None  # the folder the report was written to

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "questions": self.questions,
            "answerable": self.answerable,
            "unanswerable": self.unanswerable,
            "failed": self.failed,
            "retrieval": self.retrieval.to_json(),
            "answers": asdict(self.answers),
            "retrieval_by_kind": {k: v.to_json() for k, v in self.retrieval_by_kind.items()},
            "abstention": asdict(self.abstention),
            "grounding": self.grounding.to_json(),
            "latency_ms": asdict(self.latency_ms),
            "calibration": self.calibration.to_json(),
            "confidence": asdict(self.confidence),
            "index": asdict(self.index),
            "scorer": self.scorer,
            "settings": self.settings,
        }
        if self.floors is not None:
            out["floors"] = asdict(self.floors)
        if self.out is not None:
            out["out"] = self.out
        return out


@dataclass
class Report:
    """All figures of an eval run, the rows they came from, and the abstention curve."""

    figures: Figures
    rows: list[QuestionResult]
    curve: list[CurvePoint]

    def summary(self) -> str:
        f = self.figures
        r, a, ab, g = f.retrieval, f.answers, f.abstention, f.grounding
        lines = [
            f"questions: {f.questions} ({f.answerable} answerable, {f.unanswerable} unanswerable, {f.failed} failed)",
            "retrieval: " + ", ".join(f"recall@{k} {r.recall[k]}" for k in KS) + f", MRR {r.mrr}",
            "retrieval by document kind: "
            + "; ".join(
                f"{kind} ({v.questions}) recall@1/5/20 " + " / ".join(str(v.recall[k]) for k in KIND_KS)
                for kind, v in f.retrieval_by_kind.items()
            ),
            f"answers: key hit {a.key_hit}, answered correctly with a gold citation {a.correct_cited}, "
            f"citation precision {a.citation_precision}, citation recall {a.citation_recall}",
            f"abstention (threshold {ab.threshold}): on unanswerable {ab.abstained_unanswerable}, "
            f"wrongly on answerable {ab.abstained_answerable}; suggested threshold {ab.suggested_threshold}",
            f"grounding: {g.grounded}/{g.citations} quotes found where cited ({g.rate:.2%})",
            f"latency: median {f.latency_ms.median} ms, p95 {f.latency_ms.p95} ms",
        ]
        if f.out:
            lines.append(f"report: {f.out}/report.html")
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
        if f.grounding.rate < 1.0:
            out.append(f"grounding is {f.grounding.rate:.2%}, must be 100%")
        r5 = f.retrieval.recall[5]
        if min_recall5 is not None and (r5 is None or r5 < min_recall5):
            out.append(f"recall@5 {r5} is below the floor {min_recall5}")
        acc = f.answers.correct_cited
        if min_accuracy is not None and (acc is None or acc < min_accuracy):
            out.append(f"answered-and-cited rate {acc} is below the floor {min_accuracy}")
        ab = f.abstention
        if min_abstention is not None and ab.abstained_unanswerable is None:
            out.append("--min-abstention needs questions the documents do not answer (gold_paras: [])")
        elif min_abstention is not None and (ab.abstained_unanswerable or 0.0) < min_abstention:
            out.append(
                f"abstention on unanswerable questions {ab.abstained_unanswerable} is below the floor {min_abstention}"
            )
        if max_wrong_abstention is not None and (ab.abstained_answerable or 0.0) > max_wrong_abstention:
            out.append(
                f"abstention on answerable questions {ab.abstained_answerable} is above "
                f"the ceiling {max_wrong_abstention}"
            )
        return out

    def to_json(self) -> str:
        """report.json: the figures, the curve and one row per question."""
        return json.dumps(
            {
                "figures": self.figures.to_json(),
                "curve": [asdict(c) for c in self.curve],
                "rows": [row_json(r) for r in self.rows],
            },
            indent=1,
            ensure_ascii=False,
        )


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
