"""One report from the cells of a CI matrix: each cell a compare.json of some apps on one base set.

`nox -s matrix` prints the cells, one `nox -s compare` command each; every cell uploads its results
folder; the last job downloads them all into one folder and runs `nox -s merge -- DIR`, which reads every
compare.json under DIR, merges them and applies the gate.

A report is about one base set (its title, its note, the gate's comparison all name one), so cells of
several base sets become one report per set, each in a folder named for its set. Refusing them would
make a matrix over two sets -- the base-bump loop: the same apps on the old and the new base -- need
two merge jobs with filtered downloads, for no gain.

What a merge refuses, in one line each: a folder with no compare.json, cells of different revisions (a
merged report stands for one commit: stale cells from an earlier workflow run are a mistake, not data),
and the same image in two cells (which one is right?).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from imagelab.apps import VARIANTS
from imagelab.errors import ConfigError
from imagelab.report import gate, jsonfile
from imagelab.report.model import ImageResult, Run, Timings

REPORT_NAME = "compare.json"


@dataclass(frozen=True)
class Cell:
    """One cell's report and the file it came from (named in every error)."""

    path: Path
    run: Run


def find_cells(folder: Path) -> list[Cell]:
    """Every compare.json under `folder` (each a cell's upload), read and checked, in path order."""
    if not folder.is_dir():
        raise ConfigError(
            f"{folder} is not a folder", hint="pass the folder the cells' results were downloaded to"
        )
    paths = sorted(folder.rglob(REPORT_NAME))
    if not paths:
        raise ConfigError(
            f"no {REPORT_NAME} under {folder}",
            hint="each cell's `nox -s compare -- ... --results OUT` writes OUT/compare.json; download them all here",
        )
    return [Cell(path, jsonfile.read(path)) for path in paths]


def merge(cells: Iterable[Cell]) -> dict[str, Run]:
    """The cells merged into one report per base set, by base set name."""
    cells = list(cells)
    _same_revision(cells)
    by_set: dict[str, list[Cell]] = {}
    for cell in cells:
        by_set.setdefault(cell.run.base_set, []).append(cell)
    return {base_set: _merge_one_set(group) for base_set, group in sorted(by_set.items())}


def _same_revision(cells: list[Cell]) -> None:
    first = cells[0]
    for cell in cells[1:]:
        if cell.run.revision != first.run.revision:
            raise ConfigError(
                f"cells of different revisions: {cell.path} is {cell.run.revision[:12]}, "
                f"{first.path} is {first.run.revision[:12]}",
                hint="merge the cells of one workflow run (one commit) only",
            )


def _merge_one_set(cells: list[Cell]) -> Run:
    seen: dict[tuple[str, str], Path] = {}
    images: list[ImageResult] = []
    for cell in cells:
        for image in cell.run.images:
            where = seen.setdefault((image.app, image.variant), cell.path)
            if where != cell.path:
                raise ConfigError(
                    f"{image.key} is in two cells: {where} and {cell.path}",
                    hint="give each cell its own apps (`nox -s matrix` does)",
                )
            images.append(image)
    images.sort(key=lambda i: (i.app, VARIANTS.index(i.variant) if i.variant in VARIANTS else len(VARIANTS)))
    first = cells[0].run
    merged = replace(
        first,
        generated=max(c.run.generated for c in cells),
        engine=", ".join(dict.fromkeys(c.run.engine for c in cells)),
        images=images,
        timings=_timings(c.run.timings for c in cells),
    )
    shares_of_naive(merged)
    return merged


def _timings(timings: Iterable[Timings]) -> Timings:
    """What the cells cost together (added up: on separate runners the wall time was shorter)."""
    timings = list(timings)

    def total(name: str) -> float | None:
        values = [getattr(t, name) for t in timings]
        return None if any(v is None for v in values) else round(sum(values), 1)

    return Timings(total("build_phase_seconds"), total("total_seconds"))


def shares_of_naive(run: Run) -> None:
    """Each image's size as a share of its app's naive image: cells split by variant could not know it."""
    naive = {i.app: i.size for i in run.images if i.variant == "naive" and i.size}
    for image in run.images:
        reference = naive.get(image.app)
        image.share_of_naive = round(image.size / reference, 3) if image.size and reference else None


def folders(reports: dict[str, Run], out: Path) -> dict[str, Path]:
    """Where each set's report goes: `out` itself for one set, out/<set>/ for several."""
    if len(reports) == 1:
        return {base_set: out for base_set in reports}
    return {base_set: out / base_set for base_set in reports}


def baselines_by_set(paths: Iterable[Path], reports: dict[str, Run]) -> dict[str, tuple[Path, Run]]:
    """Each baseline matched to the report of its base set; one whose set no cell built is refused
    (gating nothing would pass silently)."""
    found: dict[str, tuple[Path, Run]] = {}
    for path in paths:
        baseline = gate.load(path)
        if baseline.base_set not in reports:
            raise ConfigError(
                f"baseline {path} is of the {baseline.base_set!r} base set, and no cell built it "
                f"(cells: {', '.join(reports)})",
                hint="pass one --baseline per base set the cells built",
            )
        if baseline.base_set in found:
            raise ConfigError(
                f"two baselines of the {baseline.base_set!r} base set: {found[baseline.base_set][0]} and {path}"
            )
        found[baseline.base_set] = (path, baseline)
    return found
