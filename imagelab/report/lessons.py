"""The figures of docs/lessons.md, filled in from a compare report: the walk-through never quotes a
number typed by hand.

A figure is a marked place in the Markdown; what stands between the marks is replaced:

    naive weighs <!-- fig: microblog/naive size -->931 MiB<!-- /fig --> ...

`app/variant` names one image of the report, the metric one of METRICS. `app/variant@set` names the
image in another base set's report, results/sets/<set>/compare.json (e.g. the same image on Debian 13
as released, before its security fixes). A marker that names an image, a set or a metric the reports
do not have is an error (ConfigError: which marker, on which line), so a renamed variant cannot leave
a stale number behind. A figure the run did not measure reads "-".

The report is compare's typed result (imagelab.report.model.Run, as jsonfile.read gives it); the dict
that compare.json holds reads the same way.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from imagelab.errors import ConfigError
from imagelab.report import jsonfile, startup
from imagelab.report.model import Run, StartupFacts
from imagelab.report.sizes import docker_size
from imagelab.report.units import human_size, percent, ratio
from imagelab.report.vuln_facts import VulnData

FIGURE = re.compile(
    r"<!-- fig: (?P<app>[\w.-]+)/(?P<variant>[\w.-]+)(?:@(?P<set>[\w.-]+))? (?P<metric>[\w-]+) -->"
    r"(?P<old>.*?)<!-- /fig -->",
    re.DOTALL,
)


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


def _efficiency(value: float | None) -> str:
    """dive's image efficiency as dive prints it: a percentage."""
    return "-" if value is None else f"{value * 100:.2f} %"


def _count(value: int | None) -> str:
    return "-" if value is None else str(value)


def _get(item: Any, name: str) -> Any:
    """A field of the typed result or of its JSON form."""
    return item.get(name) if isinstance(item, Mapping) else getattr(item, name, None)


def _os_packages(image: Any) -> int | None:
    exposure = _get(image, "exposure")
    if exposure is None:
        return None
    found = _get(exposure, "os_packages")
    return found if found is not None else (_get(exposure, "counts") or {}).get("deb")


def _language_packages(image: Any) -> int | None:
    exposure = _get(image, "exposure")
    return None if exposure is None else _get(exposure, "language_packages")


#: The image was not scanned (a report older than the scan): "-" like any figure not measured. A count
#: of None inside a scan is another thing: there was no data to judge with, and the page says so.
_NOT_SCANNED = object()


def _vulns(read: Callable[[Any], Any]) -> Callable[[Any, dict], Any]:
    """A figure of the image's vulnerability scan (vuln_facts.VulnFacts, or its JSON form)."""

    def figure(image: Any, _images: dict) -> Any:
        found = _get(image, "vulnerabilities")
        return _NOT_SCANNED if found is None else read(found)

    return figure


def _go_modules(scan: Any) -> Any:
    """The module versions the Go findings are in ("golang.org/x/net v0.50.0"); "none" when no finding;
    None (no data) when there were Go programs and no database to judge them with."""
    if _get(scan, "go_vulns") is None:
        return None
    found = sorted({f"{_get(g, 'module')} {_get(g, 'installed')}" for g in _get(scan, "go") or []})
    return ", ".join(found) or "none"


def _vuln_count(value: Any) -> str:
    if value is _NOT_SCANNED:
        return "-"
    return "no data" if value is None else str(value)


def _vuln_dates(value: Any) -> str:
    """The data a figure was judged on, with its date, as the reports print it (VulnData.describe)."""
    if value is _NOT_SCANNED:
        return "-"
    dates = [VulnData(**d) if isinstance(d, Mapping) else d for d in _as_list(value) if d is not None]
    return ", ".join(date.describe() for date in dates) or "no data"


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _first_answer_vs_slim(image: Any, images: dict[tuple[str, str], Any]) -> float | None:
    slim = images.get((_get(image, "app"), "slim"))
    mine, theirs = _get(image, "first_answer_seconds"), slim and _get(slim, "first_answer_seconds")
    return mine / theirs if mine is not None and theirs else None


def _last_layer(image: Any, _images: dict) -> int | None:
    """The size of the image's top layer: the last step that wrote files (e.g. a bytecode RUN)."""
    layers = _get(image, "layer_details") or []
    return _get(layers[-1], "size") if layers else None


def _megabytes(size: float | None) -> str:
    """Decimal megabytes, as `docker images` prints sizes (MiB elsewhere on the page)."""
    return "-" if size is None else f"{size / 1e6:.0f} MB"


def _listed(name: str) -> Callable[[Any, dict], Any]:
    """One of the figures the engine's own commands print (model.EngineSizes)."""

    def read(image: Any, _images: dict) -> Any:
        found = _get(image, "engine_sizes")
        return None if found is None else _get(found, name)

    return read


def _startup(read: Callable[[Any], Any]) -> Callable[[Any, dict], Any]:
    """A figure of the image's timed starts (model.StartupFacts); None before they were recorded."""

    def figure(image: Any, _images: dict) -> Any:
        found = _get(image, "startup")
        if found is None:
            return None
        if isinstance(found, Mapping):  # compare.json's form of it
            found = StartupFacts(found["container_seconds"], found["readiness_seconds"])
        return read(found)

    return figure


def _field(name: str) -> Callable[[Any, dict], Any]:
    return lambda image, _images: _get(image, name)


