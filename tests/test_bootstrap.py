"""The engine check: the branches that need no engine run against fakes; one test needs the real one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from imagelab import apt, cli, engine
from imagelab.engine import bootstrap, kinds
from imagelab.errors import EngineError

MISSING_SOCKET = "unix:///nonexistent/imagelab-test/docker.sock"


@pytest.fixture(autouse=True)
def no_engine_choice(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """The faked engines here answer what each test says, whatever engine the run was asked for
    (`nox -s tests -- --engine forky --store containerd` puts the choice in the environment)."""
    if request.node.get_closest_marker("docker") is None:
        monkeypatch.delenv(bootstrap.ENGINE_ENV, raising=False)
        monkeypatch.delenv(bootstrap.STORE_ENV, raising=False)


@pytest.fixture
def no_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "answers", lambda: False)


@pytest.fixture
def forbid_install(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("the engine check tried to install or start something")

    for name in ("_install_buildx", "_start", "_stop_dockerd"):
        monkeypatch.setattr(bootstrap, name, refuse)
    monkeypatch.setattr(apt, "install_missing", refuse)


def fake_docker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str) -> None:
    """Put a `docker` executable first on PATH that runs `script` (a POSIX shell body)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "docker"
    fake.write_text(f"#!/bin/sh\n{script}\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")


def test_buildx_version_reads_the_plugin_answer(tmp_path, monkeypatch):
    fake_docker(tmp_path, monkeypatch, 'echo "github.com/docker/buildx 0.13.1+ds1 0.13.1+ds1-3"')
    assert bootstrap.buildx_version() == "0.13.1+ds1"


def test_buildx_version_is_none_without_the_plugin(tmp_path, monkeypatch):
    fake_docker(tmp_path, monkeypatch, "echo \"docker: 'buildx' is not a docker command.\" >&2; exit 1")
    assert bootstrap.buildx_version() is None


def test_a_plugin_removed_behind_our_marker_is_installed_again(tmp_path, monkeypatch):
    # The CI rehearsal's cleanup deleted docker-buildx and kept .imagelab-buildx: the next start took the
    # marker's word, and `docker buildx version` failed.
    monkeypatch.setattr(bootstrap, "PLUGIN_DIR", tmp_path)
    built = tmp_path / "built-docker-buildx"
    built.write_text("the plugin\n")
    monkeypatch.setattr(kinds, "buildx_plugin", lambda suite, log: built)
    (tmp_path / ".imagelab-buildx").write_text("forky\n")
    bootstrap._install_buildx("forky", log=lambda _: None)
    assert (tmp_path / "docker-buildx").read_text() == "the plugin\n"
    (tmp_path / "docker-buildx").write_text("kept\n")  # present and ours, same suite: left alone
    bootstrap._install_buildx("forky", log=lambda _: None)
    assert (tmp_path / "docker-buildx").read_text() == "kept\n"


def test_an_unanswering_docker_host_is_named_and_nothing_is_installed(monkeypatch, no_engine, forbid_install):
    monkeypatch.setenv("DOCKER_HOST", MISSING_SOCKET)
    with pytest.raises(EngineError) as caught:
        bootstrap.ensure_engine(log=lambda _: None)
    assert MISSING_SOCKET in caught.value.cause
    assert "unset DOCKER_HOST" in caught.value.hint


def test_without_root_it_says_what_to_install(monkeypatch, no_engine, forbid_install):
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(EngineError) as caught:
        bootstrap.ensure_engine(log=lambda _: None)
    assert "needs root" in caught.value.cause
    assert "buildx" in caught.value.hint


def test_off_debian_it_says_what_to_install(monkeypatch, no_engine, forbid_install):
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.setattr(apt, "DEBIAN_VERSION_FILE", Path("/nonexistent/debian_version"))
    with pytest.raises(EngineError) as caught:
        bootstrap.ensure_engine(log=lambda _: None)
    assert "not a Debian machine" in caught.value.cause
    assert "Docker Desktop" in caught.value.hint


def test_an_answering_engine_with_buildx_is_only_reported(tmp_path, monkeypatch, forbid_install):
    monkeypatch.setattr(engine, "answers", lambda: True)
    monkeypatch.setattr(engine, "versions", lambda: {"Version": "20.10.24", "ApiVersion": "1.41"})
    fake_docker(
        tmp_path,
        monkeypatch,
        """
case "$2" in
  version) echo "github.com/docker/buildx 0.13.1 abc" ;;
  inspect) printf 'Name: default\\nBuildKit version: v0.8.0\\n' ;;
esac""",
    )
    monkeypatch.setattr(engine, "image_store", lambda: "classic")
    monkeypatch.setattr(bootstrap, "_started", lambda: None)
    info = bootstrap.ensure_engine(log=lambda _: None)
    assert (info.server, info.api, info.buildx, info.buildkit) == ("20.10.24", "1.41", "0.13.1", "v0.8.0")
    assert "found running" in info.describe()


