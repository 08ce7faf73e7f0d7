"""Index: the folder a corpus is built into (manifest, files, atomic swap, checkpoints) and loaded from."""

from rag.index.build import build_index
from rag.index.data import IndexData
from rag.index.folder import current_folder, write_atomically
from rag.index.load import load_index, read_manifest, verify_index
from rag.index.manifest import MANIFEST, Manifest

__all__ = [
    "MANIFEST",
    "IndexData",
    "Manifest",
    "build_index",
    "current_folder",
    "load_index",
    "read_manifest",
    "verify_index",
    "write_atomically",
]
