"""The answer selector: shipped in the repo, loaded offline, checked, and reading words."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, copy_site, write

from rag.answer.confidence import CONFIDENCE_FILE, SelectorScorer
from rag.answer.selector import DEFAULT_SELECTOR, WEIGHTS, AnswerSelector, SelectorInput
from rag.errors import BadSetting, SelectorProblem


@pytest.fixture(scope="module")
def selector() -> AnswerSelector:
    return AnswerSelector.load()


@pytest.fixture(scope="module")
def selector_assistant(bundled_index, embedder):
    """The bundled report answered with the answer selector (`--scorer selector`)."""
    from rag.assistant import Assistant
    from rag.index import load_index

    return Assistant(load_index(bundled_index), embedder, index_dir=bundled_index, scorer=SelectorScorer.load())


def test_the_shipped_selector_is_in_the_repo_small_and_named():
    assert DEFAULT_SELECTOR.is_relative_to(ROOT)
    about = json.loads((DEFAULT_SELECTOR / "selector.json").read_text())
    assert about["name"] == "answer-selector" and about["version"]
    size = sum(f.stat().st_size for f in DEFAULT_SELECTOR.iterdir())
    assert size < 31 * 2**20
    card = (DEFAULT_SELECTOR / "MODEL_CARD.md").read_text()
    assert "sha256" in card and "calibration" in card.lower()
    assert (DEFAULT_SELECTOR / CONFIDENCE_FILE).is_file()


def test_the_answering_sentence_outscores_the_distractors(selector):
    """Three sentences, three questions in the sentences' own words: each question's answer is
    read above the other two. (Paraphrased questions it does not yet read reliably: see
    eval/SELECTOR.md; that is why it is not the default.)"""
    sentences = [
        SelectorInput(
            "The Expert Group expressed its appreciation to the Government of China for providing "
            "extrabudgetary resources towards the holding of the third meeting."
        ),
        SelectorInput("The third meeting of the Expert Group was held in Vienna from 10 to 13 April 2017."),
        SelectorInput(
            "The meeting was attended by representatives of 87 Member States, 4 intergovernmental "
            "organizations, 2 institutions from academia and 1 from the private sector."
        ),
    ]
    for question, right in (
        ("Which Government provided extrabudgetary resources for the third meeting?", 0),
        ("Where was the third meeting held?", 1),
        ("How many Member States attended the meeting?", 2),
    ):
        logits = selector.logits(question, sentences)
        assert int(np.argmax(logits)) == right, (question, logits)
        again = selector.logits(question, sentences[::-1])[::-1]
        assert np.allclose(logits, again, atol=1e-3)  # one candidate's score does not depend on the others


def test_any_question_is_scored_safely(selector):
    items = [SelectorInput("A sentence. " * 400, "before " * 300, "Heading " * 100)]
    for question in (
        "x" * 5000,
        "¿Quién inauguró la reunión? 谁主持了会议？ من افتتح الاجتماع؟",
        "?!?!",
        "\u0000\u200b",
    ):
        out = selector.logits(question, items)
        assert out.shape == (1,) and np.isfinite(out).all()
    assert selector.logits("anything", []).shape == (0,)


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "selector"
    shutil.copytree(DEFAULT_SELECTOR, folder)
    return folder


def test_a_missing_or_damaged_selector_is_a_one_line_error(tmp_path):
    folder = _copy(tmp_path)
    weights = folder / WEIGHTS
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(SelectorProblem) as err:
        AnswerSelector.load(folder)
    assert "do not match" in str(err.value) and "rag.answer.train_selector" in str(err.value)
    assert "\n" not in str(err.value)
    weights.unlink()
    with pytest.raises(SelectorProblem, match="missing"):
        AnswerSelector.load(folder)
    with pytest.raises(SelectorProblem, match="missing"):
        AnswerSelector.load(tmp_path / "nowhere")


def test_a_confidence_fitted_for_another_selector_version_is_refused(tmp_path):
    folder = _copy(tmp_path)
    raw = json.loads((folder / CONFIDENCE_FILE).read_text())
    raw["about"]["selector"] = "answer-selector@0.0-other"
    (folder / CONFIDENCE_FILE).write_text(json.dumps(raw))
    with pytest.raises(SelectorProblem, match="fitted for answer-selector@0.0-other"):
        SelectorScorer.load(folder)
    (folder / CONFIDENCE_FILE).write_text("{not json")
    with pytest.raises(SelectorProblem, match="unreadable"):
        SelectorScorer.load(folder)


def test_answers_name_what_scored_them(assistant, selector_assistant):
    from rag.cite.serialize import answer_record

    label = selector_assistant.scorer.label
    assert label.startswith("answer-selector@")
    assert answer_record(selector_assistant.ask("Who opened the meeting?"))["scorer"] == label
    assert answer_record(assistant.ask("Who opened the meeting?"))["scorer"] == "hand"
    assert selector_assistant.settings.threshold == selector_assistant.scorer.model.threshold


def test_a_training_run_without_its_data_names_the_folder(tmp_path):
    missing = tmp_path / "no-such-data"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "rag.answer.train_selector",
            "--data",
            str(missing),
            "--out",
            str(tmp_path / "out"),
            "--steps",
            "1",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert run.returncode == 2
    assert str(missing) in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "out").exists()


def test_the_selector_answers_a_paraphrase_and_keeps_the_hand_order(selector_assistant, assistant):
    question = "Which government paid for the third session?"
    answer = selector_assistant.ask(question, threshold=0.0)
    assert not answer.abstained
    assert answer.citations[0].paragraph == 50 and "China" in answer.citations[0].quote
    assert answer.confidence == pytest.approx(selector_assistant.consider(question).candidates[0].score)
    ranked = selector_assistant.consider(question).candidates
    assert [c.row for c in ranked] == [c.row for c in assistant.consider(question).candidates]


def test_question_files_give_what_ask_gives(tmp_path, bundled_index, selector_assistant):
    """`rag batch --scorer selector` and the API give the same answer and confidence."""
    from rag.ways_in.cli import main

    site = copy_site(tmp_path, bundled_index)
    questions = [
        "When and where did the group first convene?",
        "Who opened the meeting?",
        "How much money did China contribute?",
    ]
    write(site / "q.txt", "\n".join(questions) + "\n")
    assert (
        main(
            [
                "batch",
                str(site / "q.txt"),
                "--out",
                str(site / "a.jsonl"),
                "--index",
                str(site / "index"),
                "--scorer",
                "selector",
            ]
        )
        == 0
    )
    records = [json.loads(line) for line in (site / "a.jsonl").read_text().splitlines()]
    for q, record in zip(questions, records):
        answer = selector_assistant.ask(q)
        assert record["answer"] == answer.text and record["abstained"] == answer.abstained
        assert abs(record["confidence"] - round(answer.confidence, 4)) < 1e-4
        assert record["scorer"] == selector_assistant.scorer.label


def _tiny_public_sets(root: Path) -> None:
    """Three public sets in the normalised form, small enough to train on in seconds."""
    facts = [
        ("Vienna", "The meeting was held in Vienna in April.", "Where was the meeting held?"),
        ("China", "The Government of China funded the meeting.", "Who funded the meeting?"),
        ("87", "Representatives of 87 States attended.", "How many States attended?"),
    ]
    for name in ("squad2_dev", "policyqa", "covidqa"):
        folder = root / name
        folder.mkdir(parents=True)
        docs, questions = [], []
        for d in range(20):
            answer, sentence, question = facts[d % 3]
            paragraph = f"This is document {d}. {sentence} Nothing else happened there."
            docs.append(
                {"doc_id": f"{name}-{d}", "title": f"Document {d}", "paragraphs": [paragraph, "An unrelated line."]}
            )
            questions.append(
                {
                    "id": f"{name}-q{d}",
                    "doc_id": f"{name}-{d}",
                    "question": question,
                    "gold_para": 0,
                    "answers": [answer],
                    "answer_starts": [paragraph.index(answer)],
                }
            )
            questions.append(
                {
                    "id": f"{name}-u{d}",
                    "doc_id": f"{name}-{d}",
                    "question": "Who chaired it?",
                    "gold_para": None,
                    "answers": [],
                    "asked_on_para": 0,
                }
            )
        write(folder / "docs.jsonl", "".join(json.dumps(x) + "\n" for x in docs))
        write(folder / "questions.jsonl", "".join(json.dumps(x) + "\n" for x in questions))


def test_a_training_run_writes_a_selector_that_loads_and_resumes_after_a_stop(tmp_path):
    """The whole training path on tiny data: pairs, steps, a checkpoint, a stop, a resume, and a
    folder that `AnswerSelector.load` accepts (hash checked) and that scores."""
    _tiny_public_sets(tmp_path / "data")
    out = tmp_path / "sel"
    base = [
        sys.executable,
        "-m",
        "rag.answer.train_selector",
        "--data",
        str(tmp_path / "data"),
        "--out",
        str(out),
        "--no-indomain",
        "--layers",
        "1",
        "--max-tokens",
        "32",
        "--batch",
        "8",
        "--steps",
        "4",
        "--checkpoint-every",
        "2",
        "--calibration-questions",
        "5",
        "--threads",
        "1",
        "--version",
        "test",
    ]
    first = subprocess.run([*base, "--stop-after", "2"], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert first.returncode == 0, first.stderr[-2000:]
    assert (out.with_name("sel.ckpt") / "state.pt").is_file()
    again = subprocess.run([*base, "--resume"], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "resumed at step 2" in again.stderr
    about = json.loads((out / "selector.json").read_text())
    assert about["version"] == "test" and about["layers"] == 1 and about["steps_run"] == 4
    assert "squad2_dev/docs.jsonl" in (out / "MODEL_CARD.md").read_text()
    loaded = AnswerSelector.load(out)
    assert loaded.label == "answer-selector@test"
    assert loaded.logits("Where was the meeting held?", [SelectorInput("It was held in Vienna.")]).shape == (1,)


def test_a_training_run_on_a_malformed_data_file_names_the_file_and_line(tmp_path):
    _tiny_public_sets(tmp_path / "data")
    questions = tmp_path / "data" / "policyqa" / "questions.jsonl"
    questions.write_text(questions.read_text() + "{not json\n")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "rag.answer.train_selector",
            "--data",
            str(tmp_path / "data"),
            "--out",
            str(tmp_path / "out"),
            "--no-indomain",
            "--steps",
            "1",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert run.returncode == 2
    assert f"{questions}, line 41" in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("which", ["hand", "selector"])
def test_bad_questions_get_an_answer_an_abstention_or_a_clear_error(which, assistant, selector_assistant):
    from rag.errors import EmptyQuestion, QuestionTooLong

    chosen = selector_assistant if which == "selector" else assistant
    for empty in ("   ", "\u200b\n\t", "?" * 1999):
        with pytest.raises(EmptyQuestion):
            chosen.ask(empty)
    with pytest.raises(QuestionTooLong):
        chosen.ask("why " * 1000)
    with pytest.raises(BadSetting, match="k must be between 1 and 100"):
        chosen.ask("Who opened the meeting?", k=0)
    # A lone surrogate is what a shell hands Python for a byte that is not UTF-8.
    for hostile in ("agenda \udcff 6 \x00 <script>alert(1)</script>", "議程 第六項是什麼？" * 40, "What " + "?" * 1990):
        answer = chosen.ask(hostile)
        assert answer.abstained or answer.citations
        assert 0.0 <= answer.confidence <= 1.0


def test_the_selector_on_onnx_runtime_reads_as_torch_does(tmp_path):
    """Answering runs the selector on ONNX Runtime (no torch at answer time); its readings are
    those of the same network in torch, float32 (long candidates cut the same way)."""
    folder = tmp_path / "selector"
    shutil.copytree(DEFAULT_SELECTOR, folder)
    about = json.loads((folder / "selector.json").read_text())
    (folder / "selector.json").write_text(json.dumps({**about, "quantize": "none"}))
    onnx, torch_fp32 = AnswerSelector.load(folder), AnswerSelector.load(folder, backend="torch")
    assert onnx.onnx is not None and torch_fp32.onnx is None
    question = "Which country paid for the meeting of the expert group in Vienna? " * 2
    items = [
        SelectorInput("The meeting was funded by resources provided by the Government of China.", "", "Organization"),
        SelectorInput("The meeting was opened by the representative of South Africa.", "It met in Vienna.", "Opening"),
        SelectorInput("The Expert Group discussed cybercrime legislation at length. " * 12, "Before. " * 30, "Long"),
    ]
    np.testing.assert_allclose(onnx.logits(question, items), torch_fp32.logits(question, items), atol=1e-3)
