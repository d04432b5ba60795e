"""compare --build-on CONTEXT with two real engines: built on a second dockerd, checked and measured here.

The images reach this engine only through the registry, by digest, and the report says what a local run
of the same revision says. Two builds of one Dockerfile differ in their build timestamps (BuildKit v0.8
has no SOURCE_DATE_EPOCH), so the images' own ids differ; what must be equal is every size, the layers,
the base layers' digests (both engines built on the same base, handed over by digest) and every verdict.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from imagelab import ROOT, apps, build, engine
from imagelab.engine import remote, second
from imagelab.report import jsonfile

pytestmark = [
    pytest.mark.docker,
    pytest.mark.skipif(os.geteuid() != 0, reason="a second dockerd needs root"),
]
APP, VARIANTS = "go-href", ("distroless", "minimal")
FIGURES = ("size", "layers", "closure_size", "smoke", "structure", "hardened", "built")


def compare(results: Path, *args: str) -> subprocess.CompletedProcess:
    selectors = [arg for variant in VARIANTS for arg in ("--variant", variant)]
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "imagelab",
            "compare",
            "--app",
            APP,
            *selectors,
            "--results",
            str(results),
            *args,
        ],
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=2400,
        check=False,
    )


def test_images_built_on_a_second_engine_reach_this_one_through_the_registry(tmp_path):
    done = compare(tmp_path / "local")
    assert done.returncode == 0, done.stderr[-3000:]
    local = {i.variant: i for i in jsonfile.read(tmp_path / "local" / "compare.json").images}
    here_before = {image.id for image in engine.client().images.list(all=True)}
    cells = apps.select(apps.discover(), [APP], list(VARIANTS), "debian")
    handed_ids = []
    try:
        with second.second_engine() as other:
            done = compare(tmp_path / "two-engines", "--build-on", other.context)
            assert done.returncode == 0, done.stderr[-3000:]
            built_there = {v.name: other.client().images.get(v.tag).id for v in cells}
        two = {i.variant: i for i in jsonfile.read(tmp_path / "two-engines" / "compare.json").images}
        for variant in cells:
            # What compare measured is what the second engine built (by id: the tag is shared with
            # other checkouts, which may build it meanwhile), and it came here through the registry.
            assert two[variant.name].image_id == built_there[variant.name]
            image = engine.client().images.get(built_there[variant.name])
            handed_ids.append(image.id)
            assert image.id not in here_before, "it must not have been here before the pull"
            assert any(
                d.split("@")[0].endswith(f"{remote.HANDOVER}/imagelab/{APP}")
                for d in image.attrs["RepoDigests"]
            )
            mine, theirs = local[variant.name], two[variant.name]
            assert {f: getattr(theirs, f) for f in FIGURES} == {f: getattr(mine, f) for f in FIGURES}
            assert [layer.size for layer in theirs.layer_details] == [
                layer.size for layer in mine.layer_details
            ]
            assert [b.digest for b in theirs.base_images] == [b.digest for b in mine.base_images]
        # distroless starts FROM the static base: its layer is the same digest on both engines.
        base_layer = local["distroless"].layer_details[0].diff_id
        assert two["distroless"].layer_details[0].diff_id == base_layer
        assert "pulled" in done.stderr and "(new here)" in done.stderr
    finally:
        # The shared tags point at local builds again (from the cache), and the handed-over images go.
        build.build(cells, "debian")
        for image_id in handed_ids:
            engine.remove_image_if_unused(image_id)
