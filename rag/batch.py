"""Answer a question file into a JSONL file of answers, surviving bad lines."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .assistant import Assistant
from .errors import InputError
from .questions import QuestionRow, read_questions
from .serialize import answer_record
from .types import Answer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BatchResult:
    """What a batch run wrote: one record per question row, and the rows that failed."""

    records: list[dict[str, Any]]
    answers: list[Answer | None]
    rows: list[QuestionRow]
    failed: list[str]  # "line N: why"


def error_record(row: QuestionRow, message: str) -> dict[str, Any]:
    """The record written for a question that could not be answered."""
    return {
        "id": row.id,
        "question": row.question,
        "answer": "",
        "abstained": True,
        "reason": None,
        "confidence": 0.0,
        "citations": [],
        "retrieved": [],
        "error": message,
    }


def run_batch(
    assistant: Assistant,
    questions: str | Path,
    out: str | Path | None = None,
    *,
    k: int | None = None,
    doc_id: str | None = None,
    threshold: float | None = None,
    on_answer: Callable[[int, int], None] | None = None,
) -> BatchResult:
    """Answer every row of a question file; write JSON lines to `out` (atomically) if given."""
    rows = read_questions(questions)
    records: list[dict[str, Any]] = []
    answers: list[Answer | None] = []
    failed: list[str] = []
    for i, row in enumerate(rows):
        answer: Answer | None = None
        if row.error is not None or row.question is None:
            record = error_record(row, row.error or "no question")
        else:
            try:
                answer = assistant.ask(row.question, k=k, doc_id=row.doc or doc_id, threshold=threshold)
                record = answer_record(answer, qid=row.id)
            except InputError as exc:
                record = error_record(row, str(exc))
        if "error" in record:
            failed.append(f"line {row.line}: {record['error']}")
            log.warning("%s line %d: %s", questions, row.line, record["error"])
        records.append(record)
        answers.append(answer)
        if on_answer:
            on_answer(i + 1, len(rows))
    if out is not None:
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            for record in records:
                fh.write(json.dumps(record, ensure_ascii=False) + "\n")
        os.replace(tmp, out)
    return BatchResult(records=records, answers=answers, rows=rows, failed=failed)
