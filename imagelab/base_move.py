"""`bump`'s job, a move between two base sets (or two reports): what changed, image by image.
`nox -s bump -- --from A --to B`.

A side is a compare.json file, or a loaded base set. A base set is measured by pipeline.run into
results/sets/<set>/, unless the report there is current, in which case it is read as it is: a warm bump
renders in seconds. Current: measured from the same apps/ and dockerfiles/ (a commit elsewhere changes
no image), on the same base images, every image of the matrix. (Not the image ids: compare keeps a row
measured before under a rebuilt image's new id, as the content is the same.)
compare itself remembers what it measured by image content, so even a re-measured side only runs what
changed. Each full compare appends to results/history.jsonl; the bump redraws results/trend.svg from it.

Writes <results>/<name>.md (a pull request comment: summary table, a collapsed section per image),
<name>.json (report/move_diff.py's Bump) and <name>.svg, prints the summary, and fails (exit 1) when the gate
does: a regression past its limits that results/accepted.toml does not accept.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from rich.table import Table

from imagelab import ROOT, engine, pipeline, process, revision, selection
from imagelab.bases.sets import BaseSet
from imagelab.errors import ConfigError
from imagelab.report import accepted, files, gate, history, jsonfile, move_chart, move_diff, move_markdown
from imagelab.report.model import Run
from imagelab.report.move_diff import Bump
from imagelab.terminal import terminal

RESULTS = ROOT / "results"


@dataclass
class Options:
    results: Path = RESULTS
    name: str = "bump"  # the files' stem: results/bump.md, .json, .svg
    thresholds: gate.Thresholds = field(default_factory=gate.Thresholds)
    accepted: Path = RESULTS / "accepted.toml"
    fresh: bool = False  # measure both base sets again, even when their reports are current
    builder: str | None = None


@dataclass
class Side:
    run: Run
    source: str  # what a reader of the report is told this side is
    status: int = 0  # compare's exit status when this side was measured now (1: an image failed)


def side(source: Path | BaseSet, options: Options) -> Side:
    """One side of the bump: a compare.json as it is, or a base set, measured where its report is stale."""
    if isinstance(source, Path):
        return Side(jsonfile.read(source), str(source))
    base_set = source
    folder = options.results / "sets" / base_set.name
    report = folder / "compare.json"
    if options.fresh:
        stale = "asked to (--fresh)"
    else:  # the images this engine builds: on an older engine a report without the others is current
        stale = stale_reason(report, selection.within_this_engine(selection.variants(base_set), say=False))
    if not stale:
        terminal.info(
            f"{base_set.name}: {_shown(report)} is current (same apps/ and dockerfiles/, same base images, every image)"
        )
        return Side(jsonfile.read(report), f"{base_set.name} ({_shown(report)})")
    terminal.step(f"measuring the base set {base_set.name}: {stale}; its report goes to {_shown(folder)}")
    # compare's own errors (a registry down, a bad set) stop the bump here: the report a previous run
    # left in `folder` is never taken for this run's.
    variants = selection.variants(base_set, resolve=True)
    measured = pipeline.run(
        variants,
        pipeline.Options(
            base_set=variants[0].base_set if variants else base_set,
            builder=options.builder,
            fresh=options.fresh,
            rebuild_timing=False,  # the bump reports no rebuild times, and they cost most
            results=folder,
            history=options.results / "history.jsonl",
        ),
    )
    return Side(measured.report, f"{base_set.name} ({_shown(report)})", measured.status)


def stale_reason(report: Path, variants: list) -> str:
    """Why a base set's report must be measured again ("" when it is current)."""
    if not report.is_file():
        return "no report yet"
    try:
        run = jsonfile.read(report)
    except ConfigError:
        return "its report does not read"
    if run.revision != revision.git_revision() and _changed_since(run.revision):
        return f"apps/ or dockerfiles/ changed since {run.revision[:12]}, where it was measured"
    if _changed_since(""):
        return "apps/ or dockerfiles/ have uncommitted changes"
    measured = {(i.app, i.variant): i for i in run.images}
    for variant in variants:
        image = measured.get((variant.app.name, variant.name))
        if image is None or not image.ok:
            return f"{variant.app.name}/{variant.name} is missing or failed"
        for base in image.base_images:
            if engine.image_id(base.ref) != base.id:
                return f"base {base.ref} moved"
    return ""


