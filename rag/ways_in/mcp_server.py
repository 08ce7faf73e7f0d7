"""The Model Context Protocol server (`rag mcp`): the assistant as tools an AI agent can call.

Tools: `ask` (cited quotes, or an abstention), `search` (the paragraphs a question finds, with their
text), `paragraph` (one paragraph by its citation) and `documents` (what is indexed). Every result is
the same record the HTTP API returns, so an agent quotes the documents' own sentences and cites
them with the reference written out; it is told so in the server's instructions. Served over stdio
(the default, for an agent that starts it) or streamable HTTP on this machine (`--http`).
"""

from __future__ import annotations

import logging
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from rag.cite.serialize import answer_record, document_record, paragraph_record
from rag.errors import RagError
from rag.version import __version__
from rag.ways_in.library import Library, lookup_paragraph

log = logging.getLogger(__name__)

INSTRUCTIONS = (
    "Answers come only from the indexed official documents. `ask` returns sentences quoted verbatim, "
    "each with its citation (document and the paragraph number the document prints) and the reference "
    "written out, or says that the documents do not answer (abstained: true). Quote `quote` exactly and "
    "give `reference` with it; do not answer from a result with abstained: true. `search` returns whole "
    "paragraphs to read, `paragraph` one paragraph by its citation, `documents` what is indexed."
)


def create_server(library: Library) -> MCPServer:
    """The MCP server over one library (the same assistant as the page and the HTTP API)."""
    server: MCPServer = MCPServer(
        name="cited-answers", instructions=INSTRUCTIONS, version=__version__, log_level="WARNING"
    )

    def guarded(call: Any) -> Any:
        try:
            return call()
        except RagError as exc:  # the SDK turns this into the tool's error result, with our message
            raise ToolError(str(exc)) from exc

    @server.tool(description="Answer a question with sentences quoted from the documents and their citations.")
    def ask(question: str, doc: str | None = None) -> dict[str, Any]:
        """question: in plain words. doc: only search this document (id, file name or symbol)."""
        return guarded(lambda: answer_record(library.current().ask(question, doc_id=doc)))

    @server.tool(description="The paragraphs that best match a question, best first, with their text and citation.")
    def search(question: str, doc: str | None = None, k: int = 5) -> dict[str, Any]:
        """k: how many paragraphs (1-100)."""

        def run() -> dict[str, Any]:
            assistant = library.current()
            hits = assistant.retrieve(question, k=k, doc_id=doc)
            return {"paragraphs": [paragraph_record(h.paragraph, assistant.documents, h.score) for h in hits]}

        return guarded(run)

    @server.tool(description='One paragraph by its citation: doc and cite as cited ("para. 12", "Art. 24(1)", "12").')
    def paragraph(doc: str, cite: str) -> dict[str, Any]:
        def run() -> dict[str, Any]:
            assistant = library.current()
            return paragraph_record(lookup_paragraph(assistant, doc, cite), assistant.documents)

        return guarded(run)

    @server.tool(description="The documents that can be asked about.")
    def documents() -> dict[str, Any]:
        docs = library.current().documents
        return {"documents": [document_record(docs[d], docs) for d in sorted(docs)]}

    return server
