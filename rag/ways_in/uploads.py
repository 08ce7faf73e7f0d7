"""A user's documents: added to the corpus's uploads folder (checked, sanitised, indexed, or
refused) and removed from it again. The corpus's other documents are never touched here."""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
from pathlib import Path

from rag.encode.embedding import Embedder
from rag.errors import InputError, UnreadableDocument
from rag.index import Manifest, build_index, read_manifest
from rag.readers import READERS, doc_id_for
from rag.settings import ServeSettings
from rag.text.paragraphs import split_paragraphs

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = ServeSettings().max_upload_kb * 1024
#: The folder of the corpus that documents added through the page go to (and the only one they
#: can be removed from); their document ids begin with it ("uploads/report").
UPLOADS = "uploads"


def is_upload(doc_id: str) -> bool:
    """Whether a document was added through the page (and so may be removed through it)."""
    return doc_id.startswith(UPLOADS + "/")


def uploaded(manifest: Manifest) -> list[str]:
    """The ids of the documents added through the page, sorted."""
    return sorted(d for d in manifest.documents if is_upload(d))


def safe_name(name: str) -> str:
    """A plain file name for an upload: no folders, no hidden files, only safe characters.

    Raises:
        InputError: nothing usable is left, or the format is not one we read.
    """
    base = re.split(r"[\\/]", name or "")[-1]
    # Letters and digits of any script are kept ("доклад.md", "报告.md"); anything else is a dash.
    base = re.sub(r"[^\w.-]+", "-", base).strip(".-_")
    base = re.sub(r"\.{2,}", ".", base)
    suffix = Path(base).suffix.lower()
    if suffix not in READERS:
        raise InputError(f"'{name}' is not a supported document; upload one of: {', '.join(sorted(READERS))}")
    stem = Path(base).stem[:80].strip(".-_")
    if not stem:
        raise InputError(f"'{name}' has no usable file name")
    return stem + suffix


def add_document(
    source: str | Path,
    name: str,
    corpus: str | Path,
    index_dir: str | Path,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    embedder: Embedder | None = None,
    progress: bool = False,
) -> tuple[str, Manifest]:
    """Copy an uploaded file into the corpus's uploads folder under a safe name and index it
    incrementally.

    Nothing changes unless every check passes and the index is rebuilt: a bad file leaves
    the corpus and the index as they were.

    Returns:
        The new document's id and the new manifest.

    Raises:
        InputError: wrong type, too large, empty, unreadable, no text, or the name is taken.
    """
    source, corpus, index_dir = Path(source), Path(corpus), Path(index_dir)
    filename = safe_name(name)
    size = source.stat().st_size
    if size > max_bytes:
        raise InputError(f"'{name}' is {size / 1024:.0f} KB; the limit is {max_bytes / 1024:.0f} KB")
    if size == 0:
        raise InputError(f"'{name}' is empty")
    root = corpus.resolve()
    folder = root / UPLOADS
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        raise InputError(f"{UPLOADS}/ in the corpus is not a folder; move it away to add documents")
    target = (folder / filename).resolve()
    if target.parent != folder:
        raise InputError(f"'{name}' would be written outside the corpus folder")
    doc_id = doc_id_for(Path(UPLOADS) / filename)
    taken = {doc_id_for(p.relative_to(root)) for p in root.rglob("*") if p.suffix.lower() in READERS}
    if target.exists() or doc_id in taken:
        raise InputError(f"a document named '{doc_id}' is already in the corpus; rename the file")
    # Read it where it is first: a binary or non-UTF-8 file is refused before it is copied.
    try:
        doc = READERS[Path(filename).suffix.lower()](source, doc_id, filename)
    except UnreadableDocument as exc:  # name the file as the user called it, not our temporary copy
        reason = str(exc)
        for shown in (str(source), source.name):
            reason = reason.replace(shown, f"'{name}'")
        raise InputError(reason) from exc
    if not split_paragraphs(doc):
        raise InputError(f"'{name}' holds no text to index")
    created = not folder.exists()
    folder.mkdir(exist_ok=True)

    def undo() -> None:
        Path(tmp).unlink(missing_ok=True)
        target.unlink(missing_ok=True)
        if created and not any(folder.iterdir()):
            folder.rmdir()

    fd, tmp = tempfile.mkstemp(prefix=".upload-", dir=folder)
    os.close(fd)
    try:
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)
        manifest = _rebuild(root, index_dir, read_manifest(index_dir), embedder, progress)
    except BaseException:
        undo()
        raise
    if doc_id not in manifest.documents:  # read, but not indexed: a duplicate, say
        undo()
        why = manifest.skipped.get(f"{UPLOADS}/{filename}", {}).get("reason", "it could not be indexed")
        raise InputError(f"'{name}' was not added: {why.split(': ', 1)[-1]}")
    log.info("added %s as document %s", filename, doc_id)
    return doc_id, manifest


def _rebuild(root: Path, index_dir: Path, built: Manifest, embedder: Embedder | None, progress: bool) -> Manifest:
    """Index the corpus again with the index's own build settings, all of them: another model or
    windows would re-embed every document, another threshold change how it is searched."""
    return build_index(root, index_dir, built.build, embedder=embedder, progress=progress)


def remove_document(
    doc_id: str,
    corpus: str | Path,
    index_dir: str | Path,
    *,
    embedder: Embedder | None = None,
    progress: bool = False,
) -> Manifest:
    """Take a document added through the page out of the corpus and the index.

    The file is set aside (a hidden name the indexer skips) while the index is rebuilt, deleted
    once the new index is in place, and put back if the rebuild fails: the corpus and the index
    always agree.

    Returns:
        The new manifest.

    Raises:
        InputError: the document is not in the index, or was not added through the page.
    """
    corpus, index_dir = Path(corpus), Path(index_dir)
    built = read_manifest(index_dir)
    info = built.documents.get(doc_id)
    if info is None:
        raise InputError(f"there is no document '{doc_id}' in the index")
    if not is_upload(doc_id):
        raise InputError(
            f"'{doc_id}' was not added through the page; only documents in {UPLOADS}/ can be removed here "
            "(remove others from the corpus folder, then run: rag index)"
        )
    root = corpus.resolve()
    path = (root / info.file).resolve()
    if path.parent != root / UPLOADS or not path.is_file():
        raise InputError(f"the file of '{doc_id}' is no longer in {UPLOADS}/; run: rag index")
    aside = path.with_name(f".removing-{path.name}")
    os.replace(path, aside)
    try:
        manifest = _rebuild(root, index_dir, built, embedder, progress)
    except BaseException:
        os.replace(aside, path)
        raise
    aside.unlink(missing_ok=True)
    log.info("removed document %s (%s)", doc_id, info.file)
    return manifest
