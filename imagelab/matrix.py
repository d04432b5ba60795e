"""A CI matrix of compare runs, and the merge of their reports: one machine per cell, one report in the end.

`nox -s matrix` prints one cell per app and base set, each the compare command its runner runs and the
folder it writes (`--results`); the runner uploads that folder. `nox -s merge -- DIR` reads every cell's
compare.json under DIR (report/merge.py), writes one report per base set and applies the gate. A cell is an
app (all its variants), not an image: the variants of an app share their build stages and base images,
and the share of naive needs the app's naive image in the same report.
"""

from __future__ import annotations

import argparse
import json
import shlex
from pathlib import Path

from imagelab import ROOT, apps, bases
from imagelab.report import files, gate, merge, table
from imagelab.terminal import terminal

CELLS_FOLDER = "results/cells"  # relative to the checkout each runner has


def cells(variants: list[apps.Variant], only_variants: list[str]) -> list[dict[str, str]]:
    """One cell per app x base set of the selected variants, in discovery order."""
    found: dict[tuple[str, str], dict[str, str]] = {}
    for variant in variants:
        key = (variant.app.name, variant.base_set.name)
        if key in found:
            continue
        results = f"{CELLS_FOLDER}/{variant.app.name}-{variant.base_set.name}"
        command = ["nox", "-s", "compare", "--", "--app", variant.app.name, "--bases", variant.base_set.name]
        for name in only_variants:
            command += ["--variant", name]
        found[key] = {
            "app": variant.app.name,
            "bases": variant.base_set.name,
            "results": results,
            "command": shlex.join([*command, "--results", results]),
        }
    return list(found.values())


def selected_per_set(args: argparse.Namespace) -> list[apps.Variant]:
    """The selected variants on each base set of a comma-separated --bases (a matrix may span several)."""
    found = []
    for name in dict.fromkeys(part.strip() for part in args.bases.split(",") if part.strip()):
        found += apps.select(apps.discover(), args.app, args.variant, bases.open_set(name))
    return found


def cmd_matrix(args: argparse.Namespace) -> int:
    found = cells(selected_per_set(args), args.variant)
    print(json.dumps({"include": found} if args.github else found, indent=2))
    return 0


def add_matrix_options(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--github",
        action="store_true",
        help='print {"include": [...]}, the shape of a GitHub Actions strategy.matrix',
    )


def cmd_merge(args: argparse.Namespace, thresholds: gate.Thresholds) -> int:
    reports = merge.merge(merge.find_cells(args.folder))
    baselines = merge.baselines_by_set(args.baseline, reports)  # refused before anything is written
    status = 0
    for base_set, folder in merge.folders(reports, args.results).items():
        report = reports[base_set]
        for rich_table in table.tables(report):
            terminal.out.print(rich_table)
        written = files.write_all(report, folder)
        terminal.info(f"{base_set}: {len(report.images)} images; wrote {', '.join(map(_shown, written))}")
        for image in report.images:
            if not image.ok:
                status = 1
                for line in table.failure_lines(image):
                    terminal.error(line)
        if base_set in baselines:
            status = max(status, table.gate_verdict(report, *baselines[base_set], thresholds, args.accepted))
        elif args.baseline:
            terminal.error(f"{base_set}: no --baseline of this base set was given: not gated")
            status = 1
    return status


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def add_merge_options(command: argparse.ArgumentParser) -> None:
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
