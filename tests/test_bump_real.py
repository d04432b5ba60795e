"""The bump and the gate on real images: one Dockerfile changed to install a package in its own layers.

In a copy of the repository (the shared dockerfiles/ stay as they are) go-href is renamed, so its images
have tags of their own; its multistage Dockerfile gains a Debian package built here with dpkg-deb. Two
real compare runs later, the gate and the bump must name that package and put it, and its bytes, in the
image's own layers -- not in the base image's.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from engine_needs import skip_unless_buildable

from imagelab import ROOT, engine
from imagelab.engine import registry
from imagelab.report import jsonfile

pytestmark = pytest.mark.docker

PROBE = "imagelab-probe"
STEP = (
    "# The bump test's change: one package more, installed in this image's own layer.\n"
    f"RUN --mount=type=bind,source={PROBE}.deb,target=/tmp/{PROBE}.deb dpkg -i /tmp/{PROBE}.deb\n"
)


def probe_deb(folder: Path) -> Path:
    """A real Debian package of 256 KiB of data, made with dpkg-deb (no network)."""
    root = folder / "pkg"
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN" / "control").write_text(
        f"Package: {PROBE}\nVersion: 1.0\nArchitecture: all\nMaintainer: imagelab tests <t@example.invalid>\n"
        "Description: a package the bump test installs\n"
    )
    data = root / "usr" / "share" / PROBE
    data.mkdir(parents=True)
    (data / "payload").write_bytes(os.urandom(256 * 1024))
    deb = folder / f"{PROBE}.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "--build", str(root), str(deb)], check=True, timeout=60)
    return deb


def copy_repository(dest: Path, app: str) -> None:
    """The tracked files of the checkout, with go-href renamed to `app`."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True, timeout=60
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            target = (
                dest / name.replace("go-href", app, 1)
                if name.startswith(("apps/go-href/", "dockerfiles/go-href/"))
                else dest / name
            )
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


#: The copy's command line, except that it takes the base images as the engine has them: this test is
#: about the app's own layers, and a copy must not rebuild the shared base tags (what it needs is
#: debian-slim and golang, which `nox -s bases` and the base tests build).
MAIN = (
    "import sys; from imagelab import build, cli; build.ensure_bases = lambda base_set: base_set; "
    "sys.exit(cli.main(sys.argv[1:]))"
)


def harness(repo: Path, *args: str) -> subprocess.CompletedProcess:
    """The copy's imagelab (its ROOT is the copy) run as a command."""
    return subprocess.run(
        [sys.executable, "-c", MAIN, *args],
        check=False,
        cwd=repo,
        env={**os.environ, "PYTHONPATH": str(repo)},
        capture_output=True,
        text=True,
        timeout=1800,
    )


@pytest.fixture(scope="module")
def changed(tmp_path_factory) -> dict:
    if shutil.which("dpkg-deb") is None:
        pytest.skip("needs dpkg-deb to make the test's package")
    for role in ("debian-slim", "golang"):
        if not engine.image_id(f"{registry.address()}/imagelab-bases/{role}:debian13"):
            pytest.skip(f"needs the local base imagelab-bases/{role}:debian13 (nox -s bases)")
    work = tmp_path_factory.mktemp("bump-real")
    app = f"bumpprobe{uuid.uuid4().hex[:8]}"
    repo = work / "repo"
    copy_repository(repo, app)
    skip_unless_buildable(repo / "dockerfiles" / app / "multistage.Dockerfile", "the probe's multistage")
    tag = f"imagelab/{app}:multistage-debian"
    select = ["--app", app, "--variant", "multistage"]
    try:
        before = harness(repo, "compare", *select, "--results", str(work / "before"))
        assert before.returncode == 0, before.stderr[-3000:]
        shutil.copy2(probe_deb(work), repo / "apps" / app / f"{PROBE}.deb")
        dockerfile = repo / "dockerfiles" / app / "multistage.Dockerfile"
        text = dockerfile.read_text()
        at = text.rindex("USER ")  # the runtime stage's user: install as root, before it
        dockerfile.write_text(text[:at] + STEP + text[at:])
        gated = harness(
            repo,
            "compare",
            *select,
            "--results",
            str(work / "after"),
            "--baseline",
            str(work / "before" / "compare.json"),
            "--max-package-growth-percent",
            "0",
        )
        bumped = harness(
            repo,
            "bump",
            "--from",
            str(work / "before" / "compare.json"),
            "--to",
            str(work / "after" / "compare.json"),
            "--results",
            str(work / "bump"),
            "--max-package-growth-percent",
            "0",
        )
    finally:
        if engine.image_id(tag):
            engine.remove_image(tag)
    return {"work": work, "gated": gated, "bumped": bumped, "app": app}


def test_the_gate_names_the_package_and_its_own_layers(changed):
    gated = changed["gated"]
    assert gated.returncode == 1, gated.stderr[-3000:]
    assert "os packages +1 (" in gated.stderr and f"(+{PROBE} 1.0 (own))" in gated.stderr


def test_the_bump_puts_the_package_and_its_bytes_in_the_image_s_own_layers(changed):
    bumped = changed["bumped"]
    assert bumped.returncode == 1, bumped.stderr[-3000:]  # the package limit is 0 %
    assert f"+{PROBE} 1.0 (own)" in bumped.stderr
    [image] = json.loads((changed["work"] / "bump" / "bump.json").read_text())["images"]
    assert [(p["name"], p["old"], p["new"], p["origin"]) for p in image["packages"]] == [
        (PROBE, "", "1.0", "own")
    ]
    assert image["base_bytes"]["old"] == image["base_bytes"]["new"] > 0  # the base did not move
    grown = image["own_bytes"]["new"] - image["own_bytes"]["old"]
    assert 256 * 1024 <= grown < 1024 * 1024  # the payload, plus dpkg's own records of it
    text = (changed["work"] / "bump" / "bump.md").read_text()
    assert "Packages in the image's own layers (1):" in text and f"- added (1): {PROBE} 1.0" in text


def test_every_other_package_is_recorded_as_the_base_image_s(changed):
    # Read as the model holds it: the file writes the inventory one line a package (schema 2).
    after = jsonfile.expanded(json.loads((changed["work"] / "after" / "compare.json").read_text()))
    [image] = after["images"]
    assert image["base_layers"] > 0 and image["base_layers"] < image["layers"]
    debs = [p for p in image["exposure"]["inventory"] if p["kind"] == "deb"]
    assert [p["name"] for p in debs if p["in_base"] is False] == [PROBE]
    assert "libc6" in [p["name"] for p in debs if p["in_base"] is True]
