"""measure: compressed sizes cached by layer, the largest layers and their steps, and the base images a
Dockerfile names -- on small saved images, with the engine's answers faked."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from saved_images import file, layer_tar, write_docker_archive

from imagelab import apps, bases, engine
from imagelab.engine import manifests
from imagelab.inspect import imagefs, origin, sizes
from imagelab.inspect.origin import StageBase

BASE = [file("etc/os-release", b"ID=debian\n" * 50), file("usr/lib/libc.so.6", bytes(range(256)) * 40)]
APP_A = [file("app/a.py", b"print('a')\n" * 300)]
APP_B = [file("app/b.py", b"print('b')\n" * 700)]


def gzipped(members: list) -> int:
    return len(gzip.compress(layer_tar(members), compresslevel=sizes.GZIP_LEVEL, mtime=0))


@pytest.fixture
def gzip_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many layers were gzip'd (each call of measure's _gzip_size)."""
    calls: list[int] = []
    real = sizes._gzip_size

    def counted(stream):
        calls.append(1)
        return real(stream)

    monkeypatch.setattr(sizes, "_gzip_size", counted)
    return calls


def test_compressed_size_is_each_layer_gzipped_and_a_shared_layer_is_gzipped_once(
    tmp_path: Path, gzip_calls: list[int]
):
    cache = sizes.CompressedSizes(tmp_path / "cache" / "layers.json")
    first = write_docker_archive(tmp_path / "a.tar", [BASE, APP_A])
    second = write_docker_archive(tmp_path / "b.tar", [BASE, APP_B])

    with imagefs.open_archive(first) as image:
        assert cache.of_image(image) == gzipped(BASE) + gzipped(APP_A)
    assert len(gzip_calls) == 2
    with imagefs.open_archive(second) as image:
        assert cache.of_image(image) == gzipped(BASE) + gzipped(APP_B)
    assert len(gzip_calls) == 3, "the base layer both images share is known by its digest"


def test_the_cache_file_carries_the_sizes_to_the_next_run(tmp_path: Path, gzip_calls: list[int]):
    path = tmp_path / "layers.json"
    archive = write_docker_archive(tmp_path / "a.tar", [BASE, APP_A])
    with imagefs.open_archive(archive) as image:
        measured = sizes.CompressedSizes(path).of_image(image)
        diff_ids = [layer.diff_id for layer in image.layers]
        assert sorted(json.loads(path.read_text())) == sorted(diff_ids)
        assert sizes.CompressedSizes(path).of_image(image) == measured
    assert len(gzip_calls) == 2, "the second run read both sizes from the file"


STEPS = [
    "/bin/sh -c #(nop) ADD file:4b1b5c in / ",
    "RUN /bin/sh -c apt-get update  &&   apt-get install -y   curl # buildkit",
    "COPY requirements.txt . # buildkit",
    "RUN /bin/sh -c pip install -r requirements.txt # buildkit",
    "COPY . /app # buildkit",
]
SIZES = [5000, 9000, 30, 7000, 0]  # the last step copies nothing (a .dockerignore'd context)


@pytest.fixture
def variant() -> apps.Variant:
    [chosen] = apps.select(apps.discover(), ["go-href"], ["minimal"], bases.open_set("debian"))
    return chosen


