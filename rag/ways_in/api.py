"""The HTTP JSON API (`rag api`): the same assistant as the page and the command line, for other programs.

Routes (all JSON; the schema is at /openapi.json and a browsable page at /docs):

    GET    /health               the process is up
    GET    /ready                the index is loaded: its documents, model and scorer
    POST   /ask                  one question -> the record `rag ask --json` prints
    POST   /ask/batch            up to `max_batch` questions -> one record each, in order
    POST   /search               retrieval only: the paragraphs a question finds, with their text
    GET    /paragraph            one paragraph by document and citation ("para. 12", "Art. 24(1)", 12)
    GET    /documents            the documents of the index
    POST   /documents            add a document (multipart file upload; the page's checks)
    DELETE /documents            remove an added document (?doc=uploads/...)

Errors are JSON, `{"error": {"code": ..., "message": ...}}`, with a status that says whose fault it
is; the message says how to fix it. A bearer token (`--token` or RAG_API_TOKEN) is required for
every route but /health when one is set, and always for adding and removing documents.
"""

from __future__ import annotations

import hmac
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
from fastapi import Depends, FastAPI, File, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from rag.cite.serialize import answer_record, document_record, paragraph_record
from rag.errors import (
    BadSetting,
    EmptyQuestion,
    IndexProblem,
    InputError,
    ModelProblem,
    QuestionTooLong,
    RagError,
    Refused,
)
from rag.version import __version__
from rag.ways_in.library import Library, lookup_paragraph

log = logging.getLogger(__name__)

TOKEN_ENV = "RAG_API_TOKEN"
CONFIG_ENV = "RAG_API_CONFIG"  # how `rag api --workers N` hands its options to each worker process
MAX_BATCH = 200
MAX_BODY = 256 * 1024  # bytes of a JSON body; a batch of 200 questions of 1,000 characters fits


class AskBody(BaseModel):
    question: str = Field(description="the question in plain words")
    doc: str | None = Field(None, description="only search this document (its id, file name or symbol)")
    k: int | None = Field(None, description="paragraphs to retrieve (default: the server's setting)")
    threshold: float | None = Field(None, description="abstention threshold, 0-1 (default: the server's)")
    id: str | None = Field(None, description="echoed back as the record's id")


class BatchBody(BaseModel):
    questions: list[AskBody] = Field(description=f"at most {MAX_BATCH} questions")


class SearchBody(BaseModel):
    question: str
    doc: str | None = None
    k: int | None = Field(None, description="paragraphs to return (default: the server's setting)")


#: The HTTP status and code of each error the library raises, the most specific first.
STATUS: tuple[tuple[type[RagError], int, str], ...] = (
    (EmptyQuestion, 400, "empty_question"),
    (QuestionTooLong, 413, "question_too_long"),
    (BadSetting, 400, "bad_setting"),
    (InputError, 400, "bad_input"),
    (IndexProblem, 503, "index_problem"),
    (ModelProblem, 503, "model_problem"),
)


def _status(exc: RagError) -> tuple[int, str]:
    if isinstance(exc, Refused):
        return exc.status, exc.code
    return next(((status, code) for kind, status, code in STATUS if isinstance(exc, kind)), (500, "error"))


