"""A CI matrix of compare runs, and the merge of their reports: one machine per cell, one report in the end.

`nox -s matrix` prints one cell per app and base set, each the compare command its runner runs and the
folder it writes (`--results`); the runner uploads that folder. `nox -s merge -- DIR` reads every cell's
compare.json under DIR (report/merge.py), writes one report per base set and applies the gate. A cell is an
app (all its variants), not an image: the variants of an app share their build stages and base images,
and the share of naive needs the app's naive image in the same report.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from imagelab import ROOT, apps
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


def merge_cells(
    folder: Path, baselines: list[Path], results: Path, thresholds: gate.Thresholds, accepted: Path
) -> int:
    """Merge the cells' reports under `folder`, write one report per base set under `results`, gate each
    against the baseline of its set; the exit status."""
    reports = merge.merge(merge.find_cells(folder))
    by_set = merge.baselines_by_set(baselines, reports)  # refused before anything is written
    status = 0
    for base_set, out in merge.folders(reports, results).items():
        report = reports[base_set]
        for rich_table in table.tables(report):
            terminal.out.print(rich_table)
        written = files.write_all(report, out)
        terminal.info(f"{base_set}: {len(report.images)} images; wrote {', '.join(map(_shown, written))}")
        for image in report.images:
            if not image.ok:
                status = 1
                for line in table.failure_lines(image):
                    terminal.error(line)
        if base_set in by_set:
            status = max(status, table.gate_verdict(report, *by_set[base_set], thresholds, accepted))
        elif baselines:
            terminal.error(f"{base_set}: no --baseline of this base set was given: not gated")
            status = 1
    return status


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
