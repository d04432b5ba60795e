"""The compare report in the terminal: a rich table per app, then each failure with its log's end."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table

from imagelab.report import accepted, columns, gate
from imagelab.report.gate import Change
from imagelab.report.model import Failure, ImageResult, Run
from imagelab.terminal import terminal

#: Each log line is cut to this many characters, so a noisy app cannot flood the terminal.
LINE_CHARS = 200


def tables(run: Run) -> list[Table]:
    found = []
    for app, images in run.by_app().items():
        table = Table(
            title=f"{app} ({run.base_set} base set)",
            title_justify="left",
            caption=columns.vuln_data(images) or None,
            caption_justify="left",
        )
        for heading, _ in columns.COLUMNS:
            table.add_column(heading, justify="left" if heading in columns.LEFT_ALIGNED else "right")
        for image in images:
            table.add_row(*columns.cells(image), style=None if image.ok else "red")
        found.append(table)
    return found


def failure_lines(image: ImageResult) -> list[str]:
    """What went wrong with one image, for a person at a terminal: cause, hint, the log's last lines."""
    lines = []
    for failure in image.failures:
        lines.append(f"{image.app}/{image.variant}: {failure.headline()}")
        lines += [f"  hint: {failure.hint}"] if failure.hint else []
        lines += [f"  | {_cut(line)}" for line in failure.log]
    return lines


def _cut(line: str) -> str:
    return line if len(line) <= LINE_CHARS else line[: LINE_CHARS - 3] + "..."


def describe(failure: Failure) -> str:
    return failure.headline() + (f" (hint: {failure.hint})" if failure.hint else "")


def behind(change: Change, shown: int = 10) -> str:
    """What is behind a change (packages by name), for one line: " (+curl 8.14.1-2 (own), ...)"."""
    if not change.details:
        return ""
    more = f", and {len(change.details) - shown} more" if len(change.details) > shown else ""
    return f" ({', '.join(change.details[:shown])}{more})"


def changes_table(changes: list[Change]) -> Table:
    """The gate's findings: old, new and change for what moved, what is behind it; regressions first."""
    found = Table(title="against the baseline", title_justify="left")
    for heading in ("image", "what", "old", "new", "change", "verdict"):
        found.add_column(heading)
    for change in sorted(changes, key=lambda c: not c.regression):
        if change.regression:
            verdict = "REGRESSION" + (f" ({change.note})" if change.note else "")
        else:
            verdict = f"accepted: {change.accepted}" if change.accepted else "within threshold"
        found.add_row(
            change.image,
            change.what,
            change.old,
            change.new,
            change.change + behind(change),
            verdict,
            style="red" if change.regression else None,
        )
    return found


def gate_verdict(
    report: Run, path: Path, baseline: Run, thresholds: gate.Thresholds, accepted_file: Path
) -> int:
    """Print the differences from the baseline; 1 when one of them is a regression (as compare's gate:
    the same thresholds, the same reviewed acceptances)."""
    changes = accepted.apply(gate.changes(baseline, report, thresholds), accepted_file)
    if changes:
        terminal.out.print(changes_table(changes))
    failed = [c for c in changes if c.regression]
    if failed:
        terminal.error(
            f"baseline {path}: {len(failed)} regression(s): "
            + "; ".join(f"{c.image} {c.what} {c.change}{behind(c)}" for c in failed)
        )
        return 1
    terminal.info(f"baseline {path}: no regression ({len(changes)} change(s) within thresholds)")
    return 0
