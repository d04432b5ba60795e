"""The regression gate: compare a run with an earlier one (a committed baseline, or the other side of a bump).

Every gated metric has a limit of two parts, a share and an absolute floor: it fails only when it grows
past both, so that a tiny image's few bytes and a large image's noise pass. An image also fails when a
check that passed now fails, when it gains a shell, starts running as root or changes its entrypoint, or
when it disappears. Known vulnerabilities are gated like the other counts: by default one more fixable OS
CVE or Go vulnerability fails (a count that was "no data" on either side is not compared). Each finding names what is behind it: a package-count change lists the packages, a
configuration change says from what to what. Reviewed changes are accepted by results/accepted.toml
(report/accepted.py) until their expiry date.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from imagelab.errors import ConfigError
from imagelab.report import diff, jsonfile
from imagelab.report.model import CHECKS, ImageResult, Run
from imagelab.report.units import human_size

MB = 1000**2


@dataclass(frozen=True)
class Limit:
    """Growth fails past `percent` of the old value AND past `floor` (in the metric's unit)."""

    percent: float
    floor: float

    def exceeded(self, old: float, new: float) -> bool:
        grown = new - old
        return grown > self.floor and (old <= 0 or grown / old * 100 > self.percent)


@dataclass(frozen=True)
class Metric:
    name: str  # as reports, the accepted-changes file and --limit name it
    read: Callable[[ImageResult], float | None]
    show: Callable[[float], str]
    unit: str  # of the floor, for --limit and the docs
    noisy: bool = False  # timings and memory move a little every run: changes within the floor are not shown


def _exposure(field_name: str) -> Callable[[ImageResult], float | None]:
    return lambda image: getattr(image.exposure, field_name) if image.exposure else None


def _vulns(field_name: str) -> Callable[[ImageResult], float | None]:
    return lambda image: getattr(image.vulnerabilities, field_name) if image.vulnerabilities else None


METRICS = (
    Metric("size", lambda i: i.size, human_size, "bytes"),
    Metric("compressed size", lambda i: i.compressed_size, human_size, "bytes"),
    Metric("wasted bytes", lambda i: i.wasted_bytes, human_size, "bytes"),
    Metric("os packages", _exposure("os_packages"), lambda v: f"{v:.0f}", "packages"),
    Metric("language packages", _exposure("language_packages"), lambda v: f"{v:.0f}", "packages"),
    Metric("fixable cves", _vulns("fixable_cves"), lambda v: f"{v:.0f}", "CVEs"),
    Metric("go vulns", _vulns("go_vulns"), lambda v: f"{v:.0f}", "vulnerabilities"),
    Metric("first answer", lambda i: i.first_answer_seconds, lambda v: f"{v:.2f} s", "seconds", noisy=True),
    Metric("memory", lambda i: i.memory_bytes, human_size, "bytes", noisy=True),
)
BY_NAME = {metric.name: metric for metric in METRICS}
#: The other things the gate names (and accepted.toml may accept): not numbers, no limit.
FINDINGS = ("build", "variant", *CHECKS, "shell", "user", "entrypoint")


def _defaults() -> dict[str, Limit]:
    return {
        "size": Limit(5, 2 * MB),
        "compressed size": Limit(5, 1 * MB),
        "wasted bytes": Limit(10, 1 * MB),
        "os packages": Limit(10, 0),  # packages are counted, not sampled: no noise to tolerate
        "language packages": Limit(10, 0),
        # A fix waiting in Debian's archive, or a GO- ID in the database, is a fact, not a sample: one
        # more is a regression (rebuild on the fixed base, or accept it in results/accepted.toml).
        "fixable cves": Limit(0, 0),
        "go vulns": Limit(0, 0),
        # A start-up on a shared 2-core machine varies by tenths of a second, memory by megabytes.
        "first answer": Limit(50, 0.5),
        "memory": Limit(25, 10 * MB),
    }


@dataclass(frozen=True)
class Thresholds:
    limits: dict[str, Limit] = field(default_factory=_defaults)

    def limit(self, metric: str) -> Limit:
        return self.limits[metric]

    def with_limit(self, metric: str, percent: float, floor: float) -> Thresholds:
        if metric not in BY_NAME:
            raise ConfigError(f"no gated metric {metric!r}", hint=f"valid metrics: {', '.join(BY_NAME)}")
        return Thresholds({**self.limits, metric: Limit(percent, floor)})


@dataclass(frozen=True)
class Change:
    image: str  # app/variant, with the base set when one run is compared with another of the same set
    what: str  # a metric's name or a finding of FINDINGS
    old: str
    new: str
    change: str
    regression: bool
    details: tuple[str, ...] = ()  # what is behind it: packages, by name and version
    value: int | float | str | None = None  # the new value, as accepted.toml states it (number or text)
    accepted: str = ""  # why a reviewed change no longer fails ("" when not accepted)
    note: str = ""  # e.g. that an acceptance expired
    base_set: str = ""  # of the new side: an acceptance may be for one base set


def load(path: Path) -> Run:
    """Read a baseline, naming the file and what is wrong with it."""
    if not path.is_file():
        raise ConfigError(
            f"baseline {path} does not exist", hint="write one with `nox -s compare -- --update-baseline`"
        )
    return jsonfile.loads(path.read_text(errors="replace"), f"baseline {path}")


def changes(
    old: Run, new: Run, thresholds: Thresholds = Thresholds(), across_sets: bool = False
) -> list[Change]:
    """Every difference worth showing between two reports; `regression` marks the ones that fail the gate.

    Only the apps of the new run are compared, so a run of one app does not report the others as gone;
    and only its base set's images, unless `across_sets` (a bump: same app and variant, another set).
    """
    new_images = {(i.app, i.variant): i for i in new.images if across_sets or i.base_set == new.base_set}
    apps = {i.app for i in new.images}
    changes: list[Change] = []
    for image in old.images:
        if image.app not in apps or (not across_sets and image.base_set != new.base_set):
            continue
        key = f"{image.app}/{image.variant}" if across_sets else image.key
        if (image.app, image.variant) not in new_images:
            changes.append(Change(key, "variant", "present", "missing", "disappeared", True, value="missing"))
            continue
        changes += image_changes(key, image, new_images[(image.app, image.variant)], thresholds)
    return [replace(c, base_set=new.base_set) for c in changes]


def image_changes(key: str, old: ImageResult, new: ImageResult, t: Thresholds = Thresholds()) -> list[Change]:
    changes = []
    if old.built and not new.built:
        changes.append(Change(key, "build", "built", "failed", "broke", True))
    for metric in METRICS:
        before, after = metric.read(old), metric.read(new)
        if before is None or after is None or before == after:
            continue
        limit = t.limit(metric.name)
        if metric.noisy and abs(after - before) <= limit.floor:
            continue
        changes.append(
            Change(
                key,
                metric.name,
                metric.show(before),
                metric.show(after),
                _change(metric, before, after),
                limit.exceeded(before, after),
                _behind(metric.name, old, new),
                after,
            )
        )
    for check in CHECKS:
        if old.verdict(check) == "pass" and new.verdict(check) == "fail":
            changes.append(Change(key, check, "pass", "fail", "broke", True, value="fail"))
    return changes + _config_changes(key, old, new)


def _change(metric: Metric, before: float, after: float) -> str:
    grown = after - before
    sign = "+" if grown > 0 else "-"
    share = f" ({grown / before * 100:+.1f} %)" if before else ""
    return f"{sign}{metric.show(abs(grown))}{share}"


def _behind(metric: str, old: ImageResult, new: ImageResult) -> tuple[str, ...]:
    """The packages behind a package count's change, by name and version; the vulnerabilities behind a
    vulnerability count's, by ID."""
    if metric in ("fixable cves", "go vulns"):
        return tuple(c.describe() for c in diff.vulnerabilities(old, new) if c.go == (metric == "go vulns"))
    if metric not in ("os packages", "language packages"):
        return ()
    wanted = metric == "os packages"
    return tuple(c.describe() for c in diff.packages(old, new) if diff.os_kind(c) == wanted)


def _config_changes(key: str, old: ImageResult, new: ImageResult) -> list[Change]:
    """The configuration changes that matter to whoever runs the image: shell, user, entrypoint."""
    changes = []
    was, now = old.exposure, new.exposure
    if was is not None and now is not None:
        if was.shell != now.shell:
            gained = now.shell
            shells = ", ".join(now.shells if gained else was.shells)
            changes.append(
                Change(
                    key,
                    "shell",
                    "present" if was.shell else "none",
                    "present" if gained else "none",
                    f"gained a shell ({shells})" if gained else f"lost its shell ({shells})",
                    gained,
                    value="present" if gained else "none",
                )
            )
        if (was.user, was.root) != (now.user, now.root):
            root = now.root and not was.root
            changes.append(
                Change(
                    key,
                    "user",
                    was.user or "root",
                    now.user or "root",
                    "runs as root" if root else "changed",
                    root,
                    value=now.user or "root",
                )
            )
    for found in diff.config(old.config, new.config):
        if found.field == "entrypoint":
            changes.append(Change(key, "entrypoint", found.old, found.new, "changed", True, value=found.new))
    return changes


def accept(changes: list[Change], judge: Callable[[Change], tuple[str, str]]) -> list[Change]:
    """Apply reviewed acceptances: `judge` gives (reason accepted, note) for a change."""
    judged = []
    for change in changes:
        reason, note = judge(change) if change.regression else ("", "")
        judged.append(
            replace(change, regression=change.regression and not reason, accepted=reason, note=note)
        )
    return judged
