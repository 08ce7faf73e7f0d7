"""The manifest: what an index folder holds and how it was made; written last, checked on load."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from rag.cite.documents import Documents
from rag.settings import BuildSettings, WindowSettings
from rag.types import DocumentInfo
from rag.version import __version__

log = logging.getLogger(__name__)

FORMAT_VERSION = 6  # 2: paragraphs carry their reference, kind and pages; 3: file sizes and hashes;
# 4: the line offsets of paragraphs.jsonl, so that paragraphs are read when used; 5: the manifest
# carries the hash of its own content; 6: the build settings are stored whole (`build`)


def pipeline_fingerprint() -> str:
    """A hash of the code that turns files into paragraphs, sentences and BM25 terms.

    Vectors, offsets and term indexes are only valid for the code that made them, so an
    index built by other splitting code is stale, and its vectors are not reused.
    """
    from rag import readers, text

    digest = hashlib.sha256()
    for package in (readers, text):
        for path in sorted(Path(str(package.__file__)).parent.glob("*.py")):
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


MANIFEST = "manifest.json"
FILES = (
    "paragraphs.jsonl",
    "paragraphs.offsets.npy",
    "paragraphs.npy",
    "windows.npy",
    "sentences.npy",
    "sentences_vectors.npy",
    "sentence_windows.npy",
    "bm25/params.index.json",
)


@dataclass(frozen=True)
class Manifest:
    """What an index holds and how it was made; written last, checked on load."""

    build: BuildSettings  # everything the index was built with; a rebuild passes it on whole
    dimension: int
    max_seq_length: int
    documents: Documents
    corpus: str
    paragraphs: int = 0
    sentences: int = 0
    windows: int = 0
    format_version: int = FORMAT_VERSION
    rag_version: str = __version__
    pipeline: str = ""
    skipped: dict[str, dict[str, str]] = field(default_factory=dict)  # file -> sha256 of its bytes, reason
    files: dict[str, dict] = field(default_factory=dict)  # index file -> {"bytes", "sha256"}
    created: str = ""
    build_seconds: float = 0.0
    # sha256 of the manifest written with this field empty: an edit of the manifest (a title, a
    # file's hash, the file table) is caught when it is read.
    checksum: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.documents, Documents):  # the one table that names them
            object.__setattr__(self, "documents", Documents(self.documents))

    def to_json(self) -> str:
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        fields["build"] = asdict(self.build)
        fields["documents"] = {k: asdict(v) for k, v in self.documents.items()}
        return json.dumps(fields, indent=2, ensure_ascii=False)

    def own_hash(self) -> str:
        """The checksum this manifest should carry: the hash of its JSON with the field empty."""
        return text_hash(json.loads(replace(self, checksum="").to_json()))

    def sealed(self) -> Manifest:
        """This manifest carrying its own checksum, as it is written."""
        return replace(self, checksum=self.own_hash())

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        return cls.from_raw(json.loads(text))

    @classmethod
    def from_raw(cls, raw: dict) -> Manifest:
        """The manifest of parsed JSON (left as it was)."""
        raw = dict(raw)
        if "build" not in raw:  # format 5 and before: the settings were fields of their own
            raw["build"] = {"model": raw.pop("model"), "window": raw.pop("window")}
            if "ann_threshold" in raw:
                raw["build"]["ann_threshold"] = raw.pop("ann_threshold")
            raw.pop("selector", None)
        build = dict(raw["build"])
        build["window"] = WindowSettings(**build["window"])
        raw["build"] = BuildSettings(**build)
        raw["documents"] = Documents(
            {
                k: DocumentInfo(
                    **{**v, "ocr_pages": tuple(v.get("ocr_pages", ())), "left_out": tuple(v.get("left_out", ()))}
                )
                for k, v in raw["documents"].items()
            }
        )
        return cls(**raw)


def text_hash(raw: dict) -> str:
    """The checksum of a manifest as written: the hash of its JSON with the checksum field empty.
    Computed from the JSON as read, not from the fields this version knows, so that a manifest
    written before a field was added is still recognised as untouched (and then found stale or
    current on its own merits) rather than taken for an edited one."""
    text = json.dumps({**raw, "checksum": ""}, indent=2, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
