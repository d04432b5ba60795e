"""`engine`: make sure a Docker engine with buildx answers; on Debian as root, install and start one."""

from __future__ import annotations

import argparse

from imagelab.terminal import terminal

HELP = "make sure a Docker engine with buildx answers (install and start it on Debian)"


def add_arguments(command: argparse.ArgumentParser) -> None:
    # No argparse choices: they would load the engine package (and the Docker SDK) for every command;
    # engine/bootstrap.py refuses an unknown one in one line with the valid ones.
    command.add_argument(
        "--engine",
        metavar="KIND",
        help="the engine to start: forky (default: Debian's docker.io 28.5), source (Docker 29 built from "
        "its Go module), debian (Debian 12's 20.10); also $IMAGELAB_ENGINE",
    )
    command.add_argument(
        "--store", metavar="STORE", help="its image store: classic or containerd; also $IMAGELAB_STORE"
    )


def run(args: argparse.Namespace) -> int:
    from imagelab import selection
    from imagelab.engine import bootstrap

    found = selection.supported(
        bootstrap.ensure_engine(log=terminal.step, kind=args.engine, store=args.store)
    )
    terminal.info(found.describe())
    return 0
