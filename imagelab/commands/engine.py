"""`engine`: make sure a Docker engine with buildx answers; on Debian as root, install and start one."""

from __future__ import annotations

import argparse

from imagelab.commands import flags
from imagelab.terminal import terminal

HELP = "make sure a Docker engine with buildx answers (install and start it on Debian)"


def add_arguments(command: argparse.ArgumentParser) -> None:
    flags.add_engine(command)


def run(args: argparse.Namespace) -> int:
    from imagelab import selection
    from imagelab.engine import bootstrap

    found = selection.supported(
        bootstrap.ensure_engine(log=terminal.step, kind=args.engine, store=args.store)
    )
    terminal.info(found.describe())
    return 0
