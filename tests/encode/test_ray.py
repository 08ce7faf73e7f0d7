"""`rag index --engine ray`: a local Ray cluster with two encoder actors builds the same index."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from conftest import bundled_copy, write

from rag.errors import MissingExtra
from rag.index import build_index, load_index
from rag.ways_in.cli import main


def test_a_ray_build_matches_the_local_build(tmp_path, embedder):
    pytest.importorskip("ray")
    corpus = bundled_copy(tmp_path / "corpus")
    write(
        corpus / "harbour.md",
        "# Harbour committee\n\n1. The harbour committee met in Valletta.\n2. It decided to dredge the eastern basin.\n",
    )
    build_index(corpus, tmp_path / "local", embedder=embedder, progress=False)
    assert (
        main(
            [
                "index",
                "--corpus",
                str(corpus),
                "--index",
                str(tmp_path / "ray"),
                "--engine",
                "ray",
                "--ray-workers",
                "2",
                "--quiet",
            ]
        )
        == 0
    )
    local, ray = load_index(tmp_path / "local"), load_index(tmp_path / "ray")
    assert [p.text for p in ray.paragraphs] == [p.text for p in local.paragraphs]
    assert np.array_equal(ray.sentences, local.sentences) and np.array_equal(ray.window_owner, local.window_owner)
    np.testing.assert_allclose(ray.window_vectors, local.window_vectors, atol=1e-4)
    np.testing.assert_allclose(ray.sentence_vectors, local.sentence_vectors, atol=1e-4)
    assert (
        ray.manifest.build.model == local.manifest.build.model
        and ray.manifest.build.window == local.manifest.build.window
    )


def test_without_ray_the_engine_is_refused_in_one_line_naming_the_extra(tmp_path, monkeypatch, capsys):
    from rag.encode.ray_engine import RayEmbedder

    monkeypatch.setitem(sys.modules, "ray", None)  # as if the extra were not installed
    with pytest.raises(MissingExtra, match=r"pip install -e '\.\[ray\]'"):
        RayEmbedder("all-MiniLM-L6-v2")
    corpus = bundled_copy(tmp_path / "corpus")
    assert main(["index", "--corpus", str(corpus), "--index", str(tmp_path / "i"), "--engine", "ray"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "needs Ray" in err and "[ray]" in err
    assert not (tmp_path / "i").exists()
