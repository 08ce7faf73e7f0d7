"""Assistant: a loaded index and model that answer questions; the one loading place."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from rag.answer.compose import compose_answer, score_sentences
from rag.answer.features import Candidate, TermWeights
from rag.answer.qtypes import question_parts
from rag.answer.scorer import HandScorer, Scorer
from rag.cite.citations import label
from rag.cite.documents import Documents
from rag.encode.adapter import QueryAdapter
from rag.encode.embedding import Embedder
from rag.encode.query_encoder import QueryEncoder
from rag.errors import BadSetting, EmptyQuestion, QuestionTooLong
from rag.index import IndexData, Manifest, load_index
from rag.retrieve.named_document import DocumentPrior
from rag.retrieve.retriever import Evidence, Retriever
from rag.settings import MAX_K, Settings
from rag.text.terms import terms
from rag.types import Answer, Hit, Paragraph

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Considered:
    """A question after retrieval and scoring: its evidence and ranked candidate sentences."""

    question: str
    evidence: Evidence
    candidates: tuple[Candidate, ...]
    # A compound question's parts ("When was it adopted, and when did it enter into force?"),
    # each with the same evidence's sentences scored by the part's own words and the kind of fact
    # it wants (the vector is the whole question's: nothing is encoded again); () for a simple one.
    parts: tuple[tuple[Candidate, ...], ...] = ()


def shipped_query_map(manifest: Manifest) -> QueryAdapter | QueryEncoder | None:
    """What moves questions before paragraphs are ranked, as shipped for the index's model: the
    query encoder when there is one, else the query adapter, else nothing."""
    encoder = QueryEncoder.shipped_for(manifest.build.model, manifest.dimension)
    if encoder is not None:
        return encoder
    return QueryAdapter.shipped_for(manifest.build.model, manifest.dimension)


class Assistant:
    """Answers questions from one index; load once, ask many."""

    def __init__(
        self,
        data: IndexData,
        embedder: Embedder,
        settings: Settings = Settings(),
        *,
        index_dir: Path | None = None,
        scorer: Scorer | None = None,
        adapter: QueryAdapter | QueryEncoder | bool = True,
    ) -> None:
        self.data = data
        self.embedder = embedder
        self.index_dir = index_dir
        self.scorer: Scorer = scorer if scorer is not None else HandScorer()
        if settings.threshold is None:
            settings = replace(settings, threshold=self.scorer.default_threshold)
        self.settings = settings
        # The query adapter: the shipped one when it was trained for the index's model (True), none
        # (False), or the one given; every way in builds an Assistant, so all answer alike.
        self.adapter = shipped_query_map(data.manifest) if adapter is True else adapter or None
        # A query encoder encodes the question once, and that vector both ranks the paragraphs
        # and scores the sentences; a query adapter moves the packaged model's vector for the
        # ranking only.
        encoder = self.adapter if isinstance(self.adapter, QueryEncoder) else None
        self.question_embedder = encoder.embedder if encoder else embedder
        self.retriever = Retriever(
            data,
            nprobe=self.settings.nprobe,
            lexical_weight=self.settings.lexical_weight,
            adapter=self.adapter if isinstance(self.adapter, QueryAdapter) else None,
        )
        self.idf = TermWeights(data)
        self.document_prior = DocumentPrior(data, embedder)

    @classmethod
    def load(
        cls,
        index_dir: str | Path = "index",
        *,
        corpus: str | Path | None = None,
        settings: Settings = Settings(),
        model: str | None = None,
        threads: int = 1,
        embedder: Embedder | None = None,
        scorer: Scorer | None = None,
        adapter: QueryAdapter | QueryEncoder | bool = True,
    ) -> Assistant:
        """Load an index and the model it was built with.

        Args:
            index_dir: folder written by `build_index`.
            corpus: corpus folder to check the index against (default: the one it was built from).
            settings: retrieval and answer settings.
            model: expected model; a different one than the index's raises StaleIndex.
            threads: torch threads for encoding questions (1 is fastest on a shared machine).
            embedder: an already loaded model to reuse (it must be the index's model).
            scorer: how sentences are scored (default: `HandScorer()`, the hand weights;
                `ReaderScorer.load()` for the reader trained here, `SelectorScorer.load()` for the
                answer selector with its calibrated confidence).
            adapter: what moves questions before paragraphs are ranked (a QueryEncoder or a
                QueryAdapter): True for the shipped one trained for the index's model (the query
                encoder, else the query adapter), False for none.

        Raises:
            IndexMissing, StaleIndex, CorruptIndex: the index cannot be used; run `rag index`.
            SelectorProblem: the answer selector's files are missing or damaged.
        """
        from rag.errors import StaleIndex

        data = load_index(index_dir, corpus=corpus)
        if model is not None and model != data.manifest.build.model:
            raise StaleIndex(
                f"the index was built with model '{data.manifest.build.model}', not '{model}'; run: rag index --model {model}"
            )
        if embedder is None or embedder.name != data.manifest.build.model:
            embedder = Embedder(data.manifest.build.model, threads=threads, window=data.manifest.build.window)
        if embedder.dimension != data.manifest.dimension:
            raise StaleIndex(
                f"model '{embedder.name}' gives {embedder.dimension}-dimensional vectors, "
                f"the index holds {data.manifest.dimension}; run: rag index"
            )
        return cls(
            data,
            embedder,
            settings,
            index_dir=Path(index_dir),
            scorer=scorer,
            adapter=adapter,
        )

    def corpus_dir(self) -> Path | None:
        """The corpus folder the index was built from, if known."""
        if self.index_dir is None:
            return None
        return (self.index_dir / self.data.manifest.corpus).resolve()

    def retrieve(self, question: str, *, k: int, doc_id: str | None = None) -> tuple[Hit, ...]:
        """Only the retrieval step: the top-k paragraphs for a question."""
        q = self.check_question(question)
        if not 0 < k <= MAX_K:
            raise BadSetting(f"k must be between 1 and {MAX_K}, got {k}")
        return self.evidence(q, self.encode_question(q), terms(q), k=k, doc_id=doc_id).hits

    def evidence(
        self, question: str, vector: np.ndarray, query_terms: list[str], *, k: int, doc_id: str | None
    ) -> Evidence:
        """The top-k paragraphs for a question already checked (`check_question`) and encoded:
        when several documents are indexed and no document is chosen, the one the question names
        (by symbol, acronym or in words) is ranked higher, and so are those whose content as a whole
        is closest to the question. The one retrieval every way in uses."""
        weights: dict[str, float] = {}
        if doc_id is None and len(self.data.doc_rows) > 1:
            prior, settings = self.document_prior, self.settings
            if settings.document_weight > 0:
                for d, w in prior.weights(question).items():
                    weights[d] = settings.document_weight * w
            if settings.topic_weight > 0:
                packaged = vector if self.question_embedder is self.embedder else self.embedder.encode_query(question)
                for d, w in prior.by_content(packaged).items():
                    weights[d] = weights.get(d, 0.0) + settings.topic_weight * w
        return self.retriever.search(
            vector,
            query_terms,
            k=k,
            doc_id=self.document_id(doc_id),
            question=question,
            document_weights=weights or None,
        )

    def encode_question(self, question: str) -> np.ndarray:
        """The question's unit vector, as the retriever and the sentence scores take it."""
        return self.question_embedder.encode_query(question)

    def document_id(self, name: str | None) -> str | None:
        """The id of the document a user names by its id, file name or symbol ("A/RES/80/9");
        a name that fits none is returned as given (the search then says it is unknown)."""
        if name is None or name in self.data.doc_rows:
            return name
        return self.data.manifest.documents.find(name) or name

    @property
    def documents(self) -> Documents:
        return self.data.manifest.documents

    def check_question(self, question: str) -> str:
        """The question stripped, or an InputError saying what is wrong with it."""
        if not isinstance(question, str) or not question.strip():
            raise EmptyQuestion("the question is empty; type a question in words")
        # A lone surrogate (bytes that were not UTF-8, passed through by the shell) cannot be
        # tokenised; it becomes U+FFFD, as any undecodable byte would.
        question = question.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
        q = " ".join(question.split())
        if not re.search(r"\w", q):  # only spaces, punctuation or invisible characters
            raise EmptyQuestion("the question has no words; type a question in words")
        if len(q) > self.settings.max_question_chars:
            raise QuestionTooLong(
                f"the question has {len(q):,} characters; the limit is "
                f"{self.settings.max_question_chars:,}. Ask it in fewer words"
            )
        return q

    def consider(
        self, question: str, *, k: int | None = None, doc_id: str | None = None, vector: np.ndarray | None = None
    ) -> Considered:
        """Retrieve and score: everything an answer is composed from, at any threshold.

        Args:
            question: the question in plain words.
            k: paragraphs to retrieve (default: settings.k).
            doc_id: only search this document.
            vector: the question's vector, if the caller has it already.
        """
        q = self.check_question(question)
        query_terms = terms(q)
        if vector is None:
            vector = self.encode_question(q)
        if k is not None and not 0 < k <= MAX_K:
            raise BadSetting(f"k must be between 1 and {MAX_K}, got {k}")
        evidence = self.evidence(q, vector, query_terms, k=self.settings.k if k is None else k, doc_id=doc_id)
        candidates = self._score(q, query_terms, evidence)
        asked = question_parts(q)
        parts = tuple(self._score(part, terms(part), evidence) for part in asked) if len(asked) > 1 else ()
        return Considered(q, evidence, candidates, parts)

    def _score(self, question: str, query_terms: list[str], evidence: Evidence) -> tuple[Candidate, ...]:
        """The sentences of the evidence scored for a question, best first; notes lose note_penalty."""
        candidates = score_sentences(question, query_terms, evidence, self.data, self.idf, self.scorer)
        if self.settings.note_penalty and any(c.paragraph.kind == "note" for c in candidates):
            candidates = sorted(
                (
                    replace(c, score=max(0.0, c.score - self.settings.note_penalty))
                    if c.paragraph.kind == "note"
                    else c
                    for c in candidates
                ),
                key=lambda c: -c.score,
            )
        return tuple(candidates)

    @property
    def threshold(self) -> float:
        """The abstention threshold in force: the settings' own, or the scorer's default put in
        the settings when the assistant was made (the one place the default is resolved)."""
        assert self.settings.threshold is not None
        return self.settings.threshold

    def compose(self, considered: Considered, *, threshold: float | None = None) -> Answer:
        """The answer at a threshold (default: settings.threshold); pure, so it can be called
        for every point of an abstention curve without asking again."""
        if threshold is not None and not 0.0 <= threshold <= 1.0:
            raise BadSetting(f"threshold must be between 0 and 1, got {threshold}")
        answer = compose_answer(
            considered.question,
            list(considered.candidates),
            considered.evidence,
            considered.parts,
            self.data,
            self.settings,
            self.threshold if threshold is None else threshold,
        )
        return replace(answer, scorer=self.scorer.label)

    def ask(
        self, question: str, *, k: int | None = None, doc_id: str | None = None, threshold: float | None = None
    ) -> Answer:
        """Answer one question with verbatim cited sentences, or abstain.

        Args:
            question: the question in plain words.
            k: paragraphs to retrieve (default: settings.k).
            doc_id: only search this document.
            threshold: abstention threshold (default: settings.threshold).
        """
        return self.compose(self.consider(question, k=k, doc_id=doc_id), threshold=threshold)

    def paragraph(self, doc_id: str, number: int | str) -> Paragraph | None:
        """The paragraph of this document with this number (12) or this name as cited
        ("para. 145.20", "Art. 24(1)", "fn. 27"), if any."""
        first, last = self.data.doc_rows.get(doc_id, (0, 0))
        for p in self.data.paragraphs[first:last]:
            if (p.kind == "para" and p.number == number) if isinstance(number, int) else label(p) == number:
                return p
        return None

    def neighbours(self, paragraph: Paragraph) -> tuple[Paragraph | None, Paragraph | None]:
        """The paragraphs just before and after this one in its document (footnotes aside)."""
        first, last = self.data.doc_rows.get(paragraph.doc_id, (0, 0))
        body = [p for p in self.data.paragraphs[first:last] if p.kind == "para"]
        i = next((j for j, p in enumerate(body) if p is paragraph or p == paragraph), None)
        if i is None:
            return None, None
        return (body[i - 1] if i > 0 else None), (body[i + 1] if i + 1 < len(body) else None)
