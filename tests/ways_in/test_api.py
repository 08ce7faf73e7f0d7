"""The HTTP API (`rag api`): the same answers as the library, JSON errors, tokens, limits, uploads."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import pytest
from conftest import ROOT, copy_site
from fastapi.testclient import TestClient

from rag.assistant import Assistant
from rag.cite.serialize import answer_record
from rag.index import load_index
from rag.ways_in.api import create_app
from rag.ways_in.library import Library

QUESTION = "Which government provided resources for the third meeting?"
TOKEN = "s3cret-token"


@pytest.fixture()
def library(tmp_path, bundled_index, embedder):
    copy_site(tmp_path, bundled_index)
    assistant = Assistant(load_index(tmp_path / "index"), embedder, index_dir=tmp_path / "index")
    return Library(assistant, tmp_path / "corpus", max_upload_bytes=64 * 1024)


@pytest.fixture()
def client(library):
    return TestClient(create_app(library))


def auth(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_ask_gives_the_record_rag_ask_json_gives(client, library):
    got = client.post("/ask", json={"question": QUESTION, "id": "q1"})
    assert got.status_code == 200
    expected = answer_record(library.current().ask(QUESTION), qid="q1")
    assert got.json() == json.loads(json.dumps(expected))
    assert got.json()["citations"][0]["para"] == 50 and not got.json()["abstained"]


def test_batch_answers_in_order_and_one_bad_question_does_not_sink_it(client):
    body = {"questions": [{"question": QUESTION, "id": "a"}, {"question": "  ", "id": "b"}, {"question": "x?", "k": 0}]}
    got = client.post("/ask/batch", json=body).json()["answers"]
    assert [r.get("id") for r in got] == ["a", "b", None]
    assert got[0]["citations"][0]["para"] == 50
    assert got[1]["error"]["code"] == "empty_question"
    assert got[2]["error"]["code"] == "bad_setting" and "k must be between" in got[2]["error"]["message"]


def test_search_paragraph_and_documents(client):
    found = client.post("/search", json={"question": QUESTION, "k": 3}).json()["paragraphs"]
    assert len(found) == 3 and 50 in [p["para"] for p in found]
    para50 = next(p for p in found if p["para"] == 50)
    assert "China" in para50["text"] and para50["reference"].endswith("para. 50")

    docs = client.get("/documents").json()["documents"]
    assert [d["doc"] for d in docs] == ["cybercrime-expert-group-2017"] and docs[0]["paragraphs"] == 60
    for cite in ("para. 50", "50"):
        got = client.get("/paragraph", params={"doc": "cybercrime-expert-group-2017", "cite": cite})
        assert got.status_code == 200 and got.json()["text"] == para50["text"]
    missing = client.get("/paragraph", params={"doc": "cybercrime-expert-group-2017", "cite": "para. 999"})
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "no_paragraph"
    assert client.get("/paragraph", params={"doc": "nope", "cite": "1"}).json()["error"]["code"] == "no_document"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"question": ""}, 400, "empty_question"),
        ({"question": "x" * 3000}, 413, "question_too_long"),
        ({"question": QUESTION, "threshold": 2}, 400, "bad_setting"),
        ({"question": QUESTION, "k": 1000}, 400, "bad_setting"),
        ({"question": QUESTION, "doc": "no-such-doc"}, 400, "bad_input"),
        ({"question": 12}, 422, "bad_request"),
        ({}, 422, "bad_request"),
    ],
)
def test_bad_input_is_a_json_error_never_a_500(client, body, status, code):
    got = client.post("/ask", json=body)
    assert got.status_code == status
    assert got.json()["error"]["code"] == code and got.json()["error"]["message"]


def test_bodies_over_the_limit_and_broken_json_are_refused(client):
    big = client.post("/ask", content=b"{" + b" " * 300_000 + b"}", headers={"content-type": "application/json"})
    assert big.status_code == 413 and big.json()["error"]["code"] == "too_large"
    broken = client.post("/ask", content=b"{not json", headers={"content-type": "application/json"})
    assert broken.status_code == 422 and broken.json()["error"]["code"] == "bad_request"
    many = client.post("/ask/batch", json={"questions": [{"question": "x"}] * 201})
    assert many.status_code == 413 and many.json()["error"]["code"] == "too_many"


def test_without_a_token_reads_are_open_and_writes_refused(client, library):
    assert client.get("/ready").json()["documents"] == 1
    got = client.post("/documents", files={"file": ("note.md", b"# Note\n\n1. The fee is 12 euros.\n")})
    assert got.status_code == 403 and got.json()["error"]["code"] == "writes_disabled"
    assert client.delete("/documents", params={"doc": "uploads/note"}).status_code == 403
    assert not (library.corpus / "uploads").exists()


def test_with_a_token_every_route_but_health_needs_it(library):
    client = TestClient(create_app(library, token=TOKEN))
    assert client.get("/health").json() == {"status": "ok"}
    for wrong in ({}, auth("wrong"), {"Authorization": TOKEN}):
        got = client.post("/ask", json={"question": QUESTION}, headers=wrong)
        assert got.status_code == 401 and got.json()["error"]["code"] == "unauthorized"
    assert client.post("/ask", json={"question": QUESTION}, headers=auth()).json()["citations"][0]["para"] == 50


def test_add_ask_and_remove_a_document(library):
    client = TestClient(create_app(library, token=TOKEN))
    text = b"# Fees of the registry\n\n1. The registry charges a filing fee of 40 euros per application.\n"
    added = client.post("/documents", files={"file": ("fees.md", text)}, headers=auth())
    assert added.status_code == 200, added.text
    assert added.json()["added"]["doc"] == "uploads/fees" and added.json()["added"]["uploaded"]
    answer = client.post("/ask", json={"question": "How much is the filing fee of the registry?"}, headers=auth())
    assert answer.json()["citations"][0]["doc"] == "uploads/fees"
    again = client.post("/documents", files={"file": ("fees.md", text)}, headers=auth())
    assert again.status_code == 400 and "already in the corpus" in again.json()["error"]["message"]
    refused = client.post("/documents", files={"file": ("x.exe", b"MZ")}, headers=auth())
    assert refused.status_code == 400 and "not a supported document" in refused.json()["error"]["message"]
    big = client.post("/documents", files={"file": ("big.md", b"a " * 40_000)}, headers=auth())
    assert big.status_code == 413
    bundled = client.delete("/documents", params={"doc": "cybercrime-expert-group-2017"}, headers=auth())
    assert bundled.status_code == 400 and "was not added" in bundled.json()["error"]["message"]
    removed = client.delete("/documents", params={"doc": "uploads/fees"}, headers=auth())
    assert removed.status_code == 200 and removed.json()["removed"] == "uploads/fees"
    assert [d["doc"] for d in client.get("/documents", headers=auth()).json()["documents"]] == [
        "cybercrime-expert-group-2017"
    ]


def test_schema_and_docs_page(client):
    schema = client.get("/openapi.json").json()
    assert {"/ask", "/ask/batch", "/search", "/paragraph", "/documents", "/health", "/ready"} <= set(schema["paths"])
    assert client.get("/docs").status_code == 200


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_rag_api_serves_and_refuses_an_open_public_address(tmp_path, bundled_index):
    import httpx

    copy_site(tmp_path, bundled_index)
    env = {**os.environ, "RAG_API_TOKEN": ""}
    cmd = [sys.executable, "-m", "rag", "api", "--index", str(tmp_path / "index")]
    public = subprocess.run([*cmd, "--host", "0.0.0.0"], capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)
    assert public.returncode == 2 and "give a token with --token" in public.stderr
    assert "Traceback" not in public.stderr

    port = _free_port()
    server = subprocess.Popen([*cmd, "--port", str(port)], env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 90
        while True:
            try:
                got = httpx.post(f"http://127.0.0.1:{port}/ask", json={"question": QUESTION}, timeout=10)
                break
            except httpx.TransportError:
                assert server.poll() is None and time.time() < deadline
                time.sleep(0.5)
        assert got.status_code == 200 and got.json()["citations"][0]["para"] == 50
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_an_index_rebuilt_by_another_process_is_loaded_again(library, client, embedder):
    from rag.index import build_index

    (library.corpus / "fees.md").write_text("# Fees\n\n1. The registry charges a filing fee of 40 euros.\n")
    build_index(library.corpus, library.current().index_dir, embedder=embedder, progress=False)
    docs = [d["doc"] for d in client.get("/documents").json()["documents"]]
    assert docs == ["cybercrime-expert-group-2017", "fees"]
    answer = client.post("/ask", json={"question": "How much is the registry's filing fee?"}).json()
    assert answer["citations"][0]["doc"] == "fees"
