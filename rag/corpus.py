"""Adding a user's document to the corpus folder: checked, sanitised, indexed, or refused."""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
from pathlib import Path

from .embedding import Embedder
from .errors import InputError, UnreadableDocument
from .index import Manifest, build_index, read_manifest
from .paragraphs import split_paragraphs
from .readers import READERS, doc_id_for

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 2 * 1024 * 1024


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


def add_document(source: str | Path, name: str, corpus: str | Path, index_dir: str | Path, *,
                 max_bytes: int = DEFAULT_MAX_BYTES, embedder: Embedder | None = None,
                 progress: bool = False) -> tuple[str, Manifest]:
    """Copy an uploaded file into the corpus under a safe name and index it incrementally.

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
    target = (root / filename).resolve()
    if target.parent != root:
        raise InputError(f"'{name}' would be written outside the corpus folder")
    doc_id = doc_id_for(Path(filename))
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
    fd, tmp = tempfile.mkstemp(prefix=".upload-", dir=root)
    os.close(fd)
    try:
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)
        # The index's own model and windows: other windows would re-embed every document.
        built = read_manifest(index_dir)
        manifest = build_index(root, index_dir, embedder=embedder, progress=progress,
                               model=built.model, window=built.window)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        target.unlink(missing_ok=True)
        raise
    if doc_id not in manifest.documents:  # read, but not indexed: a duplicate, say
        target.unlink(missing_ok=True)
        why = manifest.skipped.get(filename, {}).get("reason", "it could not be indexed")
        raise InputError(f"'{name}' was not added: {why.split(': ', 1)[-1]}")
    log.info("added %s as document %s", filename, doc_id)
    return doc_id, manifest
