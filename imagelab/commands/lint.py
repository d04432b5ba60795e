"""`lint`: hadolint every Dockerfile; allowed findings are listed with their reasons."""

from __future__ import annotations

import argparse
from pathlib import Path

from imagelab import ROOT
from imagelab.terminal import terminal

HELP = "hadolint every Dockerfile; allowed findings are listed with their reasons"
#: Besides dockerfiles/ (read from the lint module when the command runs): the recipes the benchmarks
#: build, such as the course's own microblog recipe (benchmarks/course/), which are no variant.
OTHER_FOLDERS = (ROOT / "benchmarks",)


def add_arguments(command: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    from imagelab.checks import lint

    folders: list[Path] = [lint.DOCKERFILES, *OTHER_FOLDERS]
    results = [lint.lint(folder) for folder in folders]
    result = lint.LintResult(
        files=[file for each in results for file in each.files],
        failures=[finding for each in results for finding in each.failures],
        allowed=[allowed for each in results for allowed in each.allowed],
        checks=results[0].checks,  # one engine answers for every folder
    )
    for line in lint.summary(result):
        (terminal.info if result.passed or not line.startswith("FAIL") else terminal.error)(line)
    return 0 if result.passed else 1
