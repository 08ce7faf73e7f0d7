"""Read a corpus file into a Document: one module per format behind `read_document`.

Every reader returns the same `Document`: lines of text (Markdown markup kept, headings as `#`
lines, footnotes as `[^n]:` definitions), the page of each line where the format has pages,
and what the document says about itself (title, date, symbol). The paragraph splitter does the
rest, the same way for every format.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Iterator
from pathlib import Path

from ..errors import DuplicateDocument, EmptyCorpus, UnreadableDocument
from ..types import Document
from .docx import read_docx
from .html import read_html
from .pdf import read_pdf
from .text import read_text, text_sha256

log = logging.getLogger(__name__)

Reader = Callable[[Path, str, str], Document]

READERS: dict[str, Reader] = {
    ".md": read_text,
    ".markdown": read_text,
    ".txt": read_text,
    ".pdf": read_pdf,
    ".docx": read_docx,
    ".html": read_html,
    ".htm": read_html,
}
_TEXT_FORMATS = {".md", ".markdown", ".txt"}


def doc_id_for(rel: Path) -> str:
    """A stable, readable document id from a path relative to the corpus folder."""
    stem = rel.with_suffix("").as_posix()
    slug = re.sub(r"[^\w/.-]+", "-", stem).strip("-./")  # letters of any script are kept
    return slug or "document"


def file_sha256(path: Path) -> str:
    """The hash recorded in the manifest for a corpus file: of its text for text files (so a
    byte order mark or a re-save in another encoding does not matter), of its bytes otherwise."""
    if path.suffix.lower() in _TEXT_FORMATS:
        return text_sha256(path)
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        raise UnreadableDocument(f"{path}: cannot be read ({exc.strerror or exc})") from exc


def corpus_files(corpus: str | Path) -> list[tuple[str, Path]]:
    """The (doc_id, path) of every readable-format file under a corpus folder, sorted.

    Raises:
        EmptyCorpus: the folder is missing or holds no supported file.
        DuplicateDocument: two files would share a document id.
    """
    root = Path(corpus)
    if not root.is_dir():
        raise EmptyCorpus(
            f"corpus folder {root} does not exist; create it and put documents in it ({', '.join(sorted(READERS))})"
        )
    found: dict[str, Path] = {}
    for path in sorted(root.rglob("*")):
        if not path.is_file() or any(part.startswith(".") for part in path.relative_to(root).parts):
            continue
        if path.suffix.lower() not in READERS:
            log.info("skipping %s: no reader for %s files", path, path.suffix or "extensionless")
            continue
        doc_id = doc_id_for(path.relative_to(root))
        if doc_id in found:
            raise DuplicateDocument(
                f"{found[doc_id].relative_to(root)} and {path.relative_to(root)} would both be "
                f"document '{doc_id}'; rename one of them"
            )
        found[doc_id] = path
    if not found:
        raise EmptyCorpus(f"corpus folder {root} holds no document (supported: {', '.join(sorted(READERS))})")
    return sorted(found.items())


def ignored_files(corpus: str | Path) -> dict[str, str]:
    """Files of a corpus folder that are not documents, with the reason: hidden names, links
    that lead nowhere, links to folders, pipes and other special files, unsupported formats."""
    root = Path(corpus)
    out: dict[str, str] = {}
    if not root.is_dir():
        return out
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part.startswith(".") for part in rel.parts[:-1]):
            continue  # inside a hidden folder: not looked at
        name = rel.as_posix()
        if rel.name.startswith("."):
            if path.is_file():
                out[name] = "a hidden file (its name starts with a dot)"
        elif path.is_symlink() and not path.exists():
            out[name] = "a link to a file that does not exist"
        elif path.is_symlink() and path.is_dir():
            out[name] = "a link to a folder: links to folders are not followed; copy the folder in to index it"
        elif path.exists() and not path.is_file() and not path.is_dir():
            out[name] = "not a regular file (a pipe, socket or device)"
        elif path.is_file() and path.suffix.lower() not in READERS:
            out[name] = (
                f"no reader for {path.suffix or 'files without an extension'} (supported: {', '.join(sorted(READERS))})"
            )
    return out


def read_document(path: str | Path, *, doc_id: str | None = None, root: str | Path | None = None) -> Document:
    """Read one file with the reader for its format.

    Raises:
        UnreadableDocument: the format is not supported or the file cannot be read as it.
    """
    path = Path(path)
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise UnreadableDocument(f"{path.name}: unsupported format (supported: {', '.join(sorted(READERS))})")
    rel = path.relative_to(root).as_posix() if root is not None else path.name
    return reader(path, doc_id or doc_id_for(Path(rel)), rel)


def read_corpus(corpus: str | Path) -> Iterator[Document]:
    """Read every document of a corpus folder."""
    for doc_id, path in corpus_files(corpus):
        yield read_document(path, doc_id=doc_id, root=corpus)


__all__ = [
    "READERS",
    "Reader",
    "corpus_files",
    "doc_id_for",
    "file_sha256",
    "ignored_files",
    "read_corpus",
    "read_document",
]
