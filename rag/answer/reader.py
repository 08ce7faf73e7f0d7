"""The reader: chooses the sentence that answers and says how likely it is right.

The hand weights (`rag.answer.scorer.HandScorer`) rank every sentence of the retrieved paragraphs; the
best `top` of them are read by the cross-encoder (`rag.answer.selector.AnswerSelector`, the question and
the sentence together), and one fitted logistic model over each of those sentences' feature row,
its hand score and rank, and the cross-encoder's readings (its own, the best of the question's and
the difference) gives the probability that the sentence answers the question. The sentences are
ordered by that probability, so the reader both chooses among them and sets the answer's
confidence: the assistant abstains when the best one's is below the fitted threshold.

The model is fitted by `training/fit_reader.py` on candidates mined from the retriever
(`training/mine_candidates.py`) for the train split of the questions written for it, and its
threshold is read off the calibration split (`eval/READER.md`). It lives beside the cross-encoder
as `reader.json` (`models/reader/`). It is not the default way of answering: measured end to end it
does not beat the hand weights yet (`eval/READER.md`); `rag ask --scorer reader` uses it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from rag.answer.confidence import ConfidenceModel, selector_inputs
from rag.answer.features import FEATURES, Candidate, CandidateFeatures
from rag.answer.scorer import HandScorer
from rag.answer.selector import AnswerSelector
from rag.errors import SelectorProblem
from rag.index import IndexData
from rag.paths import MODELS

READER_FILE = "reader.json"
#: Where the reader shipped with the project lives: its cross-encoder and `reader.json`.
DEFAULT_READER = MODELS / "reader"
#: What the fitted model reads of each of the best candidates, after its feature row.
EXTRA = (
    "hand_score",  # the hand weights' confidence
    "hand_gap",  # ... minus the best candidate's
    "hand_rank",  # its place among those read, 0 for the first, 1 for the last
    "logit",  # the cross-encoder's reading of it
    "logit_gap",  # ... minus the best reading among the question's candidates (<= 0)
    "logit_best",  # the best reading among the question's candidates
    "logit_mean",  # the mean reading among them
)
COLUMNS = (*FEATURES, *EXTRA)


def reader_rows(matrix: np.ndarray, hand: np.ndarray, logits: np.ndarray) -> np.ndarray:
    """The fitted model's rows for the candidates read (already in hand order, best first)."""
    n = len(hand)
    extra = np.stack(
        [
            hand,
            hand - hand.max(),
            np.arange(n) / max(1, n - 1),
            logits,
            logits - logits.max(),
            np.full(n, logits.max()),
            np.full(n, logits.mean()),
        ],
        axis=1,
    )
    return np.concatenate([matrix, extra], axis=1).astype(np.float64)


@dataclass(frozen=True)
class ReaderModel(ConfidenceModel):
    """sigmoid(coef . row + intercept) per candidate, its threshold read off the calibration split,
    and how many candidates it reads (`top`)."""

    top: int = 8

    columns: ClassVar[tuple[str, ...]] = COLUMNS
    owner: ClassVar[str] = "the reader's"
    refit: ClassVar[str] = "training/fit_reader.py"

    def extra(self) -> dict[str, Any]:
        return {"top": self.top}

    @classmethod
    def extra_from(cls, raw: dict[str, Any]) -> dict[str, Any]:
        return {"top": int(raw.get("top", 8))}


class ReaderScorer:
    """Ranks candidates by the reader's probability that each answers the question."""

    def __init__(self, selector: AnswerSelector, model: ReaderModel, *, hand: HandScorer | None = None) -> None:
        self.selector = selector
        self.model = model
        self.hand = hand or HandScorer()
        self.default_threshold = model.threshold

    @property
    def label(self) -> str:
        return f"reader:{self.selector.label}"

    @property
    def top(self) -> int:
        """Candidates the cross-encoder reads."""
        return self.model.top

    @classmethod
    def load(cls, folder: str | Path | None = None) -> ReaderScorer:
        """The cross-encoder's weights and the reader model fitted for it (`reader.json` beside them).

        Raises:
            SelectorProblem: a file is missing, damaged, or fitted for another cross-encoder.
        """
        selector = AnswerSelector.load(folder if folder is not None else DEFAULT_READER)
        model = ReaderModel.load(selector.folder / READER_FILE)
        fitted_for = model.about.get("selector")
        if fitted_for and fitted_for != selector.label:
            raise SelectorProblem(
                f"{selector.folder / READER_FILE} was fitted for {fitted_for}, "
                f"not {selector.label}; refit it with training/fit_reader.py"
            )
        return cls(selector, model)

    def read(self, question: str, found: CandidateFeatures, data: IndexData) -> tuple[list[int], np.ndarray]:
        """The rows of the candidates read (indices into `found`, hand order) and the model's rows."""
        hand = self.hand.score(found.matrix)
        order = [int(i) for i in np.argsort(-hand, kind="stable")[: self.model.top]]
        read = [found.candidates[i] for i in order]
        logits = self.selector.logits(question, selector_inputs(read, data)).astype(np.float64)
        return order, reader_rows(found.matrix[order].astype(np.float64), hand[order], logits)

    def rank(self, question: str, found: CandidateFeatures, data: IndexData) -> list[Candidate]:
        if not found.candidates:
            return []
        order, rows = self.read(question, found, data)
        probability = self.model.probability(rows)
        ranked = sorted(
            (replace(found.candidates[i], score=float(p)) for i, p in zip(order, probability, strict=True)),
            key=lambda c: -c.score,
        )
        # Sentences not read come after with no confidence, so they are never quoted.
        read = set(order)
        return ranked + [replace(c, score=0.0) for i, c in enumerate(found.candidates) if i not in read]
