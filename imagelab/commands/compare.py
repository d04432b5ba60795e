"""`compare`: build, smoke-test and measure the variants; report, and gate against a baseline."""

from __future__ import annotations

import argparse
from pathlib import Path

from imagelab import ROOT
from imagelab.commands import flags
from imagelab.errors import ConfigError

#: More starts than this would only add minutes: the median and the spread settle well before.
MAX_STARTS = 50
HELP = "build, smoke-test and measure the variants; report and gate against a baseline"


def add_arguments(command: argparse.ArgumentParser) -> None:
    flags.add_engine(command)
    flags.add_selectors(command)
    flags.add_builder(command)
    command.add_argument(
        "--build-on",
        metavar="CONTEXT",
        help="build on the engine of this Docker context; its images come here through the registry",
    )
    command.add_argument(
        "--baseline",
        type=Path,
        metavar="FILE",
        help="fail when the run regresses against this report (e.g. results/baseline.json)",
    )
    command.add_argument(
        "--update-baseline",
        action="store_true",
        help="write this run as the baseline (--baseline FILE, default results/baseline.json)",
    )
    command.add_argument(
        "--update-readme",
        action="store_true",
        help="write the tables into README.md and the figures into docs/lessons.md",
    )
    command.add_argument(
        "--results",
        type=Path,
        default=ROOT / "results",
        metavar="DIR",
        help="where compare.md, compare.json and sizes.svg go (default results/)",
    )
    command.add_argument("--fresh", action="store_true", help="measure and check every image again")
    command.add_argument(
        "--history",
        type=Path,
        metavar="FILE",
        help="where a run of every image appends itself (default: history.jsonl beside the report)",
    )
    command.add_argument(
        "--cold",
        action="store_true",
        help="build each image alone from an empty cache first: cold build times",
    )
    command.add_argument(
        "--no-rebuild-timing",
        dest="rebuild_timing",
        action="store_false",
        help="do not time a rebuild after a one-line change (rows keep the last known rebuild time)",
    )
    command.add_argument(
        "--starts",
        type=_starts,
        metavar="N",
        help="start each service N times and report the median start-up, its spread and N "
        "(default 5: checks/smoke.py's STARTS)",
    )
    flags.add_gate_options(command)


def _starts(text: str) -> int:
    try:
        count = int(text)
    except ValueError:
        count = 0
    if not 1 <= count <= MAX_STARTS:
        # argparse turns this into one line with the usage: "argument --starts: ..."
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of starts from 1 to {MAX_STARTS}")
    return count


def run(args: argparse.Namespace) -> int:
    from imagelab import bases, pipeline, selection
    from imagelab.report import accepted, gate

    if args.build_on and args.cold:
        raise ConfigError(
            "--cold empties this engine's build cache, and --build-on builds on another",
            hint="time cold builds on the build engine itself",
        )
    thresholds = flags.gate_thresholds(args)
    accepted.load(args.accepted)  # a malformed entry is refused before an hour of building
    if args.baseline is not None and not args.update_baseline:
        gate.load(args.baseline)  # a bad baseline is refused before an hour of building
    base_set = bases.open_set(args.bases)
    elsewhere = bool(args.builder or args.build_on)
    variants = selection.variants(base_set, args.app, args.variant, resolve=True, elsewhere=elsewhere)
    options = pipeline.Options(
        base_set=variants[0].base_set if variants else base_set,  # resolved to digests with the variants
        builder=args.builder,
        build_on=args.build_on,
        baseline=args.baseline,
        update_baseline=args.update_baseline,
        update_readme=args.update_readme,
        fresh=args.fresh,
        cold=args.cold,
        rebuild_timing=args.rebuild_timing,
        thresholds=thresholds,
        results=args.results,
        # Only a run of the whole matrix is a point of the trend: a run of one app would be a dip.
        history=None if args.app or args.variant else args.history or args.results / "history.jsonl",
        accepted=args.accepted,
        **({"starts": args.starts} if args.starts is not None else {}),
    )
    return pipeline.run(variants, options).status
