"""The MCP server (`rag mcp`): its tools, called through the SDK's own client, give the records the
HTTP API and the library give."""

from __future__ import annotations

import json
import os
import sys

import anyio
import pytest
from conftest import ROOT, copy_site
from mcp import Client, StdioServerParameters

from rag.assistant import Assistant
from rag.cite.serialize import answer_record
from rag.index import load_index
from rag.ways_in.library import Library
from rag.ways_in.mcp_server import create_server

QUESTION = "Which government provided resources for the third meeting?"


@pytest.fixture()
def library(tmp_path, bundled_index, embedder):
    copy_site(tmp_path, bundled_index)
    assistant = Assistant(load_index(tmp_path / "index"), embedder, index_dir=tmp_path / "index")
    return Library(assistant, tmp_path / "corpus")


def call(server, name: str, arguments: dict):
    async def run():
        async with Client(server) as client:
            return await client.call_tool(name, arguments)

    return anyio.run(run)


def test_tools_are_listed_with_their_arguments(library):
    async def run():
        async with Client(create_server(library)) as client:
            return (await client.list_tools()).tools

    tools = {t.name: t for t in anyio.run(run)}
    assert set(tools) == {"ask", "search", "paragraph", "documents"}
    assert tools["ask"].input_schema["required"] == ["question"]


def test_ask_gives_the_librarys_record(library):
    result = call(create_server(library), "ask", {"question": QUESTION})
    assert not result.is_error
    expected = json.loads(json.dumps(answer_record(library.current().ask(QUESTION))))
    assert result.structured_content == expected
    assert expected["citations"][0]["para"] == 50


def test_search_paragraph_documents_and_errors(library):
    server = create_server(library)
    found = call(server, "search", {"question": QUESTION, "k": 3}).structured_content["paragraphs"]
    assert 50 in [p["para"] for p in found]
    para = call(server, "paragraph", {"doc": "cybercrime-expert-group-2017", "cite": "para. 56"}).structured_content
    assert para["para"] == 56 and "6. Examining options" in para["text"]
    docs = call(server, "documents", {}).structured_content["documents"]
    assert [d["doc"] for d in docs] == ["cybercrime-expert-group-2017"]

    empty = call(server, "ask", {"question": "   "})
    assert empty.is_error and "the question is empty" in empty.content[0].text
    missing = call(server, "paragraph", {"doc": "cybercrime-expert-group-2017", "cite": "para. 999"})
    assert missing.is_error and "no paragraph cited as 'para. 999'" in missing.content[0].text


def test_rag_mcp_over_stdio(tmp_path, bundled_index):
    copy_site(tmp_path, bundled_index)
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "rag", "mcp", "--index", str(tmp_path / "index")],
        cwd=str(ROOT),
        env={**os.environ},
    )

    async def run():
        async with Client(params, read_timeout_seconds=120) as client:
            return await client.call_tool("ask", {"question": QUESTION})

    result = anyio.run(run)
    assert not result.is_error and result.structured_content["citations"][0]["para"] == 50
