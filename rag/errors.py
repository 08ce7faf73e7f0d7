"""The exceptions the library raises; every one says what happened and how to fix it.

RagError
  InputError
    EmptyQuestion, QuestionTooLong
    UnreadableDocument, DuplicateDocument, EmptyCorpus
    BadQuestionFile
    BadSetting (also a ValueError)
    MissingData (also a FileNotFoundError), BadData (also a ValueError)
  IndexProblem
    IndexMissing, StaleIndex, CorruptIndex, UnsafeIndexFolder
  ModelProblem
    SelectorProblem, BadScorer
  MissingExtra
  Refused (a server's refusal, with its HTTP status)

Library code raises only these; the command line turns them into one-line messages.
"""

from __future__ import annotations


class RagError(Exception):
    """Base of every error this library raises on purpose."""


class InputError(RagError):
    """Something the user gave us cannot be used."""


class EmptyQuestion(InputError):
    """The question is empty or only whitespace."""


class QuestionTooLong(InputError):
    """The question is longer than the configured limit."""


class UnreadableDocument(InputError):
    """A corpus file is binary, not UTF-8, or cannot be opened."""


class DuplicateDocument(InputError):
    """Two corpus files would get the same document id."""


class EmptyCorpus(InputError):
    """The corpus folder is missing or holds no readable document."""


class BadQuestionFile(InputError):
    """A question file cannot be read at all."""


class BadSetting(InputError, ValueError):
    """A setting is out of its range (k, threshold, window sizes, backend, fusion, ...)."""


class MissingData(InputError, FileNotFoundError):
    """A data folder or file a training or benchmark run needs is not there."""


class BadData(InputError, ValueError):
    """A data file a training run reads is not the normalised JSONL it should be."""


class IndexProblem(RagError):
    """The index folder cannot be used as it is."""


class IndexMissing(IndexProblem):
    """There is no index where one was expected."""


class StaleIndex(IndexProblem):
    """The index no longer matches its corpus or its model."""


class CorruptIndex(IndexProblem):
    """An index file is damaged or inconsistent with the manifest."""


class NoSuchParagraph(IndexProblem, IndexError):
    """A paragraph row past the end of the index (an IndexError, as sequences raise)."""


class UnsafeIndexFolder(IndexProblem):
    """The index folder given is not one an index may be written to (it holds other files, or
    it is, holds or sits inside the corpus)."""


class MissingExtra(RagError):
    """An optional part of the project is asked for but its libraries are not installed."""


class ModelProblem(RagError):
    """A model file the assistant needs cannot be used."""


class SelectorProblem(ModelProblem):
    """The answer selector's files are missing, damaged or of another version."""


class BadScorer(ModelProblem):
    """A scorer file that cannot be used."""


class Refused(RagError):
    """A request a server refuses (no token, too large, not found), with the HTTP status and the
    short code its JSON error carries."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code = status, code
