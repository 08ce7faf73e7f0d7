"""Labelled (question, candidate sentence) pairs for the answer selector, from public QA sets and
from the project's own paraphrased questions over UN documents, split by document.

Splits are fixed and written into the model card:

- SQuAD 2.0 dev: articles in the order of docs.jsonl; the first 12 are the test split (the same
  articles `bench/public_sets.py --docs 12` evaluates), the next 6 calibration, the other 17 train.
- PolicyQA, COVID-QA and the UN paraphrase set: by the first hex digit of sha1(doc_id):
  0-2 test, 3-5 calibration, 6-f train.

Candidates are what the assistant would weigh: every sentence of the paragraph the question was
asked on (the gold one, or SQuAD's `asked_on_para` for an unanswerable question) and the sentences
of the document's paragraphs that share most of the question's terms (hard negatives). A sentence
is a positive when it overlaps a gold answer span.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from rag.answer.selector import SelectorInput, candidate_heading
from rag.errors import BadData, MissingData
from rag.paths import PROJECT
from rag.text.sentences import split_sentences
from rag.text.terms import terms

#: The project's paraphrased questions over UN documents (never the bundled report).
INDOMAIN_FILE = PROJECT / "training" / "un-paraphrase.jsonl"
SQUAD_TEST, SQUAD_CALIBRATION = 12, 6


@dataclass(frozen=True, slots=True)
class Pair:
    """One labelled candidate of one question."""

    group: str  # the question's id: pairs of one question are scored together
    question: str
    item: SelectorInput
    label: int
    source: str  # the set it came from


def hashed_split(doc_id: str) -> str:
    digit = int(hashlib.sha1(doc_id.encode("utf-8")).hexdigest()[0], 16)
    return "test" if digit < 3 else "calibration" if digit < 6 else "train"


def squad_split(position: int) -> str:
    if position < SQUAD_TEST:
        return "test"
    return "calibration" if position < SQUAD_TEST + SQUAD_CALIBRATION else "train"


def _read_jsonl(path: Path) -> list[dict]:
    if not path.is_file():
        raise MissingData(f"{path} not found: give the folder of the public QA sets (shared/data) with --data")
    rows = []
    try:
        with open(path, encoding="utf-8") as fh:
            for number, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                row = json.loads(line)
                if not isinstance(row, dict):
                    raise BadData(f"{path}, line {number}: not a JSON object of the normalised form")
                rows.append(row)
    except UnicodeDecodeError as exc:
        raise BadData(f"{path} is not UTF-8 text ({exc.reason})") from exc
    except json.JSONDecodeError as exc:
        raise BadData(f"{path}, line {number}: not a JSON object of the normalised form ({exc})") from exc
    return rows


class _DocTerms:
    """Term sets of a document's paragraphs, to find the ones a question is closest to."""

    def __init__(self, paragraphs: list[str]) -> None:
        self.sets = [set(terms(p)) for p in paragraphs]
        df = Counter(t for s in self.sets for t in s)
        n = len(self.sets)
        self.idf = {t: math.log(1 + (n - c + 0.5) / (c + 0.5)) for t, c in df.items()}

    def closest(self, question: str, k: int, skip: int) -> list[int]:
        q = set(terms(question))
        scored = [(sum(self.idf.get(t, 0.0) for t in q & s), i) for i, s in enumerate(self.sets) if i != skip]
        scored.sort(reverse=True)
        return [i for score, i in scored[:k] if score > 0]


def paragraph_candidates(text: str, heading: str) -> list[tuple[int, int, SelectorInput]]:
    """(start, end, input) for every sentence of a paragraph, each with the sentence before it."""
    out = []
    sentences = split_sentences(text)
    for n, s in enumerate(sentences):
        previous = text[sentences[n - 1].start : sentences[n - 1].end] if n else ""
        out.append((s.start, s.end, SelectorInput(text[s.start : s.end], previous, heading)))
    return out


