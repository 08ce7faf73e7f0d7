"""Question files -> rows: JSONL (`id`, `question`, optional `doc`), CSV with a `question` column, or one per line."""

from __future__ import annotations

import csv
import io
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag.errors import BadQuestionFile

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QuestionRow:
    """One question read from a file, or the reason its line could not be read."""

    line: int
    id: str
    question: str | None
    fields: dict[str, Any] = field(default_factory=dict)  # everything else the line held
    error: str | None = None

    @property
    def doc(self) -> str | None:
        """The document this question is about, if the line names one (`doc`): the search is
        then kept to it, as `--doc` does for a whole file."""
        value = self.fields.get("doc")
        text = "" if value is None else str(value).strip()
        return text or None


def _text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise BadQuestionFile(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    except UnicodeDecodeError as exc:
        raise BadQuestionFile(f"{path}: is not UTF-8 text (byte {exc.start})") from exc


def _row(line: int, raw: dict[str, Any]) -> QuestionRow:
    qid = str(raw.get("id") if raw.get("id") not in (None, "") else f"line-{line}")
    question = raw.get("question")
    fields = {k: v for k, v in raw.items() if k not in ("id", "question")}
    if not isinstance(question, str):
        why = "no 'question' text on this line"
        if "question" not in raw:
            import difflib

            close = difflib.get_close_matches("question", [str(k) for k in raw], n=1, cutoff=0.6)
            keys = ", ".join(repr(str(k)) for k in raw) or "none"
            why += f" (its keys: {keys}" + (f"; is {close[0]!r} meant to be 'question'?)" if close else ")")
        return QuestionRow(line, qid, None, fields, why)
    return QuestionRow(line, qid, question, fields)


def read_questions(path: str | Path) -> list[QuestionRow]:
    """Read a question file; unreadable lines become rows with an error, not exceptions.

    Raises:
        BadQuestionFile: the file itself cannot be read, or a CSV has no `question` column.
    """
    path = Path(path)
    text = _text(path)
    suffix = path.suffix.lower()
    rows: list[QuestionRow] = []
    if suffix in (".jsonl", ".ndjson", ".json"):
        for i, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
            except json.JSONDecodeError as exc:
                rows.append(QuestionRow(i, f"line-{i}", None, {}, f"not valid JSON ({exc.msg})"))
                continue
            if not isinstance(raw, dict):
                rows.append(QuestionRow(i, f"line-{i}", None, {}, "not a JSON object"))
                continue
            rows.append(_row(i, raw))
    elif suffix == ".csv":
        reader = csv.DictReader(io.StringIO(text))
        if reader.fieldnames is None or "question" not in reader.fieldnames:
            raise BadQuestionFile(f"{path}: a CSV question file needs a 'question' column")
        for i, raw in enumerate(reader, start=2):
            rows.append(_row(i, dict(raw)))
    else:
        for i, line in enumerate(text.splitlines(), start=1):
            if line.strip() and not line.lstrip().startswith("#"):
                rows.append(QuestionRow(i, f"line-{i}", line.strip()))
    if not rows:
        raise BadQuestionFile(f"{path}: holds no questions")
    return rows