#: metric name -> (how to read it from one image and the others, how it reads in the text)
METRICS: dict[str, tuple[Callable[[Any, dict], Any], Callable[[Any], str]]] = {
    "size": (_field("size"), human_size),
    "size-mb": (_field("size"), _megabytes),
    "pull": (_field("compressed_size"), human_size),
    "pull-mb": (_field("compressed_size"), _megabytes),
    "engine-size": (_field("engine_size"), docker_size),
    "docker-images": (_listed("listed"), docker_size),
    "df-size": (_listed("disk"), docker_size),
    "df-shared": (_listed("shared"), lambda v: docker_size(v, 4)),
    "df-unique": (_listed("unique"), lambda v: docker_size(v, 4)),
    "store": (_listed("store"), lambda v: v or "-"),
    "share-of-naive": (_field("share_of_naive"), percent),
    "layers": (_field("layers"), _count),
    "last-layer": (_last_layer, human_size),
    "vs-closure": (_field("closure_ratio"), ratio),
    "closure": (_field("closure_size"), human_size),
    "wasted": (_field("wasted_bytes"), human_size),
    "dive-wasted": (_field("dive_wasted_bytes"), human_size),
    "dive-efficiency": (_field("dive_efficiency"), _efficiency),
    "build": (_field("build_seconds"), _seconds),
    "rebuild": (_field("rebuild_seconds"), _seconds),
    "first-answer": (_field("first_answer_seconds"), _seconds),
    "first-answer-vs-slim": (_first_answer_vs_slim, ratio),
    "first-answer-spread": (_startup(lambda s: s.totals()), startup.spread),
    "starts": (_startup(lambda s: s.count), _count),
    "engine-start": (_startup(lambda s: startup.part(s, "container")), _seconds),
    "app-ready": (_startup(lambda s: startup.part(s, "readiness")), _seconds),
    "memory": (_field("memory_bytes"), human_size),
    "os-packages": (lambda image, _images: _os_packages(image), _count),
    "language-packages": (lambda image, _images: _language_packages(image), _count),
    "fixable-cves": (_vulns(lambda scan: _get(scan, "fixable_cves")), _vuln_count),
    "fixable-packages": (_vulns(lambda scan: _get(scan, "fixable_packages")), _vuln_count),
    "go-vulns": (_vulns(lambda scan: _get(scan, "go_vulns")), _vuln_count),
    "go-programs": (_vulns(lambda scan: len(_get(scan, "go_binaries") or [])), _vuln_count),
    "go-modules": (_vulns(_go_modules), _vuln_count),
    "support-limited": (_vulns(lambda scan: _get(scan, "support_limited")), _vuln_count),
    "os-data": (_vulns(lambda scan: _get(scan, "os_data")), _vuln_dates),
    "go-data": (_vulns(lambda scan: _get(scan, "go_data")), _vuln_dates),
}


def images_of(report: Run | Mapping) -> dict[tuple[str, str], Any]:
    images = report["images"] if isinstance(report, Mapping) else report.images
    return {(_get(i, "app"), _get(i, "variant")): i for i in images}


def fill_figures(
    text: str,
    report: Run | Mapping,
    source: str = "docs/lessons.md",
    sets: Mapping[str, Run | Mapping] | None = None,
) -> str:
    """`text` with every marked figure replaced by its value in `report`, or in `sets[name]` for a figure
    that names a base set (see the module docstring)."""
    images = {None: images_of(report)} | {name: images_of(other) for name, other in (sets or {}).items()}

    def replace(match: re.Match[str]) -> str:
        key = (match["app"], match["variant"])
        image = f"{match['app']}/{match['variant']}" + (f"@{match['set']}" if match["set"] else "")
        line = text.count("\n", 0, match.start()) + 1
        where = f"{source}:{line}: figure {image} {match['metric']}"
        if match["metric"] not in METRICS:
            raise ConfigError(f"{where}: unknown metric", hint=f"metrics: {', '.join(METRICS)}")
        if match["set"] not in images:
            known = ", ".join(sorted(name for name in images if name)) or "none"
            raise ConfigError(
                f"{where}: no report of base set {match['set']!r}",
                hint=f"sets with a report: {known}; a bump with the set on either side writes one "
                f"(nox -s bump -- --from {match['set']} --to debian)",
            )
        these = images[match["set"]]
        if key not in these:
            known = ", ".join(sorted(f"{app}/{variant}" for app, variant in these))
            raise ConfigError(f"{where}: the report has no such image", hint=f"it has: {known}")
        read, show = METRICS[match["metric"]]
        value = show(read(these[key], these))
        return f"<!-- fig: {image} {match['metric']} -->{value}<!-- /fig -->"

    return FIGURE.sub(replace, text)


def named_sets(text: str) -> set[str]:
    """The base sets whose reports the figures of `text` name."""
    return {match["set"] for match in FIGURE.finditer(text) if match["set"]}


def set_reports(names: set[str], sets_dir: Path) -> dict[str, Run]:
    """Each named set's report, read from `sets_dir/<set>/compare.json` where it is there (a set with
    none is left out, and its figures fail with the command that makes it)."""
    found = {name: sets_dir / name / "compare.json" for name in sorted(names)}
    return {name: jsonfile.read(path) for name, path in found.items() if path.is_file()}


def update_lessons(path: Path, report: Run | Mapping, sets_dir: Path | None = None) -> bool:
    """Rewrite the figures of the Markdown file `path` from `report` (and from the reports of the base
    sets it names, in `sets_dir`); True when the file changed."""
    old = path.read_text()
    sets = set_reports(named_sets(old), sets_dir) if sets_dir is not None else {}
    new = fill_figures(old, report, source=path.name, sets=sets)
    if new != old:
        path.write_text(new)
    return new != old
