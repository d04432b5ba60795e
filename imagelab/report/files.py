"""Writing a report to results/: all files or none, earlier rows kept, nothing temporary left behind."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from imagelab.errors import ConfigError, ImagelabError
from imagelab.report import breakdown, chart, jsonfile, markdown
from imagelab.report.model import Run

README_BEGIN, README_END = "<!-- results:begin -->", "<!-- results:end -->"


def merged_with_earlier(run: Run, folder: Path) -> Run:
    """The run, plus the rows of the report already in `folder` that this run did not measure.

    A run of one app then updates that app's rows and keeps every other app's, each with the time and
    revision it was measured at. Rows of another base set, or a folder without a readable report, are
    not merged: the new report stands alone.
    """
    path = folder / "compare.json"
    if not path.is_file():
        return run
    try:
        earlier = jsonfile.read(path)
    except ConfigError:
        return run  # an unreadable earlier report is replaced, not merged
    if earlier.base_set != run.base_set:
        return run
    measured = {(i.app, i.variant) for i in run.images}
    kept = [i for i in earlier.images if (i.app, i.variant) not in measured]
    if not kept:
        return run
    order = {(i.app, i.variant): n for n, i in enumerate(earlier.images)}
    images = sorted([*run.images, *kept], key=lambda i: (i.app, order.get((i.app, i.variant), len(order))))
    return replace(run, images=images)


def write_all(run: Run, folder: Path) -> list[Path]:
    """Write compare.md, compare.json, sizes.svg and composition.svg, all together or not at all."""
    return write_together(
        folder,
        {
            "compare.md": lambda tmp: tmp.write_text(markdown.render(run)),
            "compare.json": lambda tmp: tmp.write_text(jsonfile.dumps(run)),
            "sizes.svg": lambda tmp: chart.sizes(run, tmp),
            "composition.svg": lambda tmp: breakdown.chart(run, tmp),
        },
    )


#: Writes one file at the path it is given; returning False means "nothing to write" (a chart of nothing).
Writer = Callable[[Path], object]


def write_together(folder: Path, writers: dict[str, Writer]) -> list[Path]:
    """Write a report's files into `folder`; they replace the previous ones all together or not at all.

    Each file is first written beside its final name, then renamed; whatever fails, the temporary
    files are removed and the previous files stay as they were. A writer that returns False writes no
    file, and the previous one of that name is removed (a chart of nothing must not show stale bars).
    """
    staged: list[tuple[Path, Path]] = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, write in writers.items():
            path = folder / name
            tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
            staged.append((tmp, path))
            if write(tmp) is False:
                staged.pop()
                path.unlink(missing_ok=True)
        for tmp, path in staged:
            tmp.replace(path)
    except OSError as exc:
        raise ImagelabError(
            f"cannot write the report to {folder}: {exc.strerror or exc}",
            hint="the previous report is untouched; free space or pass --results DIR elsewhere",
        ) from exc
    finally:
        for tmp, _ in staged:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
    return [path for _, path in staged]


def update_readme(run: Run, readme: Path) -> None:
    """Put the run's tables between the README's results markers."""
    text = readme.read_text()
    if README_BEGIN not in text or README_END not in text:
        raise ImagelabError(
            f"{readme} has no {README_BEGIN} ... {README_END} section",
            hint="put the two markers where the results belong",
        )
    head, rest = text.split(README_BEGIN, 1)
    _, tail = rest.split(README_END, 1)
    tables = markdown.render(run).split("\n", 2)[2]  # without the document title
    readme.write_text(f"{head}{README_BEGIN}\n{tables.strip()}\n{README_END}{tail}")
