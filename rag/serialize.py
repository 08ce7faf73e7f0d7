"""Answer -> JSON record and readable text; the one place both are made."""

from __future__ import annotations

import json
from typing import Any

from .compose import marker
from .types import Answer, paragraph_label


def answer_record(answer: Answer, *, qid: str | None = None) -> dict[str, Any]:
    """The answer as the JSON object `rag ask --json` and `rag batch` print."""
    return {
        "id": qid,
        "question": answer.question,
        "answer": answer.text,
        "abstained": answer.abstained,
        "reason": answer.reason,
        "confidence": round(answer.confidence, 4),
        "scorer": answer.scorer,
        "citations": [
            {"doc": c.doc_id, "para": c.paragraph, "section": " > ".join(c.section), "quote": c.quote,
             "start": c.start, "end": c.end, "score": c.score, "numbered_by_source": c.numbered_by_source}
            for c in answer.citations
        ],
        "retrieved": [
            {"doc": h.paragraph.doc_id, "para": h.paragraph.number, "score": round(h.score, 6)}
            for h in answer.hits
        ],
    }


def answer_json(answer: Answer, *, qid: str | None = None) -> str:
    """One line of JSON."""
    return json.dumps(answer_record(answer, qid=qid), ensure_ascii=False)


def answer_text(answer: Answer) -> str:
    """A readable rendering for the terminal."""
    with_doc = len(answer.documents) > 1
    lines = [answer.text]
    if answer.abstained:
        if answer.reason:
            lines.append(f"(Why: {answer.reason}.)")
        if answer.hits:
            lines.append("Closest paragraphs, not an answer: " + ", ".join(
                f"{h.paragraph.doc_id + ', ' if with_doc else ''}"
                f"{paragraph_label(h.paragraph.number, h.paragraph.numbered_by_source)}" for h in answer.hits[:3]))
        return "\n".join(lines)
    lines.append("")
    for c in answer.citations:
        info = answer.documents.get(c.doc_id)
        title = info.title if info and info.title else c.doc_id
        section = f" ({' > '.join(c.section)})" if c.section else ""
        lines.append(f"{marker(c, with_doc=with_doc)} {title}, {paragraph_label(c.paragraph)}{section}")
    return "\n".join(lines)