@pytest.mark.parametrize(
    ("kind", "store", "cause"),
    [
        ("podman", None, "unknown engine 'podman'"),
        ("debian", "containerd", "--engine debian has no containerd image store"),
    ],
)
def test_an_engine_or_store_it_cannot_start_is_one_line(monkeypatch, forbid_install, kind, store, cause):
    with pytest.raises(EngineError) as caught:
        bootstrap.ensure_engine(log=lambda _: None, kind=kind, store=store)
    assert caught.value.cause == cause
    assert caught.value.hint.startswith(("choose one of: forky, source, trixie, debian", "it has: classic"))


def test_a_users_engine_is_not_replaced_by_the_one_asked_for(monkeypatch, forbid_install):
    monkeypatch.setattr(engine, "answers", lambda: True)
    monkeypatch.setattr(bootstrap, "_started", lambda: None)
    found = bootstrap.EngineInfo("29.0.0", "1.52", "0.30.0", "v0.26.0", store="containerd")
    monkeypatch.setattr(bootstrap, "info", lambda: found)
    monkeypatch.setattr(bootstrap, "buildx_version", lambda: found.buildx)
    assert bootstrap.ensure_engine(log=lambda _: None, store="containerd") is found
    with pytest.raises(EngineError) as caught:
        bootstrap.ensure_engine(log=lambda _: None, kind="debian")
    assert "an engine imagelab did not start answers (29.0.0, containerd store)" in caught.value.cause


def test_the_cli_names_the_cause_in_one_line_and_exits_non_zero():
    """The real command, with DOCKER_HOST at a socket that does not exist: no install, one line, exit 1."""
    env = {**os.environ, "DOCKER_HOST": MISSING_SOCKET}
    done = subprocess.run(
        [sys.executable, "-m", "imagelab", "engine"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    first = done.stderr.strip().splitlines()[0]
    assert first == f"error: no Docker engine answers at DOCKER_HOST={MISSING_SOCKET}"


@pytest.mark.docker
def test_on_a_ready_engine_the_check_changes_nothing_and_reads_real_versions(forbid_install):
    found = bootstrap.ensure_engine(log=lambda line: pytest.fail(f"changed something: {line}"))
    assert found.buildx != "missing"
    assert found.buildkit != "unknown", f"no BuildKit line in `docker buildx inspect`: {found}"
    assert found.store in kinds.STORES


def answering_engine(tmp_path, monkeypatch, version: str, api: str, buildx: str) -> None:
    """An engine that answers as `version` (API `api`) with a buildx plugin `buildx`: faked, not started."""
    monkeypatch.setattr(engine, "answers", lambda: True)
    monkeypatch.setattr(engine, "versions", lambda: {"Version": version, "ApiVersion": api})
    monkeypatch.setattr(engine, "image_store", lambda: "classic")
    monkeypatch.setattr(bootstrap, "_started", lambda: None)
    fake_docker(
        tmp_path,
        monkeypatch,
        f"""
case "$2" in
  version) echo "github.com/docker/buildx {buildx} abc" ;;
  inspect) printf 'Name: default\\nBuildKit version: v0.6.4\\n' ;;
esac""",
    )


@pytest.mark.parametrize(
    ("version", "api", "buildx", "found", "needed"),
    [
        ("19.03.15", "1.40", "0.13.1", "Docker 19.03.15 (API 1.40)", "Docker Engine 20.10"),
        # An engine built from source names no release: its API version tells its age.
        ("library-import", "1.40", "0.13.1", "API 1.40", "(API 1.41)"),
        ("20.10.24", "1.41", "0.10.5", "buildx 0.10.5", "buildx 0.13"),
    ],
)
def test_an_engine_older_than_supported_is_refused_in_one_line_naming_both_versions(
    tmp_path, monkeypatch, capsys, forbid_install, version, api, buildx, found, needed
):
    answering_engine(tmp_path, monkeypatch, version, api, buildx)
    assert cli.main(["engine"]) == 1
    err = capsys.readouterr().err
    cause = next(line for line in err.splitlines() if line.startswith("error:"))
    assert found in cause and needed in cause


@pytest.mark.parametrize(
    ("version", "api", "buildx"),
    [("20.10.24+dfsg1", "1.41", "0.13.1+ds1"), ("2.0.0-beta.24-module", "1.56", "v0.29.1")],
)
def test_the_oldest_supported_engine_and_a_source_built_one_are_accepted(
    tmp_path, monkeypatch, capsys, forbid_install, version, api, buildx
):
    answering_engine(tmp_path, monkeypatch, version, api, buildx)
    assert cli.main(["engine"]) == 0
    assert "error:" not in capsys.readouterr().err
