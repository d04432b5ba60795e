"""compare --build-on CONTEXT with two real engines: built on a second dockerd, checked and measured here.

The images reach this engine only through the registry, by digest, and the report says what a local run
of the same revision says. Two builds of one Dockerfile differ in their build timestamps (BuildKit v0.8
has no SOURCE_DATE_EPOCH), so the images' own ids differ; what must be equal is every size, the layers,
the base images and their layers' digests (both engines built on the same base, handed over by digest)
and every verdict.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import docker.errors
import pytest
from engine_needs import skip_unless_buildable

from imagelab import ROOT, apps, bases, build, engine
from imagelab.engine import second_engine, transfer
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
            "--fresh",  # both runs measured by the code under test, not recalled from an earlier run
            "--no-rebuild-timing",  # not compared, and it moves the build engine's tags
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


def _local_id(client, image_id: str) -> str:
    try:
        return client.images.get(image_id).id
    except docker.errors.ImageNotFound:
        return ""


def _handover(digests: list[str] | None) -> list[str]:
    """Of an image's RepoDigests, those in the registry's handover repository (repository@sha256:...)."""
    return [d for d in digests or [] if d.split("@")[0].endswith(f"{transfer.HANDOVER}/imagelab/{APP}")]


def _handover_digests(client, image_id: str) -> list[str]:
    """The image's digests in the registry's handover repository; none when the engine lacks it."""
    try:
        return _handover(client.images.get(image_id).attrs["RepoDigests"])
    except docker.errors.ImageNotFound:
        return []


def _handed_over(image_id: str) -> bool:
    """The image here came from the registry's handover repository (it has that repository's digest)."""
    return bool(_handover_digests(engine.client(), image_id))


def _same_image_there(other, image_id: str) -> str:
    """The second engine's image that `image_id` (here) is, "" if none: found by its registry digest, since
    an image's id depends on the store (the containerd store names an image by its manifest, the classic
    one by its config), and the two engines need not have the same."""
    for digest in _handover_digests(engine.client(), image_id):
        if found := _local_id(other.client(), digest):
            return found
    return _local_id(other.client(), image_id)


def test_images_built_on_a_second_engine_reach_this_one_through_the_registry(tmp_path):
    skip_unless_buildable(apps.discover()[APP].dockerfile("distroless"), f"{APP}/distroless")
    done = compare(tmp_path / "local")
    assert done.returncode == 0, done.stderr[-3000:]
    local = {i.variant: i for i in jsonfile.read(tmp_path / "local" / "compare.json").images}
    cells = apps.select(apps.discover(), [APP], list(VARIANTS), bases.open_set("debian"))
    handed_ids = []
    try:
        with second_engine.second_engine() as other:
            # An earlier run handed images over (the second engine's cache makes them again, same
            # digests): this engine must not hold them, so that an image here afterwards came by the registry.
            for image in engine.client().images.list(all=True):
                if _handover(image.attrs.get("RepoDigests")):
                    engine.client().images.remove(image.id, force=True)
            here_before = {image.id for image in engine.client().images.list(all=True)}
            done = compare(tmp_path / "two-engines", "--build-on", other.context)
            assert done.returncode == 0, done.stderr[-3000:]
            two = {i.variant: i for i in jsonfile.read(tmp_path / "two-engines" / "compare.json").images}
            handed_ids += [row.image_id for row in two.values() if row.image_id]
            # What compare measured is an image the second engine built.
            built_there = {v.name: _same_image_there(other, two[v.name].image_id) for v in cells}
        for variant in cells:
            measured = two[variant.name].image_id
            if not built_there[variant.name] and not _handed_over(measured):
                # Tags are shared by the checkouts of this machine: another one rebuilt this tag between
                # the pull and the measuring, and compare measured its image. Not a verdict on ours.
                pytest.skip(f"another checkout retagged {variant.tag} during the run")
        for variant in cells:
            # ... and it came here through the registry.
            image = engine.client().images.get(two[variant.name].image_id)
            assert image.id not in here_before, "it must not have been here before the pull"
            assert _handed_over(image.id)
            mine, theirs = local[variant.name], two[variant.name]
            assert {f: getattr(theirs, f) for f in FIGURES} == {f: getattr(mine, f) for f in FIGURES}
            assert [layer.size for layer in theirs.layer_details] == [
                layer.size for layer in mine.layer_details
            ]
            # The same bases (a base's registry digest here depends on where this engine pushed it).
            assert [(b.ref, b.id) for b in theirs.base_images] == [(b.ref, b.id) for b in mine.base_images]
        # distroless starts FROM the static base: its layer is the same digest on both engines.
        base_layer = local["distroless"].layer_details[0].diff_id
        assert two["distroless"].layer_details[0].diff_id == base_layer
        assert "pulled" in done.stderr and "(new here)" in done.stderr
    finally:
        # The shared tags point at local builds again (from the cache), and the handed-over images go.
        build.build(cells, bases.open_set("debian"))
        for image_id in handed_ids:
            engine.remove_image_if_unused(image_id)
