"""The stand-ins built as Debian builds its official images, with the updates and security suites left in
their apt sources, and the set as it was (the release alone) kept as `debian-release`. No engine."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from imagelab import aptsources, bases
from imagelab.bases import provenance, recipes, rootfs
from imagelab.engine import registry
from imagelab.errors import ConfigError

MIRROR = "http://mirror.invalid/debian"


@pytest.fixture(autouse=True)
def mirrors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(recipes.MIRROR_ENV, MIRROR)
    monkeypatch.delenv(aptsources.SECURITY_MIRROR_ENV, raising=False)
    monkeypatch.setattr(aptsources, "debian_security_mirror", lambda: "")  # not this machine's apt


def test_debian_is_built_from_the_release_its_updates_and_its_security_suite() -> None:
    debian = recipes.load().debian
    assert debian.pockets == ("updates", "security")
    assert debian.sources() == [
        f"deb {MIRROR} trixie main",
        f"deb {MIRROR} trixie-updates main",
        "deb http://mirror.invalid/debian-security trixie-security main",
    ]
    assert debian.suites() == ["trixie", "trixie-updates", "trixie-security"]


def test_debian_release_is_the_same_recipes_from_the_release_alone() -> None:
    release = recipes.load(local_set="debian-release")
    assert release.debian.sources() == [MIRROR]  # mmdebstrap writes `deb MIRROR trixie main`, as before
    assert release.roles["python"].tag == "imagelab-bases/python:debian13-release"
    assert recipes.load_recipes().by_tag("debian13-release") is not None


def test_a_set_stands_in_for_images_that_exist_whatever_its_tag() -> None:
    # Its tag says "release"; distroless publishes no static-debian13-release: the labels name the images
    # the set stands in for, the same as `debian`'s.
    debian, release = recipes.load(), recipes.load(local_set="debian-release")
    assert {n: r.official for n, r in release.roles.items()} == {
        n: r.official for n, r in debian.roles.items()
    }
    assert release.roles["static"].official == "gcr.io/distroless/static-debian13:nonroot"


def test_the_set_file_points_every_role_at_the_release_stand_ins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(registry.ADDRESS_ENV, raising=False)
    debian, release = bases.open_set("debian").build_args(), bases.open_set("debian-release").build_args()
    assert debian.keys() == release.keys()
    assert all(release[arg] == ref.replace(":debian13", ":debian13-release") for arg, ref in debian.items())


def test_the_pockets_are_in_the_key_and_a_set_without_them_keeps_its_key() -> None:
    sets = recipes.load()
    role = sets.roles["debian-slim"]
    with_pockets = provenance.key(role, sets, b"", provenance.Takes())
    without = replace(sets, debian=replace(sets.debian, pockets=()))
    moved = replace(without, debian=replace(without.debian, security_mirror="http://elsewhere.invalid/x"))
    assert with_pockets != provenance.key(role, without, b"", provenance.Takes())
    assert provenance.key(role, without, b"", provenance.Takes()) == provenance.key(
        role, moved, b"", provenance.Takes()
    )


def test_an_unknown_pocket_is_one_line(tmp_path: Path) -> None:
    shutil.copytree(recipes.BASES_DIR, tmp_path / "bases")
    path = tmp_path / "bases" / "bases.toml"
    path.write_text(path.read_text().replace('pockets = ["updates", "security"]', 'pockets = ["backports"]'))
    with pytest.raises(ConfigError) as caught:
        recipes.load_recipes(path)
    assert "sets.debian.pockets names unknown pocket 'backports'" in caught.value.cause


def test_the_archive_date_is_the_newest_suite_s(tmp_path: Path) -> None:
    lists = tmp_path / "var/lib/apt/lists"
    lists.mkdir(parents=True)
    (lists / "m_dists_trixie-security_InRelease").write_text("Date: Fri, 04 Dec 2026 20:11:02 UTC\n")
    (lists / "m_dists_trixie_InRelease").write_text("Date: Sat, 08 Nov 2026 10:21:55 UTC\n")
    assert rootfs.archive_date(tmp_path) == "Fri, 04 Dec 2026 20:11:02 UTC"
