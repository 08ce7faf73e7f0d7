"""The one loaded assistant of a running server (the page, the HTTP API, the MCP server), and the
document changes that swap it for a new one.

Every way in that keeps an assistant in memory holds it in a `Library`: questions read the
current assistant without waiting; adding or removing a document takes the lock, rebuilds the
index aside (`rag.ways_in.uploads`), and swaps in an assistant loaded from the new index with the same
settings, model, scorer and query adapter, so an answer never depends on which way in asked.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

from rag.assistant import Assistant
from rag.errors import RagError, Refused
from rag.index import MANIFEST, current_folder
from rag.types import DocumentInfo, Paragraph
from rag.ways_in.uploads import DEFAULT_MAX_BYTES, add_document, remove_document

log = logging.getLogger(__name__)


@dataclass
class Library:
    """The current assistant over one corpus and index; uploads and removals swap it."""

    assistant: Assistant
    corpus: Path
    max_upload_bytes: int = DEFAULT_MAX_BYTES
    lock: threading.Lock = field(default_factory=threading.Lock)
    # The manifest the assistant was loaded from, as (inode, mtime, size); when the file on disk
    # differs, another process (a second server worker, `rag index`) rebuilt the index.
    _stamp: tuple[int, int, int] | None = field(default=None, init=False)
    _failed: tuple[int, int, int] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self._stamp = self._manifest_stamp()

    def _manifest_stamp(self) -> tuple[int, int, int] | None:
        if self.assistant.index_dir is None:
            return None
        try:
            st = (current_folder(self.assistant.index_dir) / MANIFEST).stat()
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def current(self) -> Assistant:
        """The assistant over the index as it is on disk now: one rebuilt by another process
        since it was loaded is loaded first (one stat a question when nothing changed)."""
        stamp = self._manifest_stamp()
        if stamp is None or stamp in (self._stamp, self._failed):
            return self.assistant
        with self.lock:
            return self._refreshed()

    def _refreshed(self) -> Assistant:
        """The assistant, loaded again if the index on disk changed; the lock is held."""
        stamp = self._manifest_stamp()
        if stamp is not None and stamp not in (self._stamp, self._failed):
            try:
                self._reload(self.assistant)
                log.info("the index changed on disk; loaded it again")
            except RagError as exc:  # caught mid-build, say: keep answering from the loaded one
                self._failed = stamp
                log.warning("the index changed on disk but cannot be loaded (%s); answering from the one loaded", exc)
        return self.assistant

    def _reload(self, old: Assistant) -> None:
        self.assistant = Assistant.load(
            old.index_dir or "index",
            corpus=self.corpus,
            settings=old.settings,
            embedder=old.embedder,
            scorer=old.scorer,
            adapter=old.adapter or False,
        )
        self._stamp = self._manifest_stamp()

    def add(self, path: Path, name: str, *, progress: bool = False) -> tuple[str, DocumentInfo]:
        """Add a file under the name the user gave it; (its document id, what the index holds).

        Raises:
            InputError: the file is refused (type, size, empty, unreadable, name taken); nothing changed.
        """
        with self.lock:
            old = self._refreshed()  # another process may have changed the index since it was loaded
            doc_id, _ = add_document(
                path,
                name,
                self.corpus,
                old.index_dir or "index",
                max_bytes=self.max_upload_bytes,
                embedder=old.embedder,
                progress=progress,
            )
            self._reload(old)
        return doc_id, self.current().documents[doc_id]

    def remove(self, doc_id: str) -> DocumentInfo:
        """Take an uploaded document out of the corpus and the index; what it was.

        Raises:
            InputError: no such document, or it was not uploaded; nothing changed.
        """
        with self.lock:
            old = self._refreshed()
            remove_document(doc_id, self.corpus, old.index_dir or "index", embedder=old.embedder)
            info = old.documents[doc_id]
            self._reload(old)
        return info


def lookup_paragraph(assistant: Assistant, doc: str, cite: str) -> Paragraph:
    """The paragraph a user cites: its document by id, file name or symbol, the paragraph as the
    citation names it ("para. 12", "Art. 24(1)", "fn. 3") or by its number alone ("12").

    Raises:
        Refused: no such document (404), or it has no paragraph cited so.
    """
    doc_id = assistant.document_id(doc)
    if doc_id is None or doc_id not in assistant.documents:
        raise Refused(404, "no_document", f"no document '{doc}' in the index; list them with the documents call")
    text = " ".join(str(cite).split())
    found = assistant.paragraph(doc_id, int(text) if text.isdigit() else text)
    if found is None and text.isdigit():
        found = assistant.paragraph(doc_id, f"para. {text}")
    if found is None:
        raise Refused(404, "no_paragraph", f"'{doc_id}' has no paragraph cited as '{cite}'")
    return found
