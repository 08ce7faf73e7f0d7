"""Extractive, cited answers from official documents.

from rag import Assistant, build_index
build_index("corpus", "index")
assistant = Assistant.load("index")
answer = assistant.ask("Who funded the third meeting?")
"""

from __future__ import annotations

__version__ = "0.1.0"

from .assistant import Assistant
from .confidence import SelectorScorer
from .errors import (
    BadSetting,
    CorruptIndex,
    EmptyQuestion,
    IndexMissing,
    IndexProblem,
    InputError,
    ModelProblem,
    QuestionTooLong,
    RagError,
    SelectorProblem,
    StaleIndex,
    UnreadableDocument,
    UnsafeIndexFolder,
)
from .index import Manifest, build_index, load_index
from .scorer import HandScorer
from .serialize import answer_json, answer_record, answer_text
from .settings import Settings
from .types import Answer, Citation, Hit, Paragraph

__all__ = [
    "Answer",
    "Assistant",
    "BadSetting",
    "Citation",
    "CorruptIndex",
    "EmptyQuestion",
    "HandScorer",
    "Hit",
    "IndexMissing",
    "IndexProblem",
    "InputError",
    "Manifest",
    "ModelProblem",
    "Paragraph",
    "QuestionTooLong",
    "RagError",
    "SelectorProblem",
    "SelectorScorer",
    "Settings",
    "StaleIndex",
    "UnreadableDocument",
    "UnsafeIndexFolder",
    "__version__",
    "answer_json",
    "answer_record",
    "answer_text",
    "build_index",
    "load_index",
]
