"""The one way a file is hashed (sha256, read in blocks): index files, model weights, exports; and
the sampled hash that checks a large index file on load."""

from __future__ import annotations

import hashlib
from pathlib import Path


def sha256_file(path: Path) -> str:
    """The sha256 of a file's bytes, read a megabyte at a time."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


SAMPLE_BLOCKS = 16  # blocks a sampled hash reads, evenly spread from the first byte to the last
SAMPLE_BLOCK_BYTES = 64 * 1024


def sampled_sha256(path: Path) -> str:
    """The sha256 of 16 blocks of 64 KB spread evenly over the file (its first and last included)
    and of its size: 1 MB read whatever the file's size, so a large file is checked on every load
    for damage that touches any of those blocks or its length (the whole hash is `sha256_file`)."""
    size = path.stat().st_size
    digest = hashlib.sha256(str(size).encode())
    last = max(0, size - SAMPLE_BLOCK_BYTES)
    with open(path, "rb") as fh:
        for i in range(SAMPLE_BLOCKS):
            fh.seek(last * i // (SAMPLE_BLOCKS - 1))
            digest.update(fh.read(SAMPLE_BLOCK_BYTES))
    return digest.hexdigest()
