"""COPY --link and base moves: after only the base image moves, the linked COPY's layer is the same layer
on the new base (docs/lessons.md, "COPY --link and base moves"). That takes the containerd image store;
the classic store makes a linked COPY a plain one (moby turns BuildKit's merge off there)."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest
from lessons_support import build_variant, scratch_tag

from imagelab import ROOT, bases, engine

pytestmark = pytest.mark.docker


def test_a_linked_copy_keeps_its_layer_when_only_the_base_moves(tmp_path: Path) -> None:
    if engine.image_store() == "classic":
        pytest.skip("the classic image store makes COPY --link a plain COPY: there is no layer to keep")
    # A source of its own, so that no earlier build's cache answers for the first build either.
    context = tmp_path / "go-href"
    shutil.copytree(ROOT / "apps" / "go-href", context)
    with (context / "main.go").open("a") as source:
        source.write(f"\n// {uuid.uuid4().hex}\n")
    static = {
        name: bases.resolve(bases.open_set(name), ["static"]).base_set.build_args()["STATIC_IMAGE"]
        for name in ("debian", "debian12")
    }
    assert static["debian"] != static["debian12"]
    with scratch_tag("link-13") as on_13, scratch_tag("link-12") as on_12:
        build_variant(
            "go-href", "distroless", on_13, args={"STATIC_IMAGE": static["debian"]}, context=context
        )
        build_variant(
            "go-href", "distroless", on_12, args={"STATIC_IMAGE": static["debian12"]}, context=context
        )
        first, moved = engine.layer_ids(on_13), engine.layer_ids(on_12)
        assert first[:-1] != moved[:-1]  # the base's layers moved
        assert first[-1] == moved[-1]  # the binary's layer did not
