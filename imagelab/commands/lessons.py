"""`lessons`: refill the lessons pages' figures from a compare report already written (builds nothing)."""

from __future__ import annotations

import argparse
from pathlib import Path

from imagelab import ROOT
from imagelab.terminal import terminal

HELP = "refill docs/lessons.md and docs/lessons.fr.md from an existing compare.json (builds nothing)"


def add_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--report",
        type=Path,
        default=ROOT / "results" / "compare.json",
        metavar="FILE",
        help="the compare report to read (default results/compare.json)",
    )


def run(args: argparse.Namespace) -> int:
    from imagelab.pipeline import LESSONS
    from imagelab.report import jsonfile, lessons

    report = jsonfile.read(args.report)
    for page in LESSONS:
        # Figures that name a base set read its report beside this one (results/sets/<set>/).
        changed = lessons.update_lessons(page, report, sets_dir=args.report.parent / "sets")
        terminal.info(
            f"{page.name}: {'figures rewritten' if changed else 'already matches'} {args.report.name}"
        )
    return 0
