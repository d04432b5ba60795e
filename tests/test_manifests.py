"""Compressed layer sizes read from the registry's manifest agree with gzipping the saved layers ourselves.

A FROM-scratch busybox image is pushed to the project's registry (127.0.0.1:5000); its manifest's sizes
must name every layer of the local image and come within a few percent of our own gzip (both are gzip at
the default level, by two implementations), so measuring from the manifest does not change the figure.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from imagelab import engine
from imagelab.engine import manifests, registry
from imagelab.inspect import imagefs, sizes
from tests.conftest import build_busybox_image

DOCKERFILE = "FROM scratch\nCOPY busybox /bin/busybox\nCOPY notes.txt /notes.txt\n"


def test_a_registry_that_is_not_on_loopback_is_not_asked():
    assert manifests.compressed_layers("registry.example.com/app@sha256:" + "0" * 64) == {}
    assert manifests.compressed_layers("127.0.0.1:5000/app:latest") == {}  # no digest: not a pushed image


@pytest.mark.docker
def test_manifest_sizes_name_every_layer_and_agree_with_our_gzip(busybox_rootfs: Path, tmp_path: Path):
    registry.ensure_registry()
    notes = b"".join(f"line {n}: some text that compresses\n".encode() for n in range(20000))
    tag = build_busybox_image(busybox_rootfs, tmp_path, DOCKERFILE, "manifests", {"notes.txt": notes})
    remote = f"{registry.address()}/imagelab-scratch/manifests:{tag.rsplit(':', 1)[1]}"
    try:
        registry.push(tag, remote)
        from_registry = manifests.pushed_layer_sizes(tag)
        layers = engine.client().images.get(tag).attrs["RootFS"]["Layers"]
        assert set(from_registry) == set(layers)
        with tempfile.TemporaryDirectory() as cache, imagefs.saved(tag) as fs:
            ours = sizes.CompressedSizes(Path(cache) / "sizes.json")
            ours.of_image(fs)
        for diff_id in layers:
            assert from_registry[diff_id] == pytest.approx(ours.known[diff_id], rel=0.05)
        learned = sizes.CompressedSizes(Path(tmp_path) / "learned.json")
        learned.learn(from_registry)
        with imagefs.saved(tag) as fs:
            assert learned.of_image(fs) == sum(from_registry.values())  # nothing gzipped again
    finally:
        engine.remove_image(remote)
        engine.remove_image(tag)
