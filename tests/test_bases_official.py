"""Each stand-in held to its official image's published definition (marker docker): the package set,
with every difference written down and explained in dockerfiles/bases/tests/official.toml, and the size
within the margin stated there. Layout and bytecode are held by the container-structure-test files beside
it (test_bases.py runs them); this file holds what those cannot say.

The stand-ins are built (or found up to date) by the code `nox -s bases` runs, so on a machine where the
sets are built this takes seconds.
"""

from __future__ import annotations

import os
import shutil
import tomllib
from functools import cache

import pytest

from imagelab import bases, engine
from imagelab.bases import recipes
from imagelab.inspect import dpkg, imagefs

OFFICIAL = tomllib.loads((recipes.BASES_DIR / "tests" / "official.toml").read_text())
#: Which local set is built on which Debian release.
SET_OF_SUITE = {"trixie": "debian", "bookworm": "debian12"}
CASES = [(role, suite) for role, suites in OFFICIAL.items() for suite in suites]

pytestmark = [
    pytest.mark.docker,
    pytest.mark.skipif(
        shutil.which("mmdebstrap") is None or os.geteuid() != 0,
        reason="building the local base set needs mmdebstrap and root (nox -s engine installs it)",
    ),
]


@cache
def stand_in(role: str, suite: str) -> str:
    """The stand-in of `role` on `suite`, built or found up to date; its image id. The id, not the tag:
    another checkout on the same engine may tag its own build of the role meanwhile."""
    if not engine.answers():
        pytest.skip("no Docker engine answers")
    local_set = bases.load(local_set=SET_OF_SUITE[suite])
    built = bases.build_local([role], sets=local_set)
    return next(made.image_id for made in built if made.role == role)


def packages_of(image: str) -> set[str]:
    """The packages an image's dpkg records name: /var/lib/dpkg/status, or distroless's status.d/."""
    return set(
        dpkg.installed(engine.read_files(image, dpkg.STATUS) or engine.read_files(image, dpkg.STATUS_D))
    )


@pytest.mark.parametrize(("role", "suite"), CASES)
def test_the_stand_in_holds_the_official_package_set_and_only_the_stated_differences(
    role: str, suite: str
) -> None:
    official = OFFICIAL[role][suite]
    held = packages_of(stand_in(role, suite))
    extra, missing = held - set(official["packages"]), set(official["packages"]) - held
    assert extra == set(official.get("extra", {})), (
        f"{role} on {suite}: packages official.toml does not explain"
    )
    assert missing == set(official.get("missing", {})), (
        f"{role} on {suite}: packages of {official['official']} missing"
    )


@pytest.mark.parametrize(
    ("role", "suite"), [case for case in CASES if "size_mb" in OFFICIAL[case[0]][case[1]]]
)
def test_the_stand_in_is_the_official_size_within_the_stated_margin(role: str, suite: str) -> None:
    official = OFFICIAL[role][suite]
    # The report's size, the bytes of the image's files: the engine's own Size is that only on the classic
    # store (on the containerd store it is the compressed blobs, or with Docker 29 blobs and snapshots).
    with imagefs.saved(stand_in(role, suite)) as image:
        size_mb = image.size / 1e6
    assert abs(size_mb - official["size_mb"]) <= official["margin"] * official["size_mb"], (
        f"{role} on {suite}: {size_mb:.1f} MB, {official['official']} is about {official['size_mb']} MB"
    )
