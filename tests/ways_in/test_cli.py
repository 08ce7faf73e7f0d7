from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import copy_site, write

from rag.cite.serialize import answer_record
from rag.ways_in.cli import main

QUESTION = "What is agenda item 6 of the meeting?"


@pytest.fixture()
def workdir(tmp_path, bundled_index, monkeypatch):
    copy_site(tmp_path, bundled_index)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_ask_json_cites_paragraph_56(workdir, capsys):
    assert main(["ask", QUESTION, "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["citations"][0]["para"] == 56
    for key in ("id", "question", "answer", "abstained", "citations", "retrieved"):
        assert key in record
    assert set(record["citations"][0]) >= {"doc", "para", "section", "quote", "start", "end", "score"}
    assert set(record["retrieved"][0]) == {"doc", "para", "cite", "score"}


def test_three_ways_in_give_the_same_answer(workdir, assistant, capsys):
    api = answer_record(assistant.ask(QUESTION))
    assert main(["ask", QUESTION, "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    write(workdir / "q.csv", f'id,question,note\nx1,"{QUESTION}",ignored\n')
    assert main(["batch", "q.csv", "--out", "a.jsonl"]) == 0
    (batch,) = [json.loads(line) for line in (workdir / "a.jsonl").read_text().splitlines()]
    assert batch["id"] == "x1"
    for record in (cli, batch):
        record.pop("id")
    api.pop("id")
    assert api == cli == batch


def test_batch_survives_bad_lines_and_reads_all_formats(workdir, capsys):
    write(
        workdir / "q.jsonl",
        '{"id": "a", "question": "Who opened the meeting?", "gold": 3}\n'
        "{broken\n"
        '{"id": "c", "question": ""}\n'
        '{"id": "d", "question": "When was the report adopted?"}\n',
    )
    assert main(["batch", "q.jsonl", "--out", "out.jsonl"]) == 1
    rows = [json.loads(line) for line in (workdir / "out.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == ["a", "line-2", "c", "d"]
    assert "error" not in rows[0] and "error" not in rows[3]
    assert "not valid JSON" in rows[1]["error"] and "empty" in rows[2]["error"]
    assert "line 2" in capsys.readouterr().err
    write(workdir / "q.txt", "# comment\nWho opened the meeting?\n\nWhen was the report adopted?\n")
    assert main(["batch", "q.txt", "--out", "t.jsonl"]) == 0
    assert len((workdir / "t.jsonl").read_text().splitlines()) == 2
    write(workdir / "nocol.csv", "text\nhello\n")
    assert main(["batch", "nocol.csv", "--out", "n.jsonl"]) == 2
    assert "needs a 'question' column" in capsys.readouterr().err


def test_errors_exit_non_zero_with_one_line(workdir, capsys):
    assert main(["ask", "   "]) == 2
    assert capsys.readouterr().err.strip() == "error: the question is empty; type a question in words"
    assert main(["ask", "y" * 100_000]) == 2
    assert "limit is 2,000" in capsys.readouterr().err
    assert main(["ask", "anything", "--index", "no-index"]) == 2
    assert "no index at no-index" in capsys.readouterr().err
    write(workdir / "corpus" / "extra.md", "1. A new paragraph.\n2. And another.\n")
    assert main(["ask", "anything"]) == 2
    assert "extra.md is new since the index was built; run: rag index" in capsys.readouterr().err
    assert main(["index", "--corpus", "missing-folder", "--quiet"]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_rag_command_is_installed(workdir):
    result = subprocess.run(
        [sys.executable, "-m", "rag", "ask", "Who opened the meeting?"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "[para. 52]" in result.stdout


def test_unreadable_question_files_and_bad_settings_exit_non_zero(workdir, capsys):
    assert main(["batch", "missing.jsonl", "--out", "o.jsonl"]) == 2
    assert "missing.jsonl: cannot be read" in capsys.readouterr().err
    (workdir / "latin.txt").write_bytes("Qui a ouvert la réunion ?\n".encode("latin-1"))
    assert main(["batch", "latin.txt", "--out", "o.jsonl"]) == 2
    assert "latin.txt: is not UTF-8 text" in capsys.readouterr().err
    assert not (workdir / "o.jsonl").exists()  # nothing half-written
    assert main(["ask", "Who opened the meeting?", "--k", "0"]) == 2
    assert "k must be between 1 and 100, got 0" in capsys.readouterr().err


def test_a_question_line_can_keep_to_one_document(assistant, tmp_path):
    from conftest import DOC

    from rag.ways_in.batch import run_batch

    path = write(
        tmp_path / "q.jsonl",
        json.dumps({"id": "in", "question": "How many Member States attended?", "doc": DOC})
        + "\n"
        + json.dumps({"id": "out", "question": "How many Member States attended?", "doc": "nope"})
        + "\n"
        + json.dumps({"id": "all", "question": "How many Member States attended?", "doc": ""})
        + "\n",
    )
    result = run_batch(assistant, path)
    by_id = {r["id"]: r for r in result.records}
    assert by_id["in"]["citations"][0]["doc"] == DOC and "error" not in by_id["in"]
    assert "no document 'nope'" in by_id["out"]["error"]
    assert by_id["all"]["answer"] == by_id["in"]["answer"]
    assert len(result.failed) == 1


def test_a_missing_or_broken_scorer_file_is_a_clear_error(workdir, capsys):
    assert main(["ask", "Who opened the meeting?", "--scorer", "no-such-scorer.json"]) == 2
    assert "cannot read scorer file no-such-scorer.json" in capsys.readouterr().err
    write(workdir / "broken.json", '{"features": ["x"], "coef": [1], "intercept": 0}')
    assert main(["ask", "Who opened the meeting?", "--scorer", "broken.json"]) == 2
    assert "does not compute: x" in capsys.readouterr().err


def test_odd_document_names_in_a_question_file_are_failed_lines_not_crashes(assistant, tmp_path):
    from rag.ways_in.batch import run_batch

    path = write(
        tmp_path / "q.jsonl",
        json.dumps({"id": "n", "question": "How many Member States attended?", "doc": 7})
        + "\n"
        + json.dumps({"id": "l", "question": "How many Member States attended?", "doc": ["a"]})
        + "\n"
        + json.dumps({"id": "h", "question": "How many Member States attended?", "doc": "x" * 5000})
        + "\n",
    )
    result = run_batch(assistant, path)
    assert [("no document" in r["error"]) for r in result.records] == [True, True, True]
    assert all(len(r["error"]) < 400 for r in result.records)


def test_index_verify_checks_every_file(workdir, capsys):
    assert main(["index", "--verify"]) == 0
    assert "match the sizes and hashes" in capsys.readouterr().out
    with open(workdir / "index" / "sentences_vectors.npy", "r+b") as fh:  # one byte flipped, same size
        fh.seek(-1, 2)
        last = fh.read(1)
        fh.seek(-1, 2)
        fh.write(bytes([last[0] ^ 1]))
    assert main(["index", "--verify"]) != 0
    err = capsys.readouterr().err.strip()
    assert "sentences_vectors.npy does not match its hash" in err and len(err.splitlines()) == 1


def test_the_page_indexes_a_document_added_since_the_index_instead_of_refusing_to_start(workdir, capsys):
    from rag.ways_in.cli import build_parser
    from rag.ways_in.commands import load_for_serving

    write(workdir / "corpus" / "harbour.md", "# Harbour\n\n1. The harbour committee met in Valletta.\n")
    args = build_parser().parse_args(["serve"])
    assistant = load_for_serving(args)
    assert "harbour" in assistant.documents and "indexing" in capsys.readouterr().err
    (workdir / "corpus" / "broken.md").write_bytes(b"\xff\xfe\x00binary")
    assistant = load_for_serving(args)  # the bad file is named, the page still starts
    assert "broken.md" in capsys.readouterr().err and "harbour" in assistant.documents


@pytest.mark.parametrize(
    "argv, says",
    [
        (["serve", "--auth", "nopassword"], "--auth takes USER:PASSWORD"),
        (["serve", "--auth", ":secret"], "--auth takes USER:PASSWORD"),
        (["serve", "--workers", "0"], "workers must be positive"),
        (["serve", "--port", "70000"], "port must be between 0 and 65535"),
        (["serve", "--max-upload-kb", "0"], "max_upload_kb must be positive"),
        (["index", "--max-file-mb", "0"], "max_file_mb must be positive"),
        (["index", "--window-tokens", "0"], "need 0 <= overlap < tokens"),
        (["index", "--ann-threshold", "-1"], "ann_threshold must not be negative"),
        (["index", "--engine", "ray", "--ray-workers", "0"], "ray workers must be positive"),
        (["index", "--engine", "ray", "--address", "127.0.0.1:1"], "no Ray cluster answers at 127.0.0.1:1"),
    ],
)
def test_bad_options_are_one_line_errors(workdir, capsys, argv, says):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and says in err and err.count("\n") == 1 and "Traceback" not in err


def test_batch_checks_its_output_before_answering(workdir, capsys):
    """--out that is a folder, or the question file itself, is refused in one line before any
    question is answered, and nothing is written or erased."""
    questions = write(workdir / "q.txt", "Who opened the meeting?\n")
    (workdir / "answers").mkdir()
    assert main(["batch", "q.txt", "--out", "answers"]) == 2
    assert "is a folder" in capsys.readouterr().err
    assert main(["batch", "q.txt", "--out", "q.txt"]) == 2
    assert "is the question file itself" in capsys.readouterr().err
    assert questions.read_text() == "Who opened the meeting?\n"


def test_batch_writes_as_it_goes_resumes_and_reports_duplicate_ids(workdir, capsys):
    """Each answer is a line of --out as soon as it is made; --resume after a kill keeps the
    answers written, drops a line the kill cut short, and answers only the rest."""
    lines = [
        {"id": "a", "question": "Who opened the meeting?"},
        {"id": "b", "question": "What is agenda item 6 of the meeting?"},
        {"id": "c", "question": "How many Member States attended?"},
        {"id": "a", "question": "Who chaired the meeting?"},
    ]
    write(workdir / "q.jsonl", "".join(json.dumps(line) + "\n" for line in lines))
    assert main(["batch", "q.jsonl", "--out", "out.jsonl"]) == 1  # the duplicate id is a failure
    err = capsys.readouterr().err
    assert "id 'a' is also the id of line 1" in err
    full = (workdir / "out.jsonl").read_text().splitlines()
    assert [json.loads(x)["id"] for x in full] == ["a", "b", "c", "a"]
    # As a kill would leave it: the first answer whole, the second cut short.
    (workdir / "out.jsonl").write_text(full[0] + "\n" + full[1][:40])
    main(["batch", "q.jsonl", "--out", "out.jsonl", "--resume"])
    resumed = [json.loads(x) for x in (workdir / "out.jsonl").read_text().splitlines()]
    assert [r["id"] for r in resumed] == ["a", "b", "c"]
    assert resumed[1] == json.loads(full[1]) and resumed[2] == json.loads(full[2])


def test_serve_on_a_port_in_use_is_one_line(workdir, capsys):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert f"cannot serve on 127.0.0.1:{port}" in err and "--port" in err and err.count("\n") == 1


def test_a_mistyped_flag_gets_its_commands_usage_and_the_nearest_flag(workdir, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["ask", QUESTION, "--jsn"])
    err = capsys.readouterr().err
    assert stopped.value.code == 2
    assert err.startswith("usage: rag ask") and "unrecognized arguments: --jsn (did you mean --json?)" in err


def test_a_bad_question_line_is_reported_once_naming_its_keys(workdir, capsys):
    write(
        workdir / "q.jsonl",
        json.dumps({"id": "a", "question": QUESTION}) + "\n" + json.dumps({"id": "b", "qestion": "typo"}) + "\n",
    )
    assert main(["batch", "q.jsonl", "--out", "a.jsonl"]) == 1
    err = capsys.readouterr().err
    assert err.count("line 2") == 1
    assert "its keys: 'id', 'qestion'; is 'qestion' meant to be 'question'?" in err


def test_rag_index_reports_its_result_once(workdir, capsys):
    write(workdir / "corpus" / "fees.md", "# Fees\n\n1. The registry charges a filing fee of 40 euros.\n")
    assert main(["index", "--quiet"]) == 0
    captured = capsys.readouterr()
    said = captured.out + captured.err
    assert said.count("Indexed 2 document(s)") == 1 and "indexed 2 documents" not in said
    # What is left out on purpose is named: the bundled report's date and language lines.
    left = next(line for line in captured.out.splitlines() if "left out on purpose" in line)
    assert left.startswith("cybercrime-expert-group-2017.md: 2 line(s)")
    numbers = [int(n) for n in left.rsplit("line(s) ", 1)[1].split(", ")]
    lines = (workdir / "corpus" / "cybercrime-expert-group-2017.md").read_text(encoding="utf-8").splitlines()
    assert [lines[n - 1].strip() for n in numbers] == ["24 April 2017", "Original: English"]


def test_two_documents_are_told_apart_by_symbol_in_markers(workdir, capsys):
    write(
        workdir / "corpus" / "fees.md", "# Fees of the registry\n\n1. The registry charges a filing fee of 40 euros.\n"
    )
    assert main(["index", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["ask", QUESTION]) == 0
    assert "[UNODC/CCPCJ/EG.4/2017/4, para. 56]" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["api", "--workers", "0"], "workers must be positive, got 0"),
        (["api", "--max-upload-kb", "0"], "max_upload_kb must be positive, got 0"),
        (["api", "--host", "0.0.0.0", "--token", "  "], "give a token with --token"),
        (["mcp", "--http", "--host", "0.0.0.0"], "serve it on this machine only"),
    ],
)
def test_servers_refuse_bad_options_in_one_line(workdir, capsys, monkeypatch, argv, said):
    monkeypatch.delenv("RAG_API_TOKEN", raising=False)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert said in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
