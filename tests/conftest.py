from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
# The ONNX export of the model goes to a cache of the test run's own, never the user's.
os.environ["RAG_CACHE"] = tempfile.mkdtemp(prefix="rag-test-cache-")
atexit.register(shutil.rmtree, os.environ["RAG_CACHE"], ignore_errors=True)
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "corpus"
DOC = "cybercrime-expert-group-2017"
# Only the bundled report is read from corpus/: documents a user added there (the page's uploads)
# never change what the tests see.
REPORT = BUNDLED / f"{DOC}.md"


def bundled_copy(folder: Path) -> Path:
    """A corpus folder holding a copy of the bundled report alone."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(REPORT, folder / REPORT.name)
    return folder


@pytest.fixture(scope="session")
def embedder():
    """The real packaged MiniLM, loaded once for the whole run."""
    from rag.encode.embedding import Embedder

    return Embedder("all-MiniLM-L6-v2", threads=1)


@pytest.fixture(scope="session")
def bundled_index(tmp_path_factory, embedder) -> Path:
    """The bundled report indexed once into a temporary folder (corpus copied beside it)."""
    from rag.index import build_index

    base = tmp_path_factory.mktemp("bundled")
    bundled_copy(base / "corpus")
    build_index(base / "corpus", base / "index", embedder=embedder, progress=False)
    return base / "index"


@pytest.fixture(scope="session")
def assistant(bundled_index, embedder):
    from rag.assistant import Assistant
    from rag.index import load_index

    return Assistant(load_index(bundled_index), embedder, index_dir=bundled_index)


@pytest.fixture(scope="session")
def report_paragraphs():
    from rag.readers import read_document
    from rag.text.paragraphs import split_paragraphs

    doc = read_document(REPORT, root=BUNDLED)
    return {p.number: p for p in split_paragraphs(doc)}


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def assistant_over(base: Path, name: str, text: str, embedder):
    """An assistant over one document written in the test (base/corpus/name), indexed in base/index."""
    from rag.assistant import Assistant
    from rag.index import build_index, load_index

    write(base / "corpus" / name, text)
    build_index(base / "corpus", base / "index", embedder=embedder, progress=False)
    return Assistant(load_index(base / "index"), embedder, index_dir=base / "index")


def copy_site(tmp_path: Path, bundled_index: Path) -> Path:
    """A private copy of the bundled corpus and its index, the index pointing at the copy."""
    import json

    bundled_copy(tmp_path / "corpus")
    shutil.copytree(bundled_index, tmp_path / "index")
    manifest = json.loads((tmp_path / "index" / "manifest.json").read_text())
    manifest["corpus"] = "../corpus"
    (tmp_path / "index" / "manifest.json").write_text(json.dumps(manifest))
    return tmp_path


def small_corpus(tmp_path):
    write(
        tmp_path / "corpus" / "alpha.md",
        "# Alpha\n\n1. The alpha group met in Geneva in May.\n2. It adopted a plan on water.\n",
    )
    write(
        tmp_path / "corpus" / "beta.txt",
        "The beta committee discussed railway safety.\n\nIt recommended new signals for level crossings.\n",
    )
    return tmp_path / "corpus", tmp_path / "index"


# A session report that reproduces two resolutions, each numbered from 1, and a decision without
# numbers, goes on with its own numbers (2, 3) and ends with an annex numbered on its own.
REPRODUCED = """# Report of the Commission on its tenth session

## Chapter I

## Matters brought to the attention of the Council

1. The following resolutions and decision adopted by the Commission are brought to the attention of the Council:

### Resolution 10/1

### Protecting children from online abuse

The Commission on Crime Prevention,

Recalling its resolution 9/4 on the protection of children,

Noting with concern the growth of online abuse of children,

1. Urges Member States to criminalize the online grooming of children;

2. Requests the Secretariat to report on online abuse at its eleventh session.

### Resolution 10/2

### Data for drug policy

The Commission on Crime Prevention,

Recalling its resolution 9/7 on the collection of data,

Welcoming the work of the expert group on drug statistics,

1. Encourages Member States to share data on drug markets;

2. Invites donors to fund surveys of wastewater for traces of synthetic drugs;

3. Decides to remain seized of the matter.

### Decision 10/101

### Venue of the eleventh session

At its 5th meeting, the Commission decided to hold its eleventh session in Vienna.

## Chapter II

## General debate

2. At its 1st meeting, the Commission held its general debate on crime prevention.

3. Statements were made by the representatives of many States.

## Annex

## Documents before the Commission

1. The Commission had before it the report of the Executive Director on the work of the Office.

2. The Commission also had before it a note by the Secretariat on the budget.
"""


def public_data(*parts: str) -> Path:
    """A path in the shared public data ($RAG_PUBLIC_DATA, or a `shared/data` folder beside the
    project or one level up), e.g. public_data("un-related", "pdf", NAME); the calling test is
    skipped when it is not there."""
    import os

    bases = [Path(os.environ["RAG_PUBLIC_DATA"])] if os.environ.get("RAG_PUBLIC_DATA") else []
    bases += [ROOT.parent / "shared" / "data", ROOT.parent.parent / "shared" / "data"]
    for base in bases:
        if (base / "un-related").is_dir() and base.joinpath(*parts).exists():
            return base.joinpath(*parts)
    pytest.skip("the shared public data (un-related/) is not beside the project; set RAG_PUBLIC_DATA")
