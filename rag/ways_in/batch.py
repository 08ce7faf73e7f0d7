"""Answer a question file into a JSONL file of answers, surviving bad lines."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.assistant import Assistant
from rag.cite.serialize import answer_record
from rag.errors import InputError
from rag.evaluate.questions import QuestionRow, read_questions

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BatchResult:
    """What a batch run wrote: one record per question row, and the rows that failed."""

    records: list[dict[str, Any]]
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


def check_out(questions: str | Path, out: str | Path) -> Path:
    """The answers file, checked before any question is answered: not a folder, not the question
    file itself, and in a folder that can be written.

    Raises:
        InputError: what is wrong with it, in one line.
    """
    out = Path(out)
    if out.is_dir():
        raise InputError(f"--out {out} is a folder; give a file name such as {out / 'answers.jsonl'}")
    if out.exists() and Path(questions).exists() and out.resolve() == Path(questions).resolve():
        raise InputError(f"--out {out} is the question file itself; writing answers would erase the questions")
    folder = out.parent if str(out.parent) else Path(".")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot make the folder of --out {out}: {exc.strerror or exc}") from exc
    if not os.access(folder, os.W_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise InputError(f"--out {out} cannot be written (permission denied); choose another file")
    return out


def answered_ids(out: Path) -> set[str]:
    """The ids of the answers an earlier, interrupted run wrote (its last line may be cut short)."""
    ids: set[str] = set()
    if not out.is_file():
        return ids
    for line in out.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue  # the line a kill cut short: answered again
        if isinstance(record, dict) and "id" in record:
            ids.add(str(record["id"]))
    return ids


def run_batch(
    assistant: Assistant,
    questions: str | Path,
    out: str | Path | None = None,
    *,
    doc_id: str | None = None,
    resume: bool = False,
    on_answer: Callable[[int, int], None] | None = None,
) -> BatchResult:
    """Answer every row of a question file. With `out`, each answer is written (and flushed) as it
    is made, so a killed run leaves valid JSON lines up to its last answer; with `resume`, the
    rows whose ids `out` already holds are skipped and the new answers appended. `out` is checked
    before any question is answered (`check_out`). Duplicate ids are reported as failures."""
    target = check_out(questions, out) if out is not None else None
    rows = read_questions(questions)
    done = answered_ids(target) if (resume and target is not None) else set()
    records: list[dict[str, Any]] = []
    failed: list[str] = []
    first_line: dict[str, int] = {}
    for row in rows:
        if row.id in first_line:
            failed.append(f"line {row.line}: id {row.id!r} is also the id of line {first_line[row.id]}")
        first_line.setdefault(row.id, row.line)
    if target is not None and resume and done:
        # A line cut short by a kill is dropped, so that the file stays valid JSON lines.
        kept = [line for line in target.read_text(encoding="utf-8", errors="replace").splitlines() if _is_record(line)]
        target.write_text("".join(line + "\n" for line in kept), encoding="utf-8")
    fh = open(target, "a" if resume else "w", encoding="utf-8") if target is not None else None  # noqa: SIM115
    try:
        todo = [row for row in rows if row.id not in done]
        for i, row in enumerate(todo):
            if row.error is not None or row.question is None:
                record = error_record(row, row.error or "no question")
            else:
                try:
                    record = answer_record(assistant.ask(row.question, doc_id=row.doc or doc_id), qid=row.id)
                except InputError as exc:
                    record = error_record(row, str(exc))
            if "error" in record:
                failed.append(f"line {row.line}: {record['error']}")
            records.append(record)
            if fh is not None:
                fh.write(json.dumps(record, ensure_ascii=False) + "\n")
                fh.flush()
            if on_answer:
                on_answer(i + 1, len(todo))
    finally:
        if fh is not None:
            fh.close()
    return BatchResult(records=records, failed=failed)


def _is_record(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except json.JSONDecodeError:
        return False
