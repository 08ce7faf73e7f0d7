"""Answer -> JSON record and readable text; the one place both are made."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from rag.cite.citations import copy_text, label, marker, pages_text, paragraph_name, paragraph_pages, read_by_ocr
from rag.cite.documents import as_documents
from rag.types import Answer, DocumentInfo, Paragraph


def answer_record(answer: Answer, *, qid: str | None = None) -> dict[str, Any]:
    """The answer as the JSON object `rag ask --json` and `rag batch` print.

    Each citation gives its paragraph number (`para`: the document's own number, or the
    position for a document without numbers; null for a footnote), how the document names it
    (`cite`: "para. 10", "Art. 24(1)", "fn. 27"), the pages the quote stands on for a paged
    document, and the citation written out in full (`reference`).
    """
    return {
        "id": qid,
        "question": answer.question,
        "answer": answer.text,
        "abstained": answer.abstained,
        "reason": answer.reason,
        "confidence": round(answer.confidence, 4),
        "scorer": answer.scorer,
        "citations": [
            {
                "doc": c.doc_id,
                "para": c.paragraph if c.kind == "para" else None,
                "cite": c.label,
                "pages": list(c.pages),
                "section": " > ".join(c.section),
                "quote": c.quote,
                "start": c.start,
                "end": c.end,
                "score": c.score,
                "numbered_by_source": c.numbered_by_source,
                "ocr": read_by_ocr(c, answer.documents),  # quoted from a scanned page, as OCR read it
                "reference": copy_text(c, answer.documents),
            }
            for c in answer.citations
        ],
        "retrieved": [
            {
                "doc": h.paragraph.doc_id,
                "para": h.paragraph.number if h.paragraph.kind == "para" else None,
                "cite": label(h.paragraph),
                "score": round(h.score, 6),
            }
            for h in answer.hits
        ],
    }


def document_record(info: DocumentInfo, documents: Mapping[str, DocumentInfo]) -> dict[str, Any]:
    """A document as the HTTP API and the MCP server list it."""
    from rag.ways_in.uploads import is_upload  # the index and model code, only when a server lists documents

    return {
        "doc": info.doc_id,
        "title": as_documents(documents).title(info.doc_id),
        "symbol": info.symbol,
        "date": info.date,
        "file": info.file,
        "format": info.format,
        "paragraphs": info.paragraphs,
        "pages": info.pages,
        "numbered": info.numbered,
        "uploaded": is_upload(info.doc_id),
    }


def paragraph_record(p: Paragraph, documents: Mapping[str, DocumentInfo], score: float | None = None) -> dict[str, Any]:
    """A paragraph with its text and its citation written out, as searches and lookups return it."""
    pages = paragraph_pages(p)
    cite = label(p)
    where = ", ".join([cite, pages_text(pages)] if pages else [cite])
    record: dict[str, Any] = {
        "doc": p.doc_id,
        "para": p.number if p.kind == "para" else None,
        "cite": cite,
        "pages": list(pages),
        "section": " > ".join(p.section),
        "text": p.text,
        "numbered_by_source": p.numbered_by_source,
        "reference": f"{as_documents(documents).title(p.doc_id)}, {where}",
    }
    if score is not None:
        record["score"] = round(score, 6)
    return record


def answer_json(answer: Answer, *, qid: str | None = None) -> str:
    """One line of JSON."""
    return json.dumps(answer_record(answer, qid=qid), ensure_ascii=False)


def answer_text(answer: Answer) -> str:
    """A readable rendering for the terminal."""
    lines = [answer.text]
    if answer.abstained:
        if answer.reason:
            lines.append(f"(Why: {answer.reason}.)")
        if answer.hits:
            lines.append(
                "Closest paragraphs, not an answer: "
                + "; ".join(paragraph_name(h.paragraph, answer.documents) for h in answer.hits[:3])
            )
        return "\n".join(lines)
    lines.append("")
    for c in answer.citations:
        section = f" ({' > '.join(c.section)})" if c.section else ""
        ocr = (
            " (read by OCR from a scanned page: check the quote against the scan)"
            if read_by_ocr(c, answer.documents)
            else ""
        )
        lines.append(f"{marker(c, answer.documents)} {copy_text(c, answer.documents)}{section}{ocr}")
    return "\n".join(lines)


def left_out_note(info: DocumentInfo) -> str | None:
    """What `rag index` and the page say of a document's lines left out on purpose, or None."""
    if not info.left_out:
        return None
    lines = info.left_out
    shown = ", ".join(map(str, lines[:5])) + (f" and {len(lines) - 5} more" if len(lines) > 5 else "")
    return (
        f"{len(lines)} line(s) left out on purpose (a table of contents, a masthead's date, "
        f"languages and session, a few words alone): line(s) {shown}"
    )
