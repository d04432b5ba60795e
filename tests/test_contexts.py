"""A team's Dockerfile with plain FROMs builds on any base set: each image it names gets the set's image
through a named context, by digest; what no set maps, and an engine without named contexts, are refused.

The unit tests need no engine (digests are made up); the docker-marked ones build the tests' own app
(tests/fixtures/plain-froms) through the harness on the local `debian` set and on a golden-image set.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from imagelab import ROOT, apps, bases, build, cli, engine
from imagelab.apps import APPS_ENV
from imagelab.bases import references
from imagelab.engine import bootstrap, registry
from imagelab.engine.bootstrap import EngineInfo
from imagelab.errors import ConfigError, EngineError
from imagelab.inspect import origin

FIXTURE = ROOT / "tests" / "fixtures" / "plain-froms"
APP = "tally"
DOCKERFILE = FIXTURE / "dockerfiles" / APP / "multistage.Dockerfile"
DIGEST = "sha256:" + "1" * 64


def resolved(name_or_path: str | Path) -> bases.BaseSet:
    """A set as a build gets it, every role at a made-up digest (nothing asks a registry)."""
    chosen = bases.open_set(str(name_or_path))
    return chosen.with_digests({image.role: DIGEST for image in chosen.images})


def tally(base_set: bases.BaseSet) -> apps.Variant:
    return apps.select(apps.discover(FIXTURE / "apps"), [APP], [], base_set)[0]


def line_of(text: str, path: Path = DOCKERFILE) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if line.startswith(text))


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# --- which image a reference stands for -------------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    [
        "python:3.13-slim",
        "python:3.13-slim-trixie",  # the official set's reference of the role
        "docker.io/library/python:3.13-slim",
        "index.docker.io/library/python:3.13-slim-trixie",
        f"python:3.13-slim@{DIGEST}",  # pinned to the public image's digest: the set still replaces it
    ],
)
def test_the_references_people_write_for_an_image_name_its_role(written):
    assert bases.open_set("debian").role_for(written) == "python-slim"


@pytest.mark.parametrize("written", ["node:24", "python:3-slim", "python:3.14-slim", "golang:1.28", "redis"])
def test_another_image_or_a_moving_tag_names_no_role(written):
    assert bases.open_set("debian").role_for(written) is None


def test_a_named_context_is_named_as_buildkit_looks_it_up():
    assert references.context_name("docker.io/library/python:3.13-slim") == "python:3.13-slim"
    assert references.context_name("python:latest") == "python"
    assert references.context_name("docker.io/team/app:1") == "team/app:1"
    assert references.context_name(f"gcr.io/distroless/static-debian13@{DIGEST}") == (
        f"gcr.io/distroless/static-debian13@{DIGEST}"
    )


# --- the build: contexts by digest, or as written -----------------------------------------------------


def test_every_plain_reference_builds_on_the_sets_image_by_digest():
    debian = resolved("debian")
    variant = tally(debian)
    target = build.bake_definition([variant], debian)["target"][variant.target]

    slim, base = debian.image("python-slim"), debian.image("debian-slim")
    assert slim is not None and base is not None
    assert target["contexts"] == {
        "python:3.13-slim": f"docker-image://{slim.name}@{DIGEST}",
        "debian:trixie-slim": f"docker-image://{base.name}@{DIGEST}",
    }
    # The image says what its final stage was built on: the set's image, not python:3.13-slim.
    assert target["labels"]["org.opencontainers.image.base.name"] == slim.ref
    assert target["labels"]["org.opencontainers.image.base.digest"] == DIGEST


def test_the_roles_a_plain_dockerfile_uses_are_the_ones_resolved_for_it():
    assert bases.roles_of(DOCKERFILE, bases.open_set("debian")) == ["python-slim", "debian-slim"]
    assert bases.roles_of(DOCKERFILE) == []  # no set: only the ARG form names roles


def test_the_official_set_builds_plain_references_as_written(tmp_path):
    official = resolved("official")
    variant = tally(official)
    target = build.bake_definition([variant], official)["target"][variant.target]
    assert "contexts" not in target
    elsewhere = write(tmp_path / "x.Dockerfile", "FROM node:24 AS build\nFROM redis:7\n")
    assert official.contexts(elsewhere) == {} and official.missing(elsewhere) == []


def test_the_arg_form_keeps_its_build_argument_and_needs_no_context():
    debian = resolved("debian")
    go_href = apps.select(apps.discover(), ["go-href"], ["distroless"], debian)[0]
    target = build.bake_definition([go_href], debian)["target"][go_href.target]
    assert "contexts" not in target
    assert target["args"]["GOLANG_IMAGE"].endswith(f"/imagelab-bases/golang@{DIGEST}")


def test_a_user_set_file_maps_a_golden_image_and_aliases_of_its_own(tmp_path):
    golden = write(
        tmp_path / "golden.toml",
        'description = "a team\'s golden images"\n'
        "[roles]\n"
        'python-slim = "{registry}/golden/python:3.13"\n'
        'debian-slim = "{registry}/imagelab-bases/debian-slim:debian13"\n'
        "[aliases]\n"
        'python-slim = ["registry.example/team/python:3.13-slim"]\n',
    )
    chosen = resolved(golden)
    ours = write(
        tmp_path / "ours.Dockerfile",
        "FROM registry.example/team/python:3.13-slim AS build\nFROM python:3.13-slim-trixie\n",
    )
    where = f"docker-image://{registry.address()}/golden/python@{DIGEST}"
    assert chosen.contexts(ours) == {
        "registry.example/team/python:3.13-slim": where,
        "python:3.13-slim-trixie": where,
    }


def test_one_reference_under_two_roles_is_refused(tmp_path):
    twice = write(
        tmp_path / "twice.toml",
        '[roles]\npython = "python:3.13-trixie"\n[aliases]\npython = ["python:3.13-slim"]\n',
    )
    with pytest.raises(ConfigError) as caught:
        bases.open_set(str(twice))
    assert "python:3.13-slim stands for both python-slim and python" in caught.value.cause


# --- refused before the build -------------------------------------------------------------------------


def test_a_reference_no_role_stands_for_is_refused_in_one_line(tmp_path):
    path = write(
        tmp_path / "team.Dockerfile",
        "FROM python:3.13-slim AS build\nRUN true\nCOPY --from=node:24 /usr/local/bin/node /node\n",
    )
    with pytest.raises(ConfigError) as caught:
        resolved("debian").contexts(path)
    error = caught.value
    assert error.cause == f"{path}:3: base set 'debian' has no image for COPY --from=node:24"
    assert "[aliases]" in error.hint and "--bases official" in error.hint


def test_an_arg_default_the_set_cannot_map_is_refused_with_what_it_expands_to(tmp_path):
    path = write(tmp_path / "arg.Dockerfile", "ARG BASE=golang:1.28\nFROM ${BASE} AS build\n")
    with pytest.raises(ConfigError) as caught:
        resolved("debian").contexts(path)
    assert caught.value.cause.endswith(":2: base set 'debian' has no image for FROM ${BASE} (golang:1.28)")


def test_the_build_command_refuses_it_before_asking_for_an_engine(tmp_path, monkeypatch, capsys):
    project = tmp_path / "project"
    shutil.copytree(FIXTURE, project)
    dockerfile = project / "dockerfiles" / APP / "multistage.Dockerfile"
    dockerfile.write_text(
        dockerfile.read_text().replace("FROM python:3.13-slim\n", "FROM python:3.14-slim\n")
    )
    monkeypatch.setenv(APPS_ENV, str(project / "apps"))
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")

    assert cli.main(["build", "--app", APP, "--bases", "debian"]) == 1
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    line = line_of("FROM python:3.14-slim", dockerfile)
    assert errors == [f"error: {dockerfile}:{line}: base set 'debian' has no image for FROM python:3.14-slim"]


def test_a_role_the_set_does_not_fill_leaves_the_image_out(tmp_path):
    partial = write(tmp_path / "partial.toml", '[roles]\npython-slim = "{registry}/golden/python:3.13"\n')
    chosen = resolved(partial)
    assert chosen.missing(DOCKERFILE) == ["debian-slim"]  # the command line reports it, builds the rest
    with pytest.raises(ConfigError) as caught:
        chosen.contexts(DOCKERFILE)
    line = line_of("COPY --from=debian")
    assert caught.value.cause == (
        f"tests/fixtures/plain-froms/dockerfiles/{APP}/multistage.Dockerfile:{line}: "
        "COPY --from=debian:trixie-slim stands for role debian-slim, which base set 'partial' does not fill"
    )


# --- the engine -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("server", "buildkit"),
    [
        ("28.5.2+dfsg4", "v0.0.0+unknown"),  # Debian's build says no BuildKit version: the engine's counts
        ("27.3.1", "v0.16.0"),
        ("20.10.24+dfsg1", "v0.12.5"),  # an old engine with a newer buildx builder (docker-container)
    ],
)
def test_an_engine_with_named_contexts_passes(server, buildkit):
    build.require_named_contexts(EngineInfo(server, "1.47", "0.29.1", buildkit))


@pytest.mark.parametrize(
    ("server", "buildkit", "found"),
    [
        ("20.10.24+dfsg1", "v0.8.2", "BuildKit v0.8.2"),
        ("20.10.24+dfsg1", "unknown", "the BuildKit built into Docker 20.10.24+dfsg1"),
    ],
)
def test_an_engine_without_named_contexts_is_refused_in_one_line(server, buildkit, found):
    with pytest.raises(EngineError) as caught:
        build.require_named_contexts(EngineInfo(server, "1.41", "0.13.1", buildkit))
    cause = caught.value.cause
    assert "\n" not in cause and found in cause and "BuildKit 0.10 or newer" in cause


# --- the report ---------------------------------------------------------------------------------------


def test_the_report_names_each_base_as_written_and_as_built(monkeypatch):
    monkeypatch.setattr(engine, "image_id_and_digest", lambda ref: ("", ""))
    debian = resolved("debian")
    found = origin.base_images(DOCKERFILE, debian.build_args(), debian.replaced(DOCKERFILE))
    slim, base = debian.image("python-slim"), debian.image("debian-slim")
    assert slim is not None and base is not None
    assert [(b.written, b.line, b.ref, b.digest) for b in found] == [
        ("python:3.13-slim", line_of("FROM python"), slim.build_arg, DIGEST),
        ("debian:trixie-slim", line_of("COPY --from=debian"), base.build_arg, DIGEST),
    ]


# --- for real ---------------------------------------------------------------------------------------


def compare(bases_arg: str | Path, results: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, APPS_ENV: str(FIXTURE / "apps"), "COLUMNS": "200"}
    command = ["compare", "--app", APP, "--bases", str(bases_arg), "--results", str(results)]
    return subprocess.run(
        [sys.executable, "-m", "imagelab", *command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )


def built_row(done: subprocess.CompletedProcess, results: Path) -> dict:
    assert done.returncode == 0, done.stderr[-3000:]
    (row,) = json.loads((results / "compare.json").read_text())["images"]
    # A job's smoke test passes when it printed exactly app.toml's output (links=3 copied=debian).
    assert row["built"] and row["smoke"] == "pass" and row["structure"] == "pass", row
    return row


def bases_by_written(row: dict) -> dict[str, dict]:
    return {base["written"]: base for base in row["base_images"]}


def lacks_named_contexts() -> str:
    """Why this engine cannot build a Dockerfile with plain FROMs, "" when it can (Docker 23 and newer)."""
    try:
        build.require_named_contexts(bootstrap.info())
    except EngineError as exc:
        return exc.cause
    return ""


@pytest.mark.docker
def test_a_plain_dockerfile_builds_and_answers_on_the_local_set(tmp_path):
    done = compare("debian", tmp_path)
    if why := lacks_named_contexts():  # Docker 20.10: refused in one line, naming what it has and needs
        assert done.returncode == 1 and f"error: {why}" in done.stderr.splitlines()
        return
    row = built_row(done, tmp_path)
    used = bases_by_written(row)
    prefix = f"{registry.address()}/imagelab-bases"
    assert used["python:3.13-slim"]["ref"].startswith(f"{prefix}/python-slim@sha256:")
    assert used["debian:trixie-slim"]["ref"].startswith(f"{prefix}/debian-slim@sha256:")
    for base in used.values():
        assert base["digest"] and base["ref"].endswith(base["digest"])


@pytest.mark.docker
def test_a_plain_dockerfile_builds_on_a_golden_image(tmp_path):
    """A team's golden image: the stand-in copied under another name in the registry, and a set file
    that maps python:3.13-slim to it."""
    if why := lacks_named_contexts():
        pytest.skip(why)
    registry.ensure_registry()
    bases.resolve(bases.open_set("debian"), ["python-slim"])  # the stand-in there, to copy
    golden = f"{registry.address()}/imagelab-tests/golden-python:3.13"
    source = f"{registry.address()}/imagelab-bases/python-slim:debian13"
    copied = subprocess.run(
        [
            "skopeo",
            "copy",
            "--src-tls-verify=false",
            "--dest-tls-verify=false",
            f"docker://{source}",
            f"docker://{golden}",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert copied.returncode == 0, copied.stderr
    set_file = write(
        tmp_path / "golden.toml",
        "description = \"a team's golden python (the tests' own)\"\n[roles]\n"
        'python-slim = "{registry}/imagelab-tests/golden-python:3.13"\n'
        'debian-slim = "{registry}/imagelab-bases/debian-slim:debian13"\n',
    )
    results = tmp_path / "results"
    row = built_row(compare(set_file, results), results)
    assert row["base_set"] == "golden"
    slim = bases_by_written(row)["python:3.13-slim"]
    assert slim["ref"].startswith(f"{registry.address()}/imagelab-tests/golden-python@sha256:")


@pytest.mark.docker
def test_a_bump_between_two_local_sets_names_the_plain_dockerfile_s_base_difference(tmp_path):
    """The same unchanged Dockerfile on Debian 12's stand-ins, then on Debian 13's: the bump says what the
    base moved (packages, from the base image's layers), which a build that ignored the set would not."""
    if why := lacks_named_contexts():
        pytest.skip(why)
    env = {**os.environ, APPS_ENV: str(FIXTURE / "apps"), "COLUMNS": "200"}
    command = ["bump", "--from", "debian12", "--to", "debian", "--results", str(tmp_path), "--name", "plain"]
    done = subprocess.run(
        [sys.executable, "-m", "imagelab", *command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    # The gate may fail the move (the image changes): what matters is that this run wrote its report.
    assert (tmp_path / "plain.json").is_file(), done.stdout[-2000:] + done.stderr[-3000:]
    report = json.loads((tmp_path / "plain.json").read_text())
    (image,) = report["images"]
    assert (image["app"], image["variant"]) == (APP, "multistage")
    old = {base["digest"] for base in image["old_bases"]}
    new = {base["digest"] for base in image["new_bases"]}
    assert old and new and not old & new, "each set's own stand-ins, by digest"
    moved = {p["name"]: p for p in image["packages"] if p["kind"] == "deb"}
    # Debian 12 -> 13 moves base-files from 12.x to 13.x, in the base image's layers.
    assert moved["base-files"]["old"].startswith("12") and moved["base-files"]["new"].startswith("13")
    assert moved["base-files"]["origin"] == "base"