def create_app(
    library: Library,
    *,
    token: str | None = None,
    max_batch: int = MAX_BATCH,
    max_body: int = MAX_BODY,
    answering: int = 2,
) -> FastAPI:
    """The API over one library. `token`: the bearer token every route but /health needs (None:
    reads are open, which `rag api` allows on the loopback address only, and writes are refused);
    `answering`: questions answered at the same time by this process."""
    app = FastAPI(
        title="Cited answers from official documents",
        version=__version__,
        description="Answers are sentences quoted verbatim from the indexed documents, each with its "
        "citation (document and the paragraph number the document prints), or an abstention.",
    )

    @app.exception_handler(RagError)
    async def _rag_error(request: Request, exc: RagError) -> JSONResponse:
        status, code = _status(exc)
        return JSONResponse({"error": {"code": code, "message": str(exc)}}, status_code=status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(x) for x in first.get("loc", ()) if x != "body") or "the request"
        message = f"{where}: {first.get('msg', 'invalid')}; see /docs for the request's form"
        return JSONResponse({"error": {"code": "bad_request", "message": message}}, status_code=422)

    @app.middleware("http")
    async def _limit_body(request: Request, call_next):  # type: ignore[no-untyped-def]
        # Uploads have their own limit (the page's); every other body is a small JSON object.
        limit = library.max_upload_bytes + 64 * 1024 if request.url.path == "/documents" else max_body
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            return JSONResponse(
                {"error": {"code": "too_large", "message": f"the request body is over {limit:,} bytes"}},
                status_code=413,
            )
        return await call_next(request)

    def _token_ok(request: Request) -> bool:
        given = request.headers.get("authorization", "")
        scheme, _, value = given.partition(" ")
        return bool(token) and scheme.lower() == "bearer" and hmac.compare_digest(value.strip(), token or "")

    def reader(request: Request) -> None:
        if token and not _token_ok(request):
            raise Refused(401, "unauthorized", "send the API token as 'Authorization: Bearer <token>'")

    def writer(request: Request) -> None:
        if not token:
            raise Refused(
                403, "writes_disabled", "adding and removing documents needs a token; start with: rag api --token ..."
            )
        reader(request)

    def answer(body: AskBody) -> dict[str, Any]:
        assistant = library.current()
        result = assistant.ask(body.question, k=body.k, doc_id=body.doc, threshold=body.threshold)
        return answer_record(result, qid=body.id)

    @app.get("/health", summary="The process is up")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/ready", summary="The index is loaded", dependencies=[Depends(reader)])
    def ready() -> dict[str, Any]:
        assistant = library.current()
        manifest = assistant.data.manifest
        return {
            "ready": True,
            "documents": len(manifest.documents),
            "paragraphs": len(assistant.data.paragraphs),
            "model": manifest.build.model,
            "scorer": assistant.scorer.label,
            "threshold": assistant.threshold,
            "version": __version__,
        }

    # An answer is a few milliseconds of CPU: run `answering` of them at once and queue the rest,
    # rather than let forty threads share the cores and all finish late together.
    limiter = anyio.CapacityLimiter(answering)

    @app.post("/ask", summary="Answer one question with cited quotes, or abstain", dependencies=[Depends(reader)])
    async def ask(body: AskBody) -> dict[str, Any]:
        return await anyio.to_thread.run_sync(answer, body, limiter=limiter)

    def answer_or_error(item: AskBody) -> dict[str, Any]:
        try:
            return answer(item)
        except RagError as exc:  # one bad question does not sink the batch
            return {"id": item.id, "question": item.question, "error": {"code": _status(exc)[1], "message": str(exc)}}

    @app.post("/ask/batch", summary="Answer several questions", dependencies=[Depends(reader)])
    async def ask_batch(body: BatchBody) -> dict[str, Any]:
        if len(body.questions) > max_batch:
            raise Refused(413, "too_many", f"{len(body.questions)} questions; send at most {max_batch} at a time")
        # Question by question, so that a long batch does not hold up the single questions behind it.
        return {
            "answers": [await anyio.to_thread.run_sync(answer_or_error, q, limiter=limiter) for q in body.questions]
        }

    def found(body: SearchBody) -> dict[str, Any]:
        assistant = library.current()
        k = assistant.settings.k if body.k is None else body.k
        hits = assistant.retrieve(body.question, k=k, doc_id=body.doc)
        docs = assistant.documents
        return {"question": body.question, "paragraphs": [paragraph_record(h.paragraph, docs, h.score) for h in hits]}

    @app.post("/search", summary="The paragraphs a question finds, best first", dependencies=[Depends(reader)])
    async def search(body: SearchBody) -> dict[str, Any]:
        return await anyio.to_thread.run_sync(found, body, limiter=limiter)

    @app.get("/paragraph", summary="One paragraph by its citation", dependencies=[Depends(reader)])
    def paragraph(
        doc: str = Query(description="document id, file name or symbol"),
        cite: str = Query(description='as cited: "para. 12", "Art. 24(1)", "fn. 3", or a number'),
    ) -> dict[str, Any]:
        assistant = library.current()
        found = lookup_paragraph(assistant, doc, cite)
        return paragraph_record(found, assistant.documents)

    @app.get("/documents", summary="The documents of the index", dependencies=[Depends(reader)])
    def documents() -> dict[str, Any]:
        docs = library.current().documents
        return {"documents": [document_record(docs[d], docs) for d in sorted(docs)]}

    @app.post("/documents", summary="Add a document (PDF, Word, HTML, Markdown, text)", dependencies=[Depends(writer)])
    def add(file: UploadFile = File(description="the document")) -> dict[str, Any]:  # noqa: B008 (FastAPI's idiom)
        name = file.filename or "document"
        with tempfile.TemporaryDirectory(prefix="rag-upload-") as tmp:
            path = Path(tmp) / "upload"
            written = 0
            with open(path, "wb") as out:
                while chunk := file.file.read(1 << 20):
                    written += len(chunk)
                    if written > library.max_upload_bytes:
                        raise Refused(
                            413, "too_large", f"'{name}' is over the limit of {library.max_upload_bytes // 1024:,} KB"
                        )
                    out.write(chunk)
            doc_id, info = library.add(path, name)
        docs = library.current().documents
        return {"added": document_record(info, docs)}

    @app.delete("/documents", summary="Remove a document that was added", dependencies=[Depends(writer)])
    def remove(doc: str = Query(description="the id of an added document, uploads/...")) -> dict[str, Any]:
        info = library.remove(doc)
        return {"removed": info.doc_id, "title": info.title}

    return app


def api_token(given: str | None) -> str | None:
    """The token from --token, else from the environment; None when neither sets one."""
    token = given if given is not None else os.environ.get(TOKEN_ENV)
    return token.strip() if token and token.strip() else None


def app_from_environment() -> FastAPI:
    """The app of one worker process of `rag api --workers N`, loaded from the options the
    command put in the environment."""
    import argparse
    import json

    from rag.ways_in.loading import load_assistant

    options = argparse.Namespace(**json.loads(os.environ[CONFIG_ENV]))
    assistant = load_assistant(options)
    corpus = Path(options.corpus) if options.corpus else assistant.corpus_dir()
    library = Library(assistant, corpus or Path("corpus"), int(options.max_upload_kb) * 1024)
    return create_app(library, token=api_token(None))
