"""The index folder: refusing one that building would harm, the atomic swap, recovery, one build at a time."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from rag.errors import UnsafeIndexFolder
from rag.index.manifest import MANIFEST, Manifest

log = logging.getLogger(__name__)


def _is_inside(a: Path, b: Path) -> bool:
    a, b = a.resolve(), b.resolve()
    return a == b or b in a.parents


def check_index_folder(index_dir: Path, corpus: Path | None = None) -> None:
    """Refuse an index folder that building would harm: one that holds files but is not an
    index (no manifest), or one that is, holds or sits inside the corpus.

    Raises:
        UnsafeIndexFolder: with what to do instead.
    """
    if corpus is not None and (_is_inside(index_dir, corpus) or _is_inside(corpus, index_dir)):
        raise UnsafeIndexFolder(
            f"the index folder {index_dir} and the corpus {corpus} overlap; "
            "choose an --index outside the corpus (and not above it)"
        )
    if index_dir.exists():
        if not index_dir.is_dir():
            raise UnsafeIndexFolder(f"{index_dir} is a file, not an index folder; choose another --index")
        if any(index_dir.iterdir()) and not (index_dir / MANIFEST).is_file():
            raise UnsafeIndexFolder(
                f"{index_dir} holds files but no {MANIFEST}: it is not an index, and "
                "building would replace it; choose another --index or empty it"
            )
        if (index_dir / MANIFEST).is_file():
            _check_own_files(index_dir)


def _check_own_files(index_dir: Path) -> None:
    """An index folder is replaced only when it is one this project wrote (its manifest parses as
    ours and lists its files) and holds nothing else: another program's manifest.json, or a file
    a user put beside the index, would be deleted by the swap."""
    try:
        listed = set(Manifest.from_json((index_dir / MANIFEST).read_text(encoding="utf-8")).files)
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError):
        raise UnsafeIndexFolder(
            f"{index_dir / MANIFEST} is not the manifest of an index built by rag, and building would "
            "replace the folder; choose another --index"
        ) from None
    if not listed:
        raise UnsafeIndexFolder(
            f"{index_dir / MANIFEST} lists no index files; it was not written by rag index, and building "
            "would replace the folder; choose another --index"
        )
    extra = sorted(
        f.relative_to(index_dir).as_posix()
        for f in index_dir.rglob("*")
        if not f.is_dir() and f.relative_to(index_dir).as_posix() not in listed | {MANIFEST}
    )
    if extra:
        shown = ", ".join(extra[:3]) + (f" and {len(extra) - 3} more" if len(extra) > 3 else "")
        raise UnsafeIndexFolder(
            f"{index_dir} holds files that are not part of the index ({shown}); building would delete "
            "them: move them out of the folder or choose another --index"
        )


def recover_index(target: Path) -> None:
    """Finish a swap that a crash interrupted: if the index folder is gone but the previous one
    waits beside it (`.<name>-old`), put it back; stray temporary folders of a killed build are
    removed."""
    old = target.with_name(f".{target.name}-old")
    if not target.exists() and (old / MANIFEST).is_file():
        log.warning("restoring %s from %s (a build was interrupted while swapping)", target, old)
        os.replace(old, target)


def current_folder(target: Path) -> Path:
    """The folder to read an index from: itself, or, while a build is swapping it (or after a
    kill in that instant), the previous index waiting beside it. Reading never moves anything."""
    old = target.with_name(f".{target.name}-old")
    if not target.exists() and (old / MANIFEST).is_file():
        return old
    return target


def _clean_strays(target: Path) -> None:
    for stray in target.parent.glob(f".{target.name}-tmp-*"):
        if stray.is_dir():
            log.info("removing %s, left by an interrupted build", stray)
            shutil.rmtree(stray, ignore_errors=True)
    old = target.with_name(f".{target.name}-old")
    if target.exists() and old.exists():
        shutil.rmtree(old, ignore_errors=True)


def write_atomically(target: Path, write: Callable[[Path], None]) -> None:
    """Write a folder through `write(tmp)` and move it into place; on failure keep the old one.

    At every instant either the old or the new folder is in place, or the old one waits as
    `.<name>-old` for `recover_index` to put back (a kill between the two renames)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    recover_index(target)
    _clean_strays(target)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-tmp-", dir=target.parent))
    old = target.with_name(f".{target.name}-old")
    try:
        write(tmp)
        # mkdtemp makes a private folder (0700): the index keeps the mode the folder had, or the
        # one a new folder gets under the user's umask.
        if target.exists():
            mode = target.stat().st_mode & 0o7777
        else:
            mask = os.umask(0)
            os.umask(mask)
            mode = 0o777 & ~mask
        os.chmod(tmp, mode)
        if target.exists():
            os.replace(target, old)
        os.replace(tmp, target)
    except BaseException:
        if old.exists() and not target.exists():
            os.replace(old, target)
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)


@contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """One build of an index at a time, across processes and threads: an exclusive lock on a file
    beside the folder (`.<name>.lock`), held from planning to the swap and the checkpoints'
    clean-up. A second build waits for the first, then sees its result."""
    import fcntl

    index_dir.parent.mkdir(parents=True, exist_ok=True)
    with open(index_dir.parent / f".{index_dir.name}.lock", "a+b") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.warning("another build of %s is running; waiting for it to finish", index_dir)
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