def _overlaps(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    return any(start < b and a < end for a, b in spans)


def question_pairs(
    qid: str,
    question: str,
    paragraphs: list[str],
    doc_terms: _DocTerms,
    heading: str,
    asked_on: int,
    spans: list[tuple[int, int]],
    source: str,
    rng: random.Random,
    negatives_per_paragraph: int = 3,
    other_paragraphs: int = 2,
) -> list[Pair]:
    """Pairs of one question: the asked paragraph's sentences (positives where they overlap a
    gold span) and the closest other paragraphs' most similar sentences as negatives."""
    pairs = [
        Pair(qid, question, item, int(_overlaps(s, e, spans)), source)
        for s, e, item in paragraph_candidates(paragraphs[asked_on], heading)
    ]
    q = set(terms(question))
    for other in doc_terms.closest(question, other_paragraphs, skip=asked_on):
        cands = paragraph_candidates(paragraphs[other], heading)
        cands.sort(key=lambda c: (-len(q & set(terms(c[2].sentence))), rng.random()))
        pairs += [Pair(qid, question, item, 0, source) for _, _, item in cands[:negatives_per_paragraph]]
    return pairs


def public_pairs(folder: Path, split: str, *, max_questions: int | None = None, seed: int = 0) -> list[Pair]:
    """Pairs from one normalised public set (docs.jsonl + questions.jsonl) for one split."""
    docs = _read_jsonl(folder / "docs.jsonl")
    questions = _read_jsonl(folder / "questions.jsonl")
    source = folder.name
    is_squad = source.startswith("squad")
    chosen = {
        d["doc_id"]: d
        for n, d in enumerate(docs)
        if (squad_split(n) if is_squad else hashed_split(d["doc_id"])) == split
    }
    rng = random.Random(seed)
    rows = [q for q in questions if q["doc_id"] in chosen]
    rng.shuffle(rows)
    if max_questions is not None:
        rows = rows[:max_questions]
    terms_of: dict[str, _DocTerms] = {}
    out: list[Pair] = []
    for q in rows:
        doc = chosen[q["doc_id"]]
        paragraphs = doc["paragraphs"]
        gold = q.get("gold_para")
        asked = gold if gold is not None else q.get("asked_on_para")
        if asked is None or not 0 <= asked < len(paragraphs):
            continue
        spans: list[tuple[int, int]] = []
        if gold is not None:
            starts = q.get("answer_starts") or []
            for answer, start in zip(q.get("answers") or [], starts):
                if start is not None and start >= 0:
                    spans.append((int(start), int(start) + len(answer)))
            if not spans:
                for answer in q.get("answers") or []:
                    at = paragraphs[gold].find(answer)
                    if at >= 0:
                        spans.append((at, at + len(answer)))
            if not spans:
                continue  # no span to label by (ObliQA-like rows)
        if q["doc_id"] not in terms_of:
            terms_of[q["doc_id"]] = _DocTerms(paragraphs)
        heading = str(doc.get("title") or "").replace("_", " ")
        pairs = question_pairs(
            str(q["id"]),
            " ".join(q["question"].split()),
            paragraphs,
            terms_of[q["doc_id"]],
            heading,
            asked,
            spans,
            source,
            rng,
        )
        if gold is not None and not any(p.label for p in pairs):
            continue
        out.extend(pairs)
    return out


def indomain_pairs(path: Path, root: Path, split: str, *, seed: int = 0) -> list[Pair]:
    """Pairs from the project's paraphrased questions over UN documents.

    Each line: id, doc (a path under `root`, the shared data folder), question, answer (an exact
    sentence or passage of the document; null when the document does not answer it) and for an
    unanswerable question `near` (a phrase of the paragraph it tempts toward)."""
    from rag.readers import read_document
    from rag.text.paragraphs import split_paragraphs

    if not path.is_file():
        raise MissingData(f"{path} not found (the in-domain paraphrase set)")
    rows = _read_jsonl(path)
    rng = random.Random(seed)
    out: list[Pair] = []
    cache: dict[str, list[str]] = {}
    headings: dict[str, list[str]] = {}
    terms_of: dict[str, _DocTerms] = {}
    for row in rows:
        if hashed_split(row["doc"]) != split:
            continue
        if row["doc"] not in cache:
            file = root / row["doc"]
            if not file.is_file():
                raise MissingData(f"{file} not found: the in-domain questions read documents under --data")
            doc = read_document(file, root=file.parent)
            paras = split_paragraphs(doc)
            cache[row["doc"]] = [p.text for p in paras]
            # The heading the assistant shows the selector: the paragraph's section, else the title.
            headings[row["doc"]] = [candidate_heading(p.section, doc.title) for p in paras]
            terms_of[row["doc"]] = _DocTerms(cache[row["doc"]])
        paragraphs = cache[row["doc"]]
        key = squash(row.get("answer") or row.get("near") or "")
        asked = next((i for i, p in enumerate(paragraphs) if key and key in squash(p)), None)
        if asked is None:
            continue
        spans: list[tuple[int, int]] = []
        if row.get("answer"):
            spans = _find_spans(paragraphs[asked], row["answer"])
        pairs = question_pairs(
            str(row["id"]),
            row["question"],
            paragraphs,
            terms_of[row["doc"]],
            headings[row["doc"]][asked],
            asked,
            spans,
            "un-paraphrase",
            rng,
            negatives_per_paragraph=4,
            other_paragraphs=4,
        )
        if row.get("answer") and not any(p.label for p in pairs):
            continue
        out.extend(pairs)
    return out


def candidate_pairs(path: Path, *, top: int | None = None) -> list[Pair]:
    """Pairs from a file of candidates mined from the retriever (`training/mine_candidates.py`):
    the best `top` sentences of each question as the assistant ranked them, labelled."""
    pairs = []
    for row in _read_jsonl(path):
        for c in row["candidates"][:top]:
            item = SelectorInput(c["sentence"], c.get("previous", ""), c.get("heading", ""))
            pairs.append(Pair(str(row["id"]), row["question"], item, int(c["label"]), f"mined:{row.get('source', '')}"))
    return pairs


def squash(text: str) -> str:
    """Lower case, punctuation and spacing gone: how answers are found in paragraph text."""
    return " ".join(re.sub(r"[^\w]+", " ", text.lower()).split())


def _find_spans(text: str, answer: str) -> list[tuple[int, int]]:
    """The span of `answer` in `text`, compared without case, spacing or punctuation."""
    at = text.find(answer)
    if at >= 0:
        return [(at, at + len(answer))]
    # Map squashed positions back to the original text.
    chars, index = [], []
    for i, ch in enumerate(text.lower()):
        if ch.isalnum() or ch == "_":
            chars.append(ch)
            index.append(i)
        elif chars and chars[-1] != " ":
            chars.append(" ")
            index.append(i)
    squashed, key = "".join(chars), squash(answer)
    at = squashed.find(key)
    if at < 0:
        return []
    return [(index[at], index[min(at + len(key), len(index)) - 1] + 1)]
