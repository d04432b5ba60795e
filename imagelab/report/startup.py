"""Start-up as the tables and the lessons read it: the median of several starts, its spread (min-max)
and the count, and the engine's part (create + start until running) apart from the app's (running until
the first good answer). Two images whose ranges overlap do not differ in start-up by this measure."""

from __future__ import annotations

import statistics

from imagelab.report.model import ImageResult, StartupFacts


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def spread(values: list[float]) -> str:
    """ "0.40-0.47 s" over the starts; "-" when there was none."""
    return f"{min(values):.2f}-{max(values):.2f} s" if values else "-"


def first_answer(image: ImageResult) -> str:
    """The table's cell: "0.42 s (0.40-0.47, 5x)"; a row from before several starts were timed shows its
    one figure, and a job (which answers nothing) "-"."""
    if image.first_answer_seconds is None:
        return "-"
    found = image.startup
    if found is None or found.count < 2:
        return f"{image.first_answer_seconds:.2f} s"
    totals = found.totals()
    return f"{image.first_answer_seconds:.2f} s ({min(totals):.2f}-{max(totals):.2f}, {found.count}x)"


def part(found: StartupFacts | None, which: str) -> float | None:
    """The median of one part: "container" (the engine's) or "readiness" (the app's)."""
    if found is None:
        return None
    return median(found.container_seconds if which == "container" else found.readiness_seconds)


def container_start(image: ImageResult) -> str:
    value = part(image.startup, "container")
    return "-" if value is None else f"{value:.2f} s"