def _changed_since(revision: str) -> bool:
    """Whether what the images are built from (apps/, dockerfiles/) differs from `revision` ("": from
    the last commit, i.e. uncommitted edits). A commit elsewhere (the harness, docs) changes no image."""
    command = [
        "git",
        "diff",
        "--quiet",
        *([revision, "HEAD"] if revision else ["HEAD"]),
        "--",
        "apps",
        "dockerfiles",
    ]
    try:
        done = process.run(command, timeout=30, what="git diff", check=False, cwd=ROOT)
    except process.ProcessError:  # no git: cannot tell, so measure
        return True
    return done.exit_code != 0  # 1: differs; anything else (an unknown revision): cannot tell, so measure


def run(source_from: Path | BaseSet, source_to: Path | BaseSet, options: Options) -> int:
    started = time.monotonic()
    judge = accepted.judge(accepted.load(options.accepted), accepted.today())  # bad file: fail first
    old, new = side(source_from, options), side(source_to, options)
    for measured in (old, new):
        if measured.status:
            terminal.error(f"{measured.source}: compare failed on some images (above); the bump fails too")
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    result = bump_between(old, new, now, options.thresholds, judge)
    trend = _trend(options.results)
    written = write(result, options.results, options.name, trend)
    terminal.out.print(summary_table(result))
    failed = [f for image in result.images for f in image.findings if f.regression]
    for image in result.only_old:
        terminal.error(f"{image}: measured on the old side only (it disappeared)")
    for found in failed:
        terminal.error(f"{found.image}: {found.what} {found.old} -> {found.new} ({found.change})")
        for line in found.details[:20]:
            terminal.error(f"  {line}")
        if len(found.details) > 20:
            terminal.error(f"  ... and {len(found.details) - 20} more (in {options.name}.md)")
    terminal.info(f"wrote {', '.join(_shown(p) for p in written)}")
    verdict = "the gate FAILS" if result.failed else "the gate passes"
    terminal.info(
        f"bump {result.old_set} -> {result.new_set}: {verdict}; took {time.monotonic() - started:.1f} s"
    )
    return 1 if result.failed or old.status or new.status else 0


def bump_between(
    old: Side,
    new: Side,
    now: str,
    thresholds: gate.Thresholds,
    judge: Callable[[gate.Change], tuple[str, str]],
) -> Bump:
    """What changed from side `old` to side `new`, each change judged against the accepted file."""
    return move_diff.from_runs(old.run, new.run, now, thresholds, judge, (old.source, new.source))


def _trend(results: Path) -> str:
    """Redraw trend.svg from the history (when there is one); its file name for the report to link."""
    path = results / "history.jsonl"
    if not path.is_file():
        return ""
    return "trend.svg" if history.trend(history.read(path), results / "trend.svg") else ""


def write(result: Bump, folder: Path, name: str, trend: str = "") -> list[Path]:
    """<name>.svg, .md and .json, all together or none; the Markdown links the chart when one was drawn."""
    drawn: list[bool] = []

    def chart(tmp: Path) -> bool:
        drawn.append(move_chart.sizes(result, tmp))
        return drawn[-1]

    def text(tmp: Path) -> None:
        tmp.write_text(move_markdown.render(result, f"{name}.svg" if drawn[-1] else "", trend))

    return files.write_together(
        folder,
        {
            f"{name}.svg": chart,
            f"{name}.md": text,
            f"{name}.json": lambda tmp: tmp.write_text(move_diff.dumps(result)),
        },
    )


def summary_table(result: Bump) -> Table:
    found = Table(title=f"bump {result.old_set} -> {result.new_set}", title_justify="left")
    for heading in ("image", "size", "change", "base layers", "own layers", "packages +/-/~", "gate"):
        found.add_column(heading, justify="left" if heading in ("image", "gate") else "right")
    for image in result.images:
        size = image.size
        found.add_row(
            image.name,
            f"{size.shown_old} -> {size.shown_new}",
            size.change or "±0",
            move_markdown.delta(image.base_bytes),
            move_markdown.delta(image.own_bytes),
            move_markdown.package_counts(image),
            move_markdown.gate_cell(image).replace("**", ""),
            style="red" if image.failed else None,
        )
    return found


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