@pytest.fixture
def fake_engine(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The engine's answers for image ids, sizes and base digests; the refs it was asked about."""
    asked: list[str] = []
    monkeypatch.setattr(engine, "image_id", lambda ref: "sha256:image")
    monkeypatch.setattr(engine, "image_size", lambda ref: 123_456)
    monkeypatch.setattr(engine, "image_store", lambda: "classic")
    listing = {"Size": 123_456}
    usage = {"Size": 123_456, "SharedSize": 100_000}
    monkeypatch.setattr(engine, "listed_sizes", lambda ref: engine.ListedSizes.from_lists(listing, usage))

    def id_and_digest(ref: str) -> tuple[str, str]:
        asked.append(ref)
        return f"sha256:id-of-{ref}", f"sha256:digest-of-{ref}"

    monkeypatch.setattr(engine, "image_id_and_digest", id_and_digest)
    # The bases were never pushed to a registry here: without this the test asked the machine's engine,
    # and failed whenever that engine refused the SDK's API version.
    monkeypatch.setattr(manifests, "pushed_layer_sizes", lambda ref: {})
    return asked


def test_an_image_measures_its_files_its_pull_and_its_bases(
    tmp_path: Path, variant: apps.Variant, fake_engine: list[str]
):
    layers = [[file(f"layer{i}/data", b"x" * size)] if size else [] for i, size in enumerate(SIZES)]
    archive = write_docker_archive(tmp_path / "image.tar", layers, steps=STEPS)
    cache = sizes.CompressedSizes(tmp_path / "layers.json")

    with imagefs.open_archive(archive) as image:
        found = sizes.measure_image(
            variant.tag,
            variant.app.dockerfile(variant.name),
            {"GOLANG_IMAGE": "127.0.0.1:5000/golang:1.24"},
            image,
            cache,
        )

    # size is the files' bytes, whatever the engine's store calls Size; that figure is kept beside it
    assert (found.image_id, found.size, found.layers) == ("sha256:image", sum(SIZES), 5)
    assert found.engine_size == 123_456
    assert found.listed == engine.ListedSizes(listed=123_456, disk=123_456, shared=100_000, unique=23_456)
    assert found.compressed_size > 0 and found.compressed_size == cache.of_image(image)
    assert [(b.ref, b.id, b.digest, b.written) for b in found.base_images] == [
        (
            "127.0.0.1:5000/golang:1.24",
            "sha256:id-of-127.0.0.1:5000/golang:1.24",
            "sha256:digest-of-127.0.0.1:5000/golang:1.24",
            "${GOLANG_IMAGE}",
        )
    ], "minimal starts FROM the golang role (overridden) and scratch, which is no base image"


def test_a_long_step_is_cut_to_what_a_table_can_show():
    assert (
        sizes.instruction("RUN /bin/sh -c " + "echo x && " * 40)
        == ("RUN /bin/sh -c " + "echo x && " * 40)[:120]
    )


DOCKERFILE = """\
# A comment naming FROM nothing: not an instruction.
ARG PYTHON_IMAGE=python:3.13
ARG PYTHON_SLIM_IMAGE=python:3.13-slim
ARG TOOLS_IMAGE
FROM --platform=linux/amd64 ${PYTHON_IMAGE} AS build
RUN make
RUN python3 -c "\\
from microblog import serve; \\
serve()"
FROM build AS test
RUN make test
from $PYTHON_SLIM_IMAGE as runtime
FROM ${PYTHON_IMAGE}
FROM ${TOOLS_IMAGE}
FROM scratch
"""


def test_base_images_take_the_build_args_over_the_arg_defaults(tmp_path: Path, fake_engine: list[str]):
    dockerfile = tmp_path / "app.Dockerfile"
    dockerfile.write_text(DOCKERFILE)

    found = origin.base_images(dockerfile, {"PYTHON_IMAGE": "127.0.0.1:5000/python:3.13@sha256:abc"})

    assert [b.ref for b in found] == [
        "127.0.0.1:5000/python:3.13@sha256:abc",  # the build argument wins over the default
        "python:3.13-slim",  # the default, where no argument is given; `from ... as` in lower case too
        "${TOOLS_IMAGE}",  # no default and no argument: left as written, as an unresolved name
    ], "a stage built on another stage, a repeated base and scratch are not listed again"
    assert fake_engine == [b.ref for b in found]
    assert found[1] == StageBase(
        "python:3.13-slim",
        "sha256:id-of-python:3.13-slim",
        "sha256:digest-of-python:3.13-slim",
        written="$PYTHON_SLIM_IMAGE",  # as the Dockerfile names it, and where
        line=12,
    )


def test_a_shared_size_the_engine_did_not_compute_is_unknown_not_zero():
    # /images/json answers SharedSize -1 ("not computed"); /system/df computes it
    found = engine.ListedSizes.from_lists({"Size": 5}, {"Size": 5, "SharedSize": -1})
    assert (found.shared, found.unique) == (None, None)
