"""The `bump` and `trend` commands, and the gate's options that `compare` shares with `bump`.

cli.py keeps the table of commands; these are their arguments and handlers.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from imagelab import ROOT
from imagelab.errors import ConfigError
from imagelab.terminal import terminal


def add_gate_options(command: argparse.ArgumentParser) -> None:
    from imagelab.report import gate

    command.add_argument(
        "--max-growth-percent",
        type=float,
        default=5.0,
        metavar="P",
        help="an image may grow this much before the gate fails (with --max-growth-mb)",
    )
    command.add_argument(
        "--max-growth-mb",
        type=float,
        default=2.0,
        metavar="MB",
        help="... and this many megabytes (default 2)",
    )
    command.add_argument(
        "--max-package-growth-percent",
        type=float,
        default=10.0,
        metavar="P",
        help="how much an image's package count may grow (default 10)",
    )
    command.add_argument(
        "--limit",
        action="append",
        default=[],
        metavar="METRIC=P:FLOOR",
        help="a gated metric fails past P percent and FLOOR (its unit), e.g. memory=25:10e6 or "
        f"first-answer=50:0.5 (repeatable; metrics: {', '.join(m.replace(' ', '-') for m in gate.BY_NAME)})",
    )
    command.add_argument(
        "--accepted",
        type=Path,
        default=ROOT / "results" / "accepted.toml",
        metavar="FILE",
        help="reviewed changes the gate accepts until their expiry date (default results/accepted.toml)",
    )


def gate_thresholds(args: argparse.Namespace):
    """The gate's limits from the command line: the size and package flags, then each --limit."""
    from imagelab.report import gate

    thresholds = gate.Thresholds().with_limit("size", args.max_growth_percent, args.max_growth_mb * 1000**2)
    for metric in ("os packages", "language packages"):
        thresholds = thresholds.with_limit(
            metric, args.max_package_growth_percent, thresholds.limit(metric).floor
        )
    for spec in args.limit:
        name, _, numbers = spec.partition("=")
        percent, _, floor = numbers.partition(":")
        try:
            limit = (float(percent), float(floor))
        except ValueError:
            raise ConfigError(
                f"--limit {spec!r} is not METRIC=PERCENT:FLOOR", hint="e.g. --limit memory=25:10e6"
            ) from None
        thresholds = thresholds.with_limit(name.replace("-", " ").replace("_", " ").strip(), *limit)
    return thresholds


def cmd_bump(args: argparse.Namespace) -> int:
    from imagelab import bump
    from imagelab.cli import ensure_engine

    options = bump.Options(
        results=args.results,
        name=args.name,
        thresholds=gate_thresholds(args),
        accepted=args.accepted,
        fresh=args.fresh,
        builder=args.builder,
    )
    if not (bump.is_report(args.old) and bump.is_report(args.new)):
        ensure_engine()
    return bump.run(args.old, args.new, options)


def add_bump_options(command: argparse.ArgumentParser) -> None:
    for flag, dest, side in (("--from", "old", "before"), ("--to", "new", "after")):
        command.add_argument(
            flag,
            dest=dest,
            required=True,
            metavar="SET|FILE",
            help=f"the {side} side: a base set (measured where needed) or a compare.json",
        )
    command.add_argument(
        "--results",
        type=Path,
        default=ROOT / "results",
        metavar="DIR",
        help="where <name>.md/.json/.svg go, and each base set's report (sets/<set>/); default results/",
    )
    command.add_argument("--name", default="bump", help="the report files' name (default: bump)")
    command.add_argument(
        "--fresh",
        action="store_true",
        help="measure both base sets again, even when their reports are current",
    )


def cmd_trend(args: argparse.Namespace) -> int:
    from imagelab.report import history

    output = args.output or args.history.with_name("trend.svg")
    if not history.trend(history.read(args.history), output, args.last):
        raise ConfigError(
            f"{args.history} has no image sizes to draw", hint="run a full `nox -s compare` first"
        )
    terminal.info(f"wrote {output} from the last {args.last} runs of {args.history}")
    return 0


def add_trend_options(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--history", type=Path, default=ROOT / "results" / "history.jsonl", metavar="FILE", help="the runs"
    )
    command.add_argument("--output", type=Path, metavar="FILE", help="default: trend.svg beside the history")
    command.add_argument("--last", type=int, default=20, metavar="N", help="how many runs (default 20)")
