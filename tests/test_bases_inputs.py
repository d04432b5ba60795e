"""What a stand-in records of its inputs, and how its root file system is made the same twice: no engine."""

from __future__ import annotations

import os
import shutil
import socket
import tarfile
from dataclasses import replace
from pathlib import Path

import pytest

from imagelab import engine, needs
from imagelab.bases import inputs, local, provenance, recipes, rootfs
from imagelab.engine import registry

IN_RELEASE = """-----BEGIN PGP SIGNED MESSAGE-----
Hash: SHA512

Origin: Debian
Suite: stable-security
Codename: trixie-security
Date: Fri, 04 Dec 2026 18:01:02 UTC
Valid-Until: Fri, 11 Dec 2026 18:01:02 UTC
SHA256:
 0123 1 main/binary-amd64/Packages
"""


def test_the_packages_digest_depends_on_names_and_versions_not_on_their_order() -> None:
    one = inputs.packages_digest({"libc6": "2.41-12", "tzdata": "2025b-4"})
    assert one == inputs.packages_digest({"tzdata": "2025b-4", "libc6": "2.41-12"})
    assert one != inputs.packages_digest({"libc6": "2.41-12+deb13u1", "tzdata": "2025b-4"})
    assert one.startswith("sha256:") and len(one) == 71


def test_inputs_go_to_labels_and_come_back() -> None:
    made_from = {"packages": "sha256:1", "recipe": "sha256:2", "archive": "trixie 2026-11-15T00:00:00Z"}
    labels = {**inputs.as_labels(made_from), "org.imagelab.role": "static"}
    assert inputs.of_labels(labels) == made_from
    assert inputs.of_labels(None) == {}


def test_an_in_release_says_which_state_of_the_archive_it_is(tmp_path: Path) -> None:
    state = inputs.parse_release(IN_RELEASE)
    assert state is not None
    assert state.describe() == "trixie-security 2026-12-04T18:01:02Z (valid until 2026-12-11T18:01:02Z)"
    assert inputs.parse_release("Suite: x\n") is None
    lists = tmp_path / "lists"
    lists.mkdir()
    (lists / "deb.debian.org_debian-security_dists_trixie-security_InRelease").write_text(IN_RELEASE)
    (lists / "deb.debian.org_debian_dists_trixie_InRelease").write_text(
        "Suite: stable\nDate: Sat, 15 Nov 2026 09:33:15 UTC\n"
    )
    states = inputs.release_states(lists)
    assert inputs.describe(states).startswith("trixie-security 2026-12-04T18:01:02Z (valid until")
    assert inputs.newest(states) == state.date


def test_the_epoch_is_read_from_each_source_s_own_suite() -> None:
    sources = [
        "deb http://deb.example/debian trixie main",
        "deb http://deb.example/debian-security trixie-security main",
    ]
    assert rootfs._release_sources("trixie", sources) == [
        ("http://deb.example/debian", "trixie"),
        ("http://deb.example/debian-security", "trixie-security"),
    ]
    assert rootfs._release_sources("bookworm", ["http://deb.example/debian"]) == [
        ("http://deb.example/debian", "bookworm")
    ]


def test_a_root_file_system_tar_is_the_same_whenever_the_same_files_are_written(tmp_path: Path) -> None:
    """Files written at build time (now) are clamped to the epoch; older files keep their time; the
    host's user names are left out."""
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc/passwd").write_text("root:x:0:0::/root:/bin/sh\n")
    packaged = root / "etc/packaged"
    packaged.write_text("from a .deb")

    os.utime(packaged, (1_000, 1_000))
    epoch = 1_700_000_000

    def tar_of(name: str) -> bytes:
        out = tmp_path / name
        with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tar:
            tar.add(root, arcname=".", filter=lambda member: rootfs.reproducible(member, epoch))
        return out.read_bytes()

    first = tar_of("a.tar")
    os.utime(root / "etc/passwd")  # written again, later: as a second build would
    assert tar_of("b.tar") == first
    with tarfile.open(tmp_path / "a.tar") as tar:
        times = {member.name: member.mtime for member in tar}
        assert times["./etc/passwd"] == epoch and times["./etc/packaged"] == 1_000
        assert {member.uname for member in tar} == {""}


def test_the_recipe_input_follows_the_parent_s_recipe_not_its_rebuilt_content() -> None:
    sets = recipes.load()
    role = sets.roles["python-slim"]
    parent = {"org.imagelab.inputs.recipe": "sha256:" + "2" * 64}
    recipe = provenance.recipe_digest(role, sets, b"", None, parent)
    assert recipe == provenance.recipe_digest(role, sets, b"", None, dict(parent))
    assert recipe != provenance.recipe_digest(
        role, sets, b"", None, {"org.imagelab.inputs.recipe": "sha256:3"}
    )
    assert recipe != provenance.recipe_digest(
        replace(role, packages=(*role.packages, "vim")), sets, b"", None, parent
    )


def test_a_reproducible_stand_in_is_dated_by_its_archive_and_labelled_with_its_inputs() -> None:
    sets = recipes.load()
    made_from = {"packages": "sha256:1", "recipe": "sha256:2", "archive": "trixie 2026-11-21T09:15:44Z"}
    labels = provenance.labels(sets.roles["static"], sets, "key", {}, "", "", "", made_from, 1_795_000_000)
    assert labels["org.opencontainers.image.created"] == "2026-11-18T11:06:40Z"  # not today: the epoch
    assert inputs.of_labels(labels) == made_from
    unpinned = provenance.labels(sets.roles["python"], sets, "key", {}, "", "", "", made_from, None)
    assert unpinned["org.opencontainers.image.created"] != labels["org.opencontainers.image.created"]


@pytest.mark.docker
@pytest.mark.network
def test_static_built_twice_from_nothing_has_one_digest_and_records_its_inputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real path (mmdebstrap, build, labels, push), into a registry of the test's own so that the
    stand-ins every other build uses stay as they are; the second time with --rebuild (no cache)."""
    if shutil.which("docker-registry") is None or shutil.which("skopeo") is None:
        pytest.skip("needs Debian's docker-registry and skopeo (`nox -s registry` installs them)")
    release = needs.engine_release(engine.versions()["Version"])
    if release is not None and release < (24, 0):
        pytest.skip("BuildKit before 0.11 (Docker 24) dates an image by its build, not SOURCE_DATE_EPOCH")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        where = f"127.0.0.1:{sock.getsockname()[1]}"
    state = registry.State(tmp_path / "registry")
    registry.ensure_registry(where, state, log=lambda _: None)
    monkeypatch.setenv(registry.ADDRESS_ENV, where)
    made: list[local.StandIn] = []
    try:
        for rebuild in (False, True):
            made += local.build_local(["static"], rebuild=rebuild, log=lambda _: None)
        first, second = made
        assert not second.cached and first.digest == second.digest
        labels = registry.remote_labels(f"{second.ref.rpartition(':')[0]}@{second.digest}")
        recorded = inputs.of_labels(labels)
        assert set(recorded) == {"packages", "recipe", "archive"} and "trixie" in recorded["archive"]
    finally:
        for stand_in in made:
            engine.remove_image(stand_in.ref)
        registry.stop_registry(where, state)
