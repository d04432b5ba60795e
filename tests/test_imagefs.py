"""imagefs: the merged view of `docker save` tarballs, whiteouts, waste, config; and a real saved image."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import build_busybox_image
from saved_images import (
    file,
    folder,
    hardlink,
    opaque,
    symlink,
    whiteout,
    write_docker_archive,
    write_oci_archive,
    write_tar,
)

from imagelab import engine
from imagelab.errors import ImagelabError
from imagelab.inspect import image_config, imagefs

BUSYBOX = b"\x7fELF" + b"b" * 6

LAYERS = [
    [
        folder("etc"),
        file("etc/a", b"old-a"),
        file("etc/b", b"bbb"),
        folder("bin"),
        file("bin/busybox", BUSYBOX, 0o755),
        symlink("bin/sh", "busybox"),
        folder("var/cache"),
        file("var/cache/x", b"1234"),
        folder("var/cache/sub"),
        file("var/cache/sub/y", b"12"),
    ],
    [
        file("etc/a", b"new-a!"),
        whiteout("etc/b"),
        folder("var/cache"),
        opaque("var/cache"),
        file("var/cache/z", b"new"),
    ],
]


def test_layers_merge_in_order_with_whiteouts_and_opaque_folders(tmp_path: Path):
    archive = write_docker_archive(tmp_path / "image.tar", LAYERS)

    with imagefs.open_archive(archive) as image:
        assert sorted(image.entries) == [
            "/bin",
            "/bin/busybox",
            "/bin/sh",
            "/etc",
            "/etc/a",
            "/var",
            "/var/cache",
            "/var/cache/z",
        ]
        assert image.entries["/etc/a"].layer == 1
        assert image.entries["/var"].offset == -1, "a parent folder the tar left out is implied"
        assert image.read("/etc/a") == b"new-a!"
        assert image.read("/bin/sh") == BUSYBOX, "read follows the image's symlinks"
        assert image.read("/bin/busybox", limit=4) == b"\x7fELF"
        assert image.listdir("/var/cache") == ["/var/cache/z"]
        with pytest.raises(FileNotFoundError):
            image.read("/etc/b")


def test_waste_is_what_later_layers_delete_or_overwrite(tmp_path: Path):
    archive = write_docker_archive(tmp_path / "image.tar", LAYERS)

    with imagefs.open_archive(archive) as image:
        first, second = image.layers
        assert (first.size, first.files) == (5 + 3 + 10 + 4 + 2, 6)
        assert (first.wasted_bytes, first.wasted_files) == (5 + 3 + 4 + 2, 4)
        assert (second.wasted_bytes, second.wasted_files) == (0, 0)
        visible = sum(entry.size for entry in image.entries.values())
        assert image.size == visible + image.wasted_bytes


def test_dive_counts_every_copy_of_a_path_seen_twice(tmp_path: Path):
    """dive: /a in two layers counts 100 + 50; the deleted file /gone counts its 7 bytes and nothing for
    its whiteout; the deleted folder /d was no leaf below, so it counts once, with its contents."""
    layers = [
        [
            file("a", b"x" * 100),
            folder("d"),
            file("d/x", b"x" * 10),
            file("d/y", b"x" * 20),
            file("keep", b"x" * 5),
            file("gone", b"x" * 7),
        ],
        [file("a", b"y" * 50), whiteout("d"), whiteout("gone")],
    ]
    archive = write_docker_archive(tmp_path / "image.tar", layers)

    with imagefs.open_archive(archive) as image:
        assert image.dive.wasted_bytes == 150 + 7
        assert image.dive.efficiency == pytest.approx(
            (50 + 10 + 20 + 5 + 30 + 0) / (150 + 10 + 20 + 5 + 30 + 7)
        )
        assert (image.wasted_bytes, image.wasted_files) == (100 + 10 + 20 + 7, 4)


def test_resolve_follows_symlinks_and_hardlinks_inside_the_image(tmp_path: Path):
    layer = [
        folder("usr/bin"),
        symlink("bin", "usr/bin"),
        file("usr/bin/dash", b"dash", 0o755),
        symlink("usr/bin/sh", "dash"),
        file("usr/bin/gcc-14", b"gcc", 0o755),
        folder("etc/alternatives"),
        symlink("etc/alternatives/cc", "/usr/bin/gcc-14"),
        symlink("usr/bin/cc", "/etc/alternatives/cc"),
        folder("usr/local/bin"),
        symlink("usr/local/bin/python3", "../../bin/dash"),
        file("usr/bin/perl5.40", b"perl", 0o755),
        hardlink("usr/bin/perl", "usr/bin/perl5.40"),
        symlink("loop1", "loop2"),
        symlink("loop2", "loop1"),
        symlink("dangling", "/nowhere"),
    ]
    archive = write_docker_archive(tmp_path / "image.tar", [layer])

    with imagefs.open_archive(archive) as image:
        assert image.resolve("/bin/sh").path == "/usr/bin/dash"
        assert image.resolve("/usr/bin/cc").path == "/usr/bin/gcc-14"
        assert image.resolve("/usr/local/bin/python3").path == "/usr/bin/dash"
        assert image.resolve("/usr/bin/../bin/./dash").path == "/usr/bin/dash"
        assert image.resolve("/usr/bin/perl").path == "/usr/bin/perl5.40"
        assert image.read("/usr/bin/perl") == b"perl"
        assert image.resolve("/loop1") is None
        assert image.resolve("/dangling") is None
        assert image.resolve("/usr/bin/dash/x") is None


def test_config_and_the_step_that_made_each_layer(tmp_path: Path):
    config = {
        "User": "nonroot",
        "Entrypoint": ["/app"],
        "Cmd": ["--serve"],
        "WorkingDir": "/srv",
        "Env": ["PATH=/usr/bin:/bin", "EMPTY="],
        "ExposedPorts": {"8080/tcp": {}},
        "Labels": {"org.opencontainers.image.title": "t"},
    }
    archive = write_docker_archive(tmp_path / "image.tar", LAYERS, config, steps=["COPY . /", "RUN make"])

    with imagefs.open_archive(archive) as image:
        assert image.config == image_config.Config(
            user="nonroot",
            entrypoint=["/app"],
            cmd=["--serve"],
            working_dir="/srv",
            env={"PATH": "/usr/bin:/bin", "EMPTY": ""},
            exposed_ports=["8080/tcp"],
            labels={"org.opencontainers.image.title": "t"},
        )
        assert [layer.created_by for layer in image.layers] == ["COPY . /", "RUN make"]
        assert image.config.path == ["/usr/bin", "/bin"]
    assert image_config.Config().path[:2] == ["/usr/local/sbin", "/usr/local/bin"], (
        "docker's PATH when none is set"
    )


def test_each_layer_is_there_as_stored_with_its_diff_id(tmp_path: Path):
    archive = write_docker_archive(tmp_path / "image.tar", LAYERS)

    with imagefs.open_archive(archive) as image:
        assert len(image.layers) == len(LAYERS)
        for layer in image.layers:
            with image.open_layer(layer.index) as stream:
                assert "sha256:" + hashlib.sha256(stream.read()).hexdigest() == layer.diff_id


def test_an_oci_layout_with_gzip_layers_reads_the_same(tmp_path: Path):
    docker = write_docker_archive(tmp_path / "docker.tar", LAYERS)
    oci = write_oci_archive(tmp_path / "oci.tar", LAYERS)

    with imagefs.open_archive(docker) as expected, imagefs.open_archive(oci) as image:
        assert image.entries == expected.entries
        assert image.read("/etc/a") == b"new-a!"
        assert image.wasted_bytes == expected.wasted_bytes


@pytest.mark.parametrize(
    ("files", "cause"),
    [
        ({"notes.txt": b"hello"}, "neither manifest.json nor index.json at its top"),
        ({"manifest.json": b"[]"}, "manifest.json lists no image"),
        ({"manifest.json": b"[{oops"}, "manifest.json is not JSON"),
        ({"manifest.json": b'[{"Config": "c.json", "Layers": []}]'}, "c.json is missing"),
    ],
)
def test_what_is_not_a_saved_image_is_named(tmp_path: Path, files: dict[str, bytes], cause: str):
    archive = write_tar(tmp_path / "image.tar", files)
    with pytest.raises(
        ImagelabError, match=re.escape(f"image.tar is not a docker save archive: {cause}")
    ) as raised:
        imagefs.open_archive(archive)
    assert "docker save" in raised.value.hint


def test_a_file_that_is_no_tar_is_named(tmp_path: Path):
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    with pytest.raises(ImagelabError, match=r"notes\.txt is not a docker save archive: not a readable tar"):
        imagefs.open_archive(notes)


# -- a real image, built and saved by the engine ----------------------------------------------------

FILLER = 100_000
DOCKERFILE = """\
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
COPY filler.bin /tmp/filler.bin
RUN ["/bin/busybox", "rm", "/tmp/filler.bin"]
RUN ["/bin/busybox", "chmod", "u+s", "/bin/busybox"]
USER 65532
"""


@pytest.fixture(scope="module")
def busybox_image(busybox_rootfs: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tag = build_busybox_image(
        busybox_rootfs,
        tmp_path_factory.mktemp("imagefs-context"),
        DOCKERFILE,
        "imagefs",
        files={"filler.bin": b"f" * FILLER},
    )
    yield tag
    engine.remove_image(tag)


@pytest.mark.docker
def test_a_saved_image_matches_what_the_engine_says(busybox_image: str):
    history = engine.client().images.get(busybox_image).history()

    with imagefs.saved(busybox_image) as image:
        busybox = image.entries["/bin/busybox"]
        steps = [(layer.created_by, layer.size) for layer in image.layers]
        steps_with_files = {step for step, _ in steps}
        assert len(steps) == 5, "every step of DOCKERFILE but USER makes a layer"
        said = [(h["CreatedBy"], h["Size"]) for h in reversed(history) if h["CreatedBy"] in steps_with_files]
        assert [step for step, _ in steps] == [step for step, _ in said]
        if engine.image_store() == "classic":
            assert steps == said
        else:  # containerd: the snapshot's disk usage, whole 4 KiB blocks per file and folder
            for (step, size), (_, usage) in zip(steps, said, strict=True):
                assert usage % 4096 == 0 and size <= usage < size + 16 * 4096, step
        assert image.layers[2].created_by.startswith("COPY filler.bin")
        assert (image.layers[2].wasted_bytes, image.layers[2].wasted_files) == (FILLER, 1)
        assert image.layers[0].wasted_bytes == busybox.size, "chmod copies the whole file up"
        assert image.dive.wasted_bytes == FILLER + 2 * busybox.size
        assert busybox.mode & 0o4000
        assert image.resolve("/bin/sh") == busybox
        assert image.config.user == "65532"
