"""The columns of the compare table, shared by the terminal and the Markdown renderers."""

from __future__ import annotations

from collections.abc import Callable

from imagelab.report import startup, units
from imagelab.report.model import ImageResult
from imagelab.report.vuln_facts import VulnData


def _packages(image: ImageResult) -> str:
    found = image.exposure
    return "-" if found is None else f"{found.os_packages} / {found.language_packages}"


def _user(image: ImageResult) -> str:
    found = image.exposure
    if found is None:
        return "-"
    name = found.user or "root"
    return f"{name} (root)" if found.root and name != "root" else name


def count(value: int | None) -> str:
    """A vulnerability count: "no data" when there was nothing to judge with, never 0."""
    return "no data" if value is None else str(value)


def _vulns(image: ImageResult) -> str:
    found = image.vulnerabilities
    return "-" if found is None else f"{count(found.fixable_cves)} / {count(found.go_vulns)}"


def _source(data: VulnData) -> str:
    # The Go database's module version is a pseudo-version whose date the line already shows.
    return data.describe().replace(data.source, data.source.split("@")[0], 1)


def vuln_data(images: list[ImageResult]) -> str:
    """What the vulnerability column was judged on, once under a table: each source's date, and what
    no source here covers. "" when no image was scanned."""
    scanned = [i.vulnerabilities for i in images if i.vulnerabilities is not None]
    if not scanned:
        return ""
    debian = dict.fromkeys(_source(d) for found in scanned for d in found.os_data)
    go = dict.fromkeys(_source(found.go_data) for found in scanned if found.go_data)
    parts = [
        "Debian's fixes: " + (", ".join(debian) or "no data"),
        "Go vulnerability database: " + (", ".join(go) or "no Go program, or no data"),
    ]
    uncovered = dict.fromkeys(found.not_covered for found in scanned if found.not_covered)
    if uncovered:
        parts.append("not covered: " + ", ".join(uncovered))
    return "Vulnerability data: " + "; ".join(parts) + "."


def _variant(image: ImageResult) -> str:
    return image.variant if image.built else f"{image.variant} (build FAILED)"


#: (heading, how one image reads in that column).
COLUMNS: list[tuple[str, Callable[[ImageResult], str]]] = [
    ("variant", _variant),
    ("size", lambda i: units.human_size(i.size)),
    ("pull (gzip)", lambda i: units.human_size(i.compressed_size)),
    ("layers", lambda i: "-" if i.layers is None else str(i.layers)),
    ("of naive", lambda i: units.percent(i.share_of_naive)),
    ("vs closure", lambda i: units.ratio(i.closure_ratio)),
    ("wasted", lambda i: units.human_size(i.wasted_bytes)),
    ("build", lambda i: units.seconds(i.build_seconds)),
    ("rebuild", lambda i: units.seconds(i.rebuild_seconds)),
    ("1st answer", startup.first_answer),
    ("of it engine", startup.container_start),
    ("memory", lambda i: units.human_size(i.memory_bytes)),
    ("pkgs os/lang", _packages),
    ("shell", lambda i: units.flag(None if i.exposure is None else i.exposure.shell)),
    ("user", _user),
    ("smoke", lambda i: units.verdict(i.smoke)),
    ("structure", lambda i: units.verdict(i.structure)),
    ("hardened", lambda i: units.verdict(i.hardened)),
    ("vulns os/go", _vulns),
]
LEFT_ALIGNED = ("variant", "user")

EXPLAINED = (
    "Columns: *size* on disk; *pull (gzip)* what a registry transfers; *of naive* size as a share of the "
    "naive image; *vs closure* size over the runtime closure (program, shared libraries, runtime, app and "
    "dependencies); *wasted* bytes later layers delete or overwrite; *build* and *rebuild* (after a "
    "one-line source change) in seconds of the steps the image needed; *1st answer* from creating the "
    "container to the first good probe, the median of several starts (min-max, count); *of it engine* "
    "the median of the engine's part, create and start until running (the rest is the app's start-up); *pkgs* OS packages / language packages; *user* the user the image runs as; *vulns os/go* CVE IDs named by the fixes Debian's security and "
    "updates suites hold for its packages / known vulnerabilities (GO- IDs) of its Go programs, offline, "
    "from the data dated under each table (*no data*: nothing to judge with, which is not 0)."
)


def cells(image: ImageResult) -> list[str]:
    return [render(image) for _, render in COLUMNS]
