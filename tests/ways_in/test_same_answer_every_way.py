"""One question, five ways in: the Python API, the command line, the page, the HTTP API and the MCP
server give the same answer, with the same quotes and citations."""

from __future__ import annotations

import json
import subprocess
import sys

import anyio
from conftest import ROOT, copy_site
from fastapi.testclient import TestClient
from mcp import Client

from rag.assistant import Assistant
from rag.cite.serialize import answer_record
from rag.index import load_index
from rag.ways_in.api import create_app
from rag.ways_in.library import Library
from rag.ways_in.mcp_server import create_server
from ui.app import chat_markdown, respond

QUESTIONS = [
    "Which government provided resources for the third meeting?",  # answered from para. 50
    "What was the budget of the Expert Group in 2019?",  # the report does not say
]


def test_the_same_answer_through_every_way_in(tmp_path, bundled_index, embedder):
    copy_site(tmp_path, bundled_index)
    index = tmp_path / "index"
    library = Library(Assistant(load_index(index), embedder, index_dir=index), tmp_path / "corpus")
    api = TestClient(create_app(library))
    server = create_server(library)

    async def through_mcp(question: str) -> dict:
        async with Client(server) as client:
            return (await client.call_tool("ask", {"question": question})).structured_content

    seen = []
    for question in QUESTIONS:
        python = json.loads(json.dumps(answer_record(Assistant.load(index).ask(question))))
        cli = subprocess.run(
            [sys.executable, "-m", "rag", "ask", question, "--index", str(index), "--json"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=True,
        )
        assert json.loads(cli.stdout) == python
        assert api.post("/ask", json={"question": question}).json() == python
        assert anyio.run(through_mcp, question) == python
        history, *_ = respond(library, question, [], None, None, None)
        said = python["answer"] if not python["abstained"] else f"{python['answer']} (Why: {python['reason']}.)"
        assert history[-1]["content"] == chat_markdown(said)
        seen.append((python["abstained"], [c["para"] for c in python["citations"]]))
    assert seen == [(False, [50]), (True, [])]  # an answer and an abstention both went through
