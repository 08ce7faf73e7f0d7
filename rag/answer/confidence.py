"""One calibrated confidence for an answer: the answer selector's reading joined to the retrieval
and word-overlap evidence.

The hand scorer (`rag.answer.scorer.HandScorer`) ranks every sentence of the retrieved paragraphs: on
every question set measured it puts a right sentence first more often than the selector does
(eval/SELECTOR.md), so it keeps the order. The best few are read by the answer selector
(`rag.answer.selector`), and a logistic model over the best sentence's feature row, its hand score and the
selector's readings (fitted by `bench/fit_confidence.py` on the calibration split of the public
sets and of the in-domain questions, one row per question: was the best sentence right?) gives
the probability that the answer is right. So a confidence of 0.7 means right about 70 % of the
time; the other sentences keep their distance below the best one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np

from rag.answer.features import FEATURES, Candidate, CandidateFeatures, weights_by_name
from rag.answer.scorer import HandScorer
from rag.answer.selector import FIX, AnswerSelector, SelectorInput, candidate_heading
from rag.errors import ModelProblem, SelectorProblem
from rag.index import IndexData

CONFIDENCE_FILE = "confidence.json"
#: Columns the fused model reads, after the best sentence's feature row: its hand score, the
#: selector's logit for it, the best logit among the sentences read, and the difference.
EXTRA = ("hand_score", "selector_logit", "selector_best", "selector_gap")
COLUMNS = (*FEATURES, *EXTRA)


def selector_inputs(candidates: list[Candidate], data: IndexData) -> list[SelectorInput]:
    """What the selector reads of each candidate: its text, the sentence before, its heading."""
    out = []
    for c in candidates:
        text = c.paragraph.text
        previous = ""
        sentences = data.sentences
        paragraph_row = int(sentences[c.row][0])
        row = c.row - 1
        while row >= 0 and int(sentences[row][0]) == paragraph_row:
            s, e = int(sentences[row][1]), int(sentences[row][2])
            if e <= c.start:  # the sentence before the candidate (which may include its own lead-in)
                previous = text[s:e]
                break
            row -= 1
        info = data.manifest.documents.get(c.paragraph.doc_id)
        heading = candidate_heading(c.paragraph.section, info.title if info else None)
        out.append(SelectorInput(text[c.start : c.end], previous, heading))
    return out


@dataclass(frozen=True)
class ConfidenceModel:
    """sigmoid(coef . x + intercept): a logistic model fitted on one row per question, so its
    output is already the share of answers that were right. Subclasses read other columns
    (`rag.answer.reader.ReaderModel`)."""

    coef: np.ndarray
    intercept: float
    threshold: float = 0.5
    about: dict = field(default_factory=dict, compare=False)

    columns: ClassVar[tuple[str, ...]] = COLUMNS  # what each coefficient weighs
    owner: ClassVar[str] = "the answer selector's"  # how errors name the file
    refit: ClassVar[str] = "bench/fit_confidence.py"

    def logit(self, x: np.ndarray) -> np.ndarray:
        return x.astype(np.float64) @ self.coef + self.intercept

    def probability(self, x: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-np.clip(self.logit(x), -30.0, 30.0)))

    def extra(self) -> dict[str, Any]:
        """Fields a subclass adds to the file."""
        return {}

    def to_json(self) -> str:
        return json.dumps(
            {
                "columns": list(self.columns),
                "coef": [round(float(c), 6) for c in self.coef],
                "intercept": round(float(self.intercept), 6),
                "threshold": self.threshold,
                **self.extra(),
                "about": self.about,
            },
            indent=1,
        )

    @classmethod
    def extra_from(cls, raw: dict[str, Any]) -> dict[str, Any]:
        """A subclass's own fields, read from its file."""
        return {}

    @classmethod
    def load(cls, path: Path) -> Self:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            names, coef = list(raw["columns"]), list(raw["coef"])
            intercept, threshold = float(raw["intercept"]), float(raw["threshold"])
            about, extra = raw.get("about", {}), cls.extra_from(raw)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise SelectorProblem(f"{cls.owner} {path} is missing or unreadable ({exc}); {FIX}") from exc
        try:
            weights = weights_by_name(names, coef, cls.columns)
        except ModelProblem as exc:
            raise SelectorProblem(f"{path} does not fit this version ({exc}); refit it with {cls.refit}") from exc
        return cls(weights, intercept, threshold, about, **extra)


class SelectorScorer:
    """Ranks candidates by the fused, calibrated confidence (the default way of scoring)."""

    def __init__(
        self, selector: AnswerSelector, model: ConfidenceModel, *, top: int = 3, hand: HandScorer | None = None
    ) -> None:
        self.selector = selector
        self.model = model
        self.top = top
        self.hand = hand or HandScorer()
        self.default_threshold = model.threshold

    @property
    def label(self) -> str:
        return self.selector.label

    @classmethod
    def load(cls, folder: str | Path | None = None) -> SelectorScorer:
        """The selector folder's weights and its fitted confidence (`confidence.json` beside them).

        Raises:
            SelectorProblem: a file is missing, damaged, or fitted for another selector version.
        """
        selector = AnswerSelector.load(folder, backend="torch")  # its confidence was fitted on these readings
        model = ConfidenceModel.load(selector.folder / CONFIDENCE_FILE)
        fitted_for = model.about.get("selector")
        if fitted_for and fitted_for != selector.label:
            raise SelectorProblem(
                f"{selector.folder / CONFIDENCE_FILE} was fitted for {fitted_for}, "
                f"not {selector.label}; refit it with bench/fit_confidence.py"
            )
        return cls(selector, model, top=int(model.about.get("rerank", 3)))

    def row(self, question: str, found: CandidateFeatures, data: IndexData) -> tuple[list[Candidate], np.ndarray]:
        """Candidates in the hand weights' order (with their hand scores) and the one row the
        confidence is computed from: the best sentence's features and the selector's readings."""
        hand = self.hand.score(found.matrix)
        order = np.argsort(-hand, kind="stable")
        ranked = [replace(found.candidates[i], score=float(hand[i])) for i in order]
        read = ranked[: self.top]
        logits = self.selector.logits(question, selector_inputs(read, data))
        extra = np.asarray([hand[order[0]], logits[0], logits.max(), logits[0] - logits.max()], dtype=np.float32)
        return ranked, np.concatenate([found.matrix[order[0]], extra])[None, :]

    def rank(self, question: str, found: CandidateFeatures, data: IndexData) -> list[Candidate]:
        if not found.candidates:
            return []
        ranked, x = self.row(question, found, data)
        best = float(self.model.probability(x)[0])
        top = ranked[0].score
        # The best sentence carries the calibrated confidence; the others keep their hand-score
        # distance below it (the composer adds a sentence only within a margin of the best).
        return [replace(c, score=float(np.clip(best - (top - c.score), 0.0, 1.0))) for c in ranked]
