"""Settings of the assistant: validated once, passed down, never global."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    """What a user may tune without rebuilding the index."""

    k: int = 5  # paragraphs retrieved
    # Abstain when the best sentence's confidence is below this. None: the scorer's own default
    # (0.57 for the hand weights, eval/THRESHOLD.md; the answer selector's calibrated threshold,
    # read off its calibration split, eval/SELECTOR.md).
    threshold: float | None = None
    max_sentences: int = 3
    margin: float = 0.08  # extra sentences must score within this of the best (0.05: -2 points correct)
    near_duplicate: float = 0.9  # cosine above which a second sentence adds nothing
    # A second sentence must hold question terms the first lacks. Off: on dev and SQuAD it raised
    # citation precision (0.82->0.86, 0.89->0.90) but cost 2-3 points of correct answers.
    require_new_terms: bool = False
    max_question_chars: int = 2000
    # Footnotes and captions lose this much confidence: most UN footnotes are references
    # ("Resolution 64/293") that share a question's words without answering it. On the UN tuning
    # splits 0.05-1 all turned the one footnote answer (to an unanswerable question) into an
    # abstention and changed nothing else (bench/note_penalty.py, docs/READERS.md).
    note_penalty: float = 0.1

    def __post_init__(self) -> None:
        if self.k <= 0:
            raise ValueError(f"k must be positive, got {self.k}")
        if self.max_sentences <= 0:
            raise ValueError(f"max_sentences must be positive, got {self.max_sentences}")
        if self.threshold is not None and not 0.0 <= self.threshold <= 1.0:
            raise ValueError(f"threshold must be between 0 and 1, got {self.threshold}")
        if not 0.0 <= self.note_penalty <= 1.0:
            raise ValueError(f"note_penalty must be between 0 and 1, got {self.note_penalty}")
        if self.max_question_chars <= 0:
            raise ValueError(f"max_question_chars must be positive, got {self.max_question_chars}")
