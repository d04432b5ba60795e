"""`trend`: draw results/trend.svg, size per variant over the runs in results/history.jsonl."""

from __future__ import annotations

import argparse
from pathlib import Path

from imagelab import ROOT
from imagelab.errors import ConfigError
from imagelab.terminal import terminal

HELP = "draw results/trend.svg: size per variant over the recorded runs"


def add_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--history", type=Path, default=ROOT / "results" / "history.jsonl", metavar="FILE", help="the runs"
    )
    command.add_argument("--output", type=Path, metavar="FILE", help="default: trend.svg beside the history")
    command.add_argument("--last", type=int, default=20, metavar="N", help="how many runs (default 20)")


def run(args: argparse.Namespace) -> int:
    from imagelab.report import history

    output = args.output or args.history.with_name("trend.svg")
    if not history.trend(history.read(args.history), output, args.last):
        raise ConfigError(
            f"{args.history} has no image sizes to draw", hint="run a full `nox -s compare` first"
        )
    terminal.info(f"wrote {output} from the last {args.last} runs of {args.history}")
    return 0
