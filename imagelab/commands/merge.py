"""`merge`: the compare.json of every matrix cell under DIR merged into one report per base set, gated."""

from __future__ import annotations

import argparse
from pathlib import Path

from imagelab import ROOT
from imagelab.commands import flags

HELP = "merge the compare.json of every matrix cell under DIR into one report per base set, and gate it"


def add_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("folder", type=Path, metavar="DIR", help="the folder the cells' results were put in")
    command.add_argument(
        "--baseline",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="gate against this report (repeatable: one per base set the cells built)",
    )
    command.add_argument(
        "--results",
        type=Path,
        default=ROOT / "results",
        metavar="DIR",
        help="where the merged report goes (default results/; DIR/<set>/ for several base sets)",
    )
    flags.add_gate_options(command)


def run(args: argparse.Namespace) -> int:
    from imagelab import ci_matrix

    return ci_matrix.merge_cells(
        args.folder, args.baseline, args.results, flags.gate_thresholds(args), args.accepted
    )
