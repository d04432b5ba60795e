"""`registry`: start (or stop) the registry the local base sets live in."""

from __future__ import annotations

import argparse

from imagelab.terminal import terminal

HELP = "make sure the registry of the local base sets answers (127.0.0.1:5000 or $IMAGELAB_REGISTRY)"


def add_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("--stop", action="store_true", help="stop the registry this checkout started")


def run(args: argparse.Namespace) -> int:
    from imagelab.engine import registry

    if args.stop:
        terminal.info(registry.stop_registry())
        return 0
    running = registry.ensure_registry(log=terminal.step)
    how = "started" if running.started_here else "answers"
    terminal.info(f"registry {how} at {running.address} ({running.url})")
    return 0
