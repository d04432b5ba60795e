"""`engine`: make sure a Docker engine with buildx answers; on Debian as root, install and start one."""

from __future__ import annotations

import argparse

from imagelab.terminal import terminal

HELP = "make sure a Docker engine with buildx answers (install and start it on Debian)"


def add_arguments(command: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    from imagelab import selection

    terminal.info(selection.ensure_engine().describe())
    return 0
