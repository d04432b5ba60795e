"""`engines`: a compare on every engine and image store beside the one in use; results/engines.md."""

from __future__ import annotations

import argparse
from pathlib import Path

from imagelab import ROOT
from imagelab.errors import ConfigError
from imagelab.terminal import terminal

HELP = "run a compare on each engine and image store beside the one in use; write results/engines.md"


def add_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--engine", action="append", default=[], metavar="KIND/STORE", help="e.g. debian/classic (repeatable)"
    )
    command.add_argument("--out", type=Path, default=ROOT / "results" / "engines.md", metavar="FILE")


def run(args: argparse.Namespace) -> int:
    from imagelab import engine_matrix, selection
    from imagelab.engine import registry

    every = engine_matrix.every_setup()
    unknown = sorted(set(args.engine) - {c.name for c in every})
    if unknown:
        raise ConfigError(
            f"unknown engine and store {', '.join(unknown)}",
            hint=f"choose among {', '.join(c.name for c in every)}",
        )
    selection.ensure_engine()
    registry.ensure_registry(log=terminal.step)
    setups = [c for c in every if not args.engine or c.name in args.engine]
    outcomes = engine_matrix.run(setups, args.out, log=terminal.step)
    terminal.info(args.out.read_text())
    return 0 if all(o.ok for o in outcomes) else 1
