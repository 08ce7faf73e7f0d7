"""Checks of an index's files against its manifest, and of its corpus against what was indexed."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from rag.errors import CorruptIndex, StaleIndex
from rag.hashing import sampled_sha256, sha256_file
from rag.index.manifest import Manifest
from rag.readers import corpus_files, file_sha256

log = logging.getLogger(__name__)

#: Files up to this size are hashed on every load; larger ones only by `verify_index`.
HASH_ON_LOAD_BYTES = 8 * 1024 * 1024


def check_files(index_dir: Path, manifest: Manifest, *, all_hashes: bool = False) -> None:
    """Every index file has the size the manifest records, and (for the small ones, or all of
    them with `all_hashes`) the same sha256.

    Raises:
        CorruptIndex: naming the first file that differs.
    """
    for name, meta in manifest.files.items():
        path = index_dir / name
        try:
            if not path.is_file():
                raise CorruptIndex(f"{path} is missing; run: rag index")
            size = path.stat().st_size
            if size != meta.get("bytes"):
                raise CorruptIndex(
                    f"{path} has {size} bytes, the manifest says {meta.get('bytes')}: it was "
                    "changed or damaged; run: rag index"
                )
            if all_hashes or size <= HASH_ON_LOAD_BYTES:
                same = sha256_file(path) == meta.get("sha256")
            else:  # a large file: sampled blocks on every load (indexes built before them: size only)
                same = "sampled_sha256" not in meta or sampled_sha256(path) == meta["sampled_sha256"]
        except OSError as exc:  # gone between the check and the read: a build swapping the folder
            raise CorruptIndex(f"{path} cannot be read ({exc.strerror or exc}); run: rag index") from exc
        if not same:
            raise CorruptIndex(
                f"{path} does not match its hash in the manifest: it was changed or damaged; run: rag index"
            )


def file_record(path: Path) -> dict[str, int | str]:
    """What the manifest keeps of an index file: its size, its sha256 and, for a file too large to
    hash on every load, the hash of sampled blocks that loading checks instead."""
    size = path.stat().st_size
    record: dict[str, int | str] = {"bytes": size, "sha256": sha256_file(path)}
    if size > HASH_ON_LOAD_BYTES:
        record["sampled_sha256"] = sampled_sha256(path)
    return record


def bytes_sha256(path: Path) -> str:
    """The hash recorded for a skipped file ("" if it cannot be read: a pipe, a dangling link)."""
    try:
        return sha256_file(path) if path.is_file() else ""
    except OSError:
        return ""


def stat_key(st: os.stat_result) -> tuple[int, ...] | None:
    """What identifies a file's state without reading it: size, modification and change times
    and inode (any write moves the change time, which no tool sets back). None for a file
    modified in the last 2 seconds, whose times a coarse clock may not have moved yet."""
    if time.time_ns() - st.st_mtime_ns < 2_000_000_000:
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def check_corpus_current(manifest: Manifest, index_dir: Path, corpus: Path | None) -> None:
    root = corpus if corpus is not None else (index_dir / manifest.corpus)
    if not root.is_dir():
        log.warning("corpus folder %s not found: cannot check that the index is current", root)
        return
    for info in manifest.documents.values():
        path = root / info.file
        if not path.is_file():
            raise StaleIndex(f"{path} was indexed but is gone; run: rag index")
        if info.stat is not None and tuple(info.stat) == stat_key(path.stat()):
            continue  # the same file, untouched since it was read: its hash is the one recorded
        if file_sha256(path) != info.sha256:
            raise StaleIndex(f"{path} changed since the index was built; run: rag index")
    known = {info.file for info in manifest.documents.values()}
    for _, path in corpus_files(root):
        rel = path.relative_to(root).as_posix()
        if rel in manifest.skipped and manifest.skipped[rel].get("sha256") == bytes_sha256(path):
            continue  # a file that could not be read when the index was built, and is unchanged
        if rel not in known:
            raise StaleIndex(f"{path} is new since the index was built; run: rag index")
