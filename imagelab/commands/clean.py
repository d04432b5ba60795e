"""`clean`: remove every container and network an interrupted run left."""

from __future__ import annotations

import argparse

from imagelab.commands import flags
from imagelab.terminal import terminal

HELP = "remove the containers and networks labelled imagelab.run (of any run, or --run ID)"


def add_arguments(command: argparse.ArgumentParser) -> None:
    flags.add_engine(command)
    command.add_argument("--run", default="", metavar="ID", help="only what this run left (default: any run)")


def run(args: argparse.Namespace) -> int:
    from imagelab import engine, selection

    selection.ensure_engine()
    containers, networks = engine.remove_labelled(args.run)
    removed = ", ".join(containers + networks)
    label = f"{engine.RUN_LABEL}={args.run}" if args.run else engine.RUN_LABEL
    terminal.info(
        f"removed {len(containers)} containers and {len(networks)} networks labelled {label}"
        + (f": {removed}" if removed else "")
    )
    return 0
