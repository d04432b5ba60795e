"""`lint`: hadolint every Dockerfile; allowed findings are listed with their reasons."""

from __future__ import annotations

import argparse

from imagelab.terminal import terminal

HELP = "hadolint every Dockerfile; allowed findings are listed with their reasons"


def add_arguments(command: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    from imagelab.checks import lint

    result = lint.lint()
    for line in lint.summary(result):
        (terminal.info if result.passed or not line.startswith("FAIL") else terminal.error)(line)
    return 0 if result.passed else 1
