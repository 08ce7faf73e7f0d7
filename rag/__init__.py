"""Extractive, cited answers from official documents.

from rag import Assistant, build_index
build_index("corpus", "index")
assistant = Assistant.load("index")
answer = assistant.ask("Who funded the third meeting?")
"""

from __future__ import annotations

from rag.answer.confidence import SelectorScorer
from rag.answer.scorer import HandScorer
from rag.assistant import Assistant
from rag.cite.serialize import answer_json, answer_record, answer_text
from rag.errors import (
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
from rag.index import Manifest, build_index, load_index
from rag.settings import Settings
from rag.types import Answer, Citation, Hit, Paragraph
from rag.version import __version__

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
