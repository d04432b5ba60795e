"""Fixtures shared by the harness tests.

Tests marked `docker` need a running engine; `nox -s tests` starts one first (imagelab/engine/bootstrap.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from engine_needs import unmet
from vulns_archive import archive_server, serve_tree

from imagelab import apps, bases, build, engine
from imagelab.engine import bootstrap


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--engine", metavar="KIND", help="run the docker tests on this engine kind")
    parser.addoption("--store", metavar="STORE", help="... with this image store: classic or containerd")


def pytest_configure(config: pytest.Config) -> None:
    # As `--engine` does for the harness's commands: every engine the tests ask for, and every harness
    # process they start, reads the choice from the environment.
    for option, variable in (("engine", bootstrap.ENGINE_ENV), ("store", bootstrap.STORE_ENV)):
        if config.getoption(option):
            os.environ[variable] = config.getoption(option)


def _apt_download(package: str, dest: Path) -> Path:
    """Fetch one .deb with apt (refreshing the package lists once if they are stale)."""
    for attempt in range(2):
        done = subprocess.run(
            ["apt-get", "download", package],
            cwd=dest,
            check=False,
            capture_output=True,
            text=True,
            timeout=300,
        )
        debs = sorted(dest.glob(f"{package}_*.deb"))
        if done.returncode == 0 and debs:
            return debs[0]
        if attempt == 0:
            subprocess.run(["apt-get", "update", "-q"], check=False, capture_output=True, timeout=300)
    pytest.fail(f"apt-get download {package} failed: {done.stderr.strip()[-300:]}")


@pytest.fixture(scope="session")
def busybox_rootfs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A root file system holding only Debian's static busybox: a tiny, shell-capable test image."""
    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        pytest.skip("needs Debian's apt-get and dpkg-deb to fetch busybox-static")
    work = tmp_path_factory.mktemp("busybox")
    deb = _apt_download("busybox-static", work)
    root = work / "rootfs"
    subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True, timeout=60)
    return root


def build_busybox_image(
    rootfs: Path, context: Path, dockerfile: str, name: str, files: dict[str, bytes] | None = None
) -> str:
    """Build a FROM-scratch image from `dockerfile`, with busybox (and `files`) in its context; its tag
    is imagelab-scratch/<name>:<random>, for the caller to remove."""
    shutil.copy2(rootfs / "bin" / "busybox", context / "busybox")
    for relative, content in (files or {}).items():
        (context / relative).write_bytes(content)
    (context / "Dockerfile").write_text(dockerfile)
    tag = f"imagelab-scratch/{name}:{uuid.uuid4().hex[:12]}"
    engine.build_image(context, context / "Dockerfile", tag, timeout_s=300)
    return tag


@pytest.fixture
def scratch_tag() -> Iterator[str]:
    """A unique tag for a throw-away image, removed after the test."""
    tag = f"imagelab-scratch/test:{uuid.uuid4().hex[:12]}"
    yield tag
    if engine.image_id(tag):
        engine.client().images.remove(tag, force=True)


class BuiltHere(dict):
    """Built images by tag; asking for one this engine cannot build skips the test, with the reason."""

    def __init__(self, built: dict[str, build.Built], left_out: dict[str, str]) -> None:
        super().__init__(built)
        self.left_out = left_out

    def __missing__(self, tag: str) -> build.Built:
        if tag in self.left_out:
            pytest.skip(f"{tag}: {self.left_out[tag]}")
        raise KeyError(tag)


@pytest.fixture(scope="session")
def debian_images() -> BuiltHere:
    """Every variant of every app on the debian base set that this engine builds, built through the
    harness (cached when built). The others are left out as compare leaves them out: Docker 20.10 parses
    no `COPY --link`, and one Dockerfile it cannot parse fails every target of the bake."""
    debian = bases.open_set("debian")
    every = apps.select(apps.discover(), (), (), debian)
    why = {v.tag: unmet(v.app.dockerfile(v.name)) for v in every}
    buildable = [v for v in every if not why[v.tag]]
    built = {b.variant.tag: b for b in build.build(buildable, debian)}
    return BuiltHere(built, {tag: reason for tag, reason in why.items() if reason})


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, list[str]]]:
    """Debian's security archive, trimmed, on 127.0.0.1 (tests/vulns_archive.py): its URL and the paths
    asked for."""
    root = tmp_path / "debian-security"
    serve_tree(root)
    with archive_server(root) as (url, requests):
        yield url, requests


@pytest.fixture(scope="session", autouse=True)
def no_container_left_behind(request: pytest.FixtureRequest) -> Iterator[None]:
    """After the whole suite, no container the harness labelled may remain (when an engine ran).

    A run without docker tests (`nox -s unit`) does not ask: it must pass where no engine is."""
    yield
    ran_docker_tests = any(item.get_closest_marker("docker") for item in request.session.items)
    if ran_docker_tests and engine.answers():
        left = engine.client().containers.list(all=True, filters={"label": engine.RUN_LABEL})
        assert not left, f"containers left behind: {[c.name for c in left]}"
