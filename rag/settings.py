"""Every knob's default, in one place: validated once, passed down, never global.

`Settings` is what a user may tune per question; `BuildSettings` shapes an index (changing one
rebuilds it); `ServeSettings` is the page's. The command line takes its defaults from here.
"""

from __future__ import annotations

from dataclasses import dataclass

from rag.errors import BadSetting

DEFAULT_MODEL = "all-MiniLM-L6-v2"


@dataclass(frozen=True, slots=True)
class WindowSettings:
    """How text longer than the model's input is cut: tokens per window and overlap."""

    tokens: int = 200
    overlap: int = 48

    def __post_init__(self) -> None:
        if self.tokens <= 0 or not 0 <= self.overlap < self.tokens:
            raise BadSetting(f"need 0 <= overlap < tokens, got {self.overlap} and {self.tokens}")


@dataclass(frozen=True)
class BuildSettings:
    """What an index is built with."""

    model: str = DEFAULT_MODEL  # sentence-transformers name or path
    window: WindowSettings = WindowSettings()
    max_file_mb: float = 20.0  # a corpus file above this is skipped, named with its size
    # Above this many paragraph windows the index also holds an approximate search index of
    # them (IVF with 8-bit codes), and above this many sentences only the sentences of the
    # paragraphs found are scored (no search over all of them). At a million vectors IVF found
    # 0.981 of the exact top 10 in 3.6 ms against 142 ms for exact search, at 100,000 also
    # 0.981 in 1.3 ms against 14 ms (bench/ann.py); below, exact search costs little.
    ann_threshold: int = 100_000

    def __post_init__(self) -> None:
        if not self.model or not self.model.strip():
            raise BadSetting("the model name is empty")
        if not self.max_file_mb > 0:
            raise BadSetting(f"max_file_mb must be positive, got {self.max_file_mb}")
        if self.ann_threshold < 0:
            raise BadSetting(f"ann_threshold must not be negative, got {self.ann_threshold}")


@dataclass(frozen=True)
class ServeSettings:
    """How the chat page is served."""

    host: str = "127.0.0.1"
    port: int = 7860
    max_upload_kb: int = 2048  # largest document a user may upload
    workers: int = 4  # questions answered at the same time

    def __post_init__(self) -> None:
        if self.workers <= 0:
            raise BadSetting(f"workers must be positive, got {self.workers}")
        if self.max_upload_kb <= 0:
            raise BadSetting(f"max_upload_kb must be positive, got {self.max_upload_kb}")
        if not 0 <= self.port <= 65535:
            raise BadSetting(f"port must be between 0 and 65535, got {self.port}")


#: The most paragraphs a question may retrieve: beyond it the composer scores thousands of
#: sentences for nothing a user could read.
MAX_K = 100


@dataclass(frozen=True)
class Settings:
    """What a user may tune without rebuilding the index."""

    k: int = 5  # paragraphs retrieved
    # Abstain when the best sentence's confidence is below this. None: the scorer's own default
    # (0.42 for the hand weights, rag/scorer.py; the answer selector's calibrated threshold,
    # read off its calibration split, eval/SELECTOR.md).
    threshold: float | None = None
    max_sentences: int = 3
    margin: float = 0.08  # extra sentences must score within this of the best (0.05: -2 points correct)
    # The same, for a question that says how many things it wants ("Which three States ...?")
    # when the best sentence lists fewer.
    list_margin: float = 0.15
    near_duplicate: float = 0.9  # cosine above which a second sentence adds nothing
    # A second sentence must hold question terms the first lacks. Off: on dev and SQuAD it raised
    # citation precision (0.82->0.86, 0.89->0.90) but cost 2-3 points of correct answers.
    require_new_terms: bool = False
    max_question_chars: int = 2000
    # Clusters an approximate search looks in (only for indexes large enough to have one): at a
    # million vectors, with the index's own build, 256 found 0.980 of the exact top 10 in 6.1 ms,
    # 128 found 0.976 in 3.5 ms (bench/ann.py, the questions of training/un-paraphrase.jsonl).
    nprobe: int = 256
    # Share of BM25 (scaled by its best score) in the paragraph ranking, the rest the best cosine
    # of a paragraph's windows and sentences. 0.2 rather than 0.3: recall@5 on eval/paraphrase.jsonl
    # 0.878 -> 0.887, dev and held-out unchanged (bench/compare_sets.py --lexical-weight); on the
    # UN calibration split 0.714 -> 0.738 (training/train_adapter.py, before any adapter).
    lexical_weight: float = 0.2
    # Footnotes and captions lose this much confidence: most UN footnotes are references
    # ("Resolution 64/293") that share a question's words without answering it. On the UN tuning
    # splits 0.05-1 all turned the one footnote answer (to an unanswerable question) into an
    # abstention and changed nothing else (bench/note_penalty.py, docs/READERS.md).
    note_penalty: float = 0.1
    # When several documents are indexed and a question names one by its symbol, that document
    # gains this in every paragraph's ranking score; when it names one in words ("the child rights
    # treaty"), each document whose title is closer to those words than the median title gains
    # this times the difference. On the UN calibration split
    # recall@5 0.817 -> 0.826 (0.2: 0.822, 0.6: 0.824), on its train split 0.892 -> 0.899
    # (bench/compare_sets.py --document-weight; rag/retrieve/named_document.py). Titles are
    # encoded on the first such question (about 3 s for 1,500 documents).
    document_weight: float = 0.4
    # When several documents are indexed, each document whose content as a whole (the mean of its
    # paragraphs' vectors) is closer to the question than the median document's gains this times
    # the difference (rag/retrieve/named_document.py). On the UN calibration split recall@5
    # 0.827 -> 0.843 and recall@1 0.566 -> 0.593 at 0.3 (0.2: 0.836, 0.5: 0.839), on its train
    # split 0.900 -> 0.898 and 0.686 -> 0.697 (retrieval alone, a one-off sweep; end to end:
    # bench/compare_sets.py --topic-weight, eval/READER.md).
    topic_weight: float = 0.3

    def __post_init__(self) -> None:
        if not 0 < self.k <= MAX_K:
            raise BadSetting(f"k must be between 1 and {MAX_K}, got {self.k}")
        if self.max_sentences <= 0:
            raise BadSetting(f"max_sentences must be positive, got {self.max_sentences}")
        if self.threshold is not None and not 0.0 <= self.threshold <= 1.0:
            raise BadSetting(f"threshold must be between 0 and 1, got {self.threshold}")
        if not 0.0 <= self.note_penalty <= 1.0:
            raise BadSetting(f"note_penalty must be between 0 and 1, got {self.note_penalty}")
        if self.nprobe <= 0:
            raise BadSetting(f"nprobe must be positive, got {self.nprobe}")
        if not 0.0 <= self.lexical_weight <= 1.0:
            raise BadSetting(f"lexical_weight must be between 0 and 1, got {self.lexical_weight}")
        if not 0.0 <= self.document_weight <= 1.0:
            raise BadSetting(f"document_weight must be between 0 and 1, got {self.document_weight}")
        if not 0.0 <= self.topic_weight <= 1.0:
            raise BadSetting(f"topic_weight must be between 0 and 1, got {self.topic_weight}")
        if not 0.0 <= self.list_margin <= 1.0:
            raise BadSetting(f"list_margin must be between 0 and 1, got {self.list_margin}")
        if self.max_question_chars <= 0:
            raise BadSetting(f"max_question_chars must be positive, got {self.max_question_chars}")
