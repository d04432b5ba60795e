"""`engines`: a compare on every engine and image store beside the one in use; results/engines.md."""

from __future__ import annotations

import argparse
from pathlib import Path

from imagelab import ROOT
from imagelab.errors import ConfigError
from imagelab.terminal import terminal

HELP = "run a compare on each engine and image store beside the one in use; write results/engines.md"


def add_arguments(command: argparse.ArgumentParser) -> None:
    # dest "setups": each is an engine and a store, not the one engine --engine chooses on other commands.
    command.add_argument(
        "--engine",
        dest="setups",
        action="append",
        default=[],
        metavar="KIND/STORE",
        help="only this engine and store, e.g. debian/classic (repeatable)",
    )
    command.add_argument("--out", type=Path, default=ROOT / "results" / "engines.md", metavar="FILE")


def run(args: argparse.Namespace) -> int:
    from imagelab import engine_matrix, selection
    from imagelab.engine import registry

    every = engine_matrix.every_setup()
    unknown = sorted(set(args.setups) - {c.name for c in every})
    if unknown:
        raise ConfigError(
            f"unknown engine and store {', '.join(unknown)}",
            hint=f"choose among {', '.join(c.name for c in every)}",
        )
    selection.ensure_engine()
    registry.ensure_registry(log=terminal.step)
    setups = [c for c in every if not args.setups or c.name in args.setups]
    outcomes = engine_matrix.run(setups, args.out, log=terminal.step)
    terminal.info(args.out.read_text())
    return 0 if all(o.ok for o in outcomes) else 1
