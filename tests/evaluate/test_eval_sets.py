"""The question sets are what they claim to be: the paraphrase set does not reuse the report's
wording, its answer keys stand in its gold paragraphs, and it has the mix the README promises."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PARAPHRASE = ROOT / "eval" / "paraphrase.jsonl"


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _words(text: str) -> list[str]:
    return re.findall(r"[\w/.'’-]+", text.lower().replace("’", "'"))


def _runs(text: str, n: int = 4) -> set[tuple[str, ...]]:
    w = [x.strip(".'") for x in _words(text)]
    return {tuple(w[i : i + n]) for i in range(len(w) - n + 1)}


def _squash(text: str) -> str:
    return " ".join(re.sub(r"[^\w/.()-]+", " ", text.lower()).split())


def test_paraphrase_set_has_the_promised_mix():
    rows = _rows(PARAPHRASE)
    assert len(rows) >= 120
    assert len({r["id"] for r in rows}) == len(rows)
    unanswerable = [r for r in rows if r["gold_paras"] == []]
    multi = [r for r in rows if len(r["gold_paras"]) > 1]
    assert len(unanswerable) >= 25
    assert len(multi) >= 15
    assert all(r["answer_keys"] for r in rows if r["gold_paras"])


def test_paraphrase_questions_share_no_four_word_run_with_their_paragraphs(report_paragraphs):
    whole = " ".join(p.text for p in report_paragraphs.values())
    offenders = []
    for r in _rows(PARAPHRASE):
        # An answerable question is checked against its gold paragraphs; an unanswerable one
        # against the whole report, which it must not echo either.
        source = " ".join(report_paragraphs[n].text for n in r["gold_paras"]) if r["gold_paras"] else whole
        shared = _runs(r["question"]) & _runs(source)
        if shared:
            offenders.append((r["id"], sorted(shared)[0]))
    assert not offenders


def test_paraphrase_answer_keys_stand_in_a_gold_paragraph(report_paragraphs):
    for r in _rows(PARAPHRASE):
        for key in r["answer_keys"]:
            assert any(_squash(key) in _squash(report_paragraphs[n].text) for n in r["gold_paras"]), (r["id"], key)


@pytest.mark.parametrize("name", ["un-paraphrase.jsonl"])
def test_training_questions_never_use_the_checking_documents(name):
    """The in-domain training questions read other UN documents: never the bundled report, nor
    the documents of eval/held-out (A/RES/80/9) or the Budapest Convention check."""
    rows = _rows(ROOT / "training" / name)
    assert len(rows) >= 150
    banned = ("cybercrime-expert-group", "A_RES_80_9.md", "convention-on-cybercrime")
    assert not [r["id"] for r in rows if any(b in r["doc"] for b in banned)]
    asked = {r["question"].strip().lower() for r in rows}
    checks = {
        r["question"].strip().lower() for f in ("dev.jsonl", "paraphrase.jsonl") for r in _rows(ROOT / "eval" / f)
    }
    assert not asked & checks
