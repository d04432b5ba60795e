"""The base-bump report as data: for each app x variant, what changed between two runs and where from.

Two compare runs of the same apps on two base sets (or two revisions) go in; for every image that both
have, out come every metric old and new, the packages added, removed and changed by name, the
configuration and check verdicts that changed, the gate's findings, and the split of the size and
package change between the base image's layers and the image's own (model.ImageResult.base_layers,
PackageRef.in_base), and the known vulnerabilities the move fixed and introduced, base or own
(vuln_facts.VulnFacts). report/move_markdown.py and move_chart.py render it; bump.json is this, as JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

import pydantic

from imagelab.report import diff, gate, units
from imagelab.report.model import BaseImage, ImageResult, Run
from imagelab.report.vuln_facts import VulnFacts

SCHEMA = 1


@dataclass
class MetricRow:
    name: str
    old: float | None
    new: float | None
    shown_old: str
    shown_new: str
    change: str  # "" when equal or not measured on one side


@dataclass
class Part:
    """Bytes of one part of the image (its base's layers, or its own) on each side."""

    old: int | None
    new: int | None

    @property
    def change(self) -> int | None:
        return None if self.old is None or self.new is None else self.new - self.old


@dataclass
class ImageBump:
    app: str
    variant: str
    old_tag: str
    new_tag: str
    old_bases: list[BaseImage]
    new_bases: list[BaseImage]
    metrics: list[MetricRow]
    base_bytes: Part  # in the layers of the final stage's base image
    own_bytes: Part  # in the layers the image's own Dockerfile made
    packages: list[diff.PackageChange]
    config: list[diff.ConfigChange]
    checks: list[diff.CheckChange]
    findings: list[gate.Change]  # what the gate says about this image
    vulnerabilities: list[diff.VulnChange] = field(default_factory=list)  # fixed and introduced, by ID
    #: What each side's vulnerability figures were judged on ("" when that side was not scanned).
    old_vuln_data: str = ""
    new_vuln_data: str = ""

    @property
    def name(self) -> str:
        return f"{self.app}/{self.variant}"

    def vulns(self, how: str, go: bool = False, origin: str | None = None) -> list[diff.VulnChange]:
        """The CVEs (or, with `go`, Go vulnerabilities) the move fixed or introduced, from one origin."""
        return [
            v
            for v in self.vulnerabilities
            if v.how == how and v.go == go and (origin is None or v.origin == origin)
        ]

    @property
    def failed(self) -> bool:
        return any(f.regression for f in self.findings)

    def packages_from(self, origin: str) -> list[diff.PackageChange]:
        return [p for p in self.packages if p.origin == origin]

    @property
    def size(self) -> MetricRow:
        """The size row, which every image has (ROWS starts with it)."""
        return next(m for m in self.metrics if m.name == "size")

    def metric(self, name: str) -> MetricRow | None:
        return next((m for m in self.metrics if m.name == name), None)


@dataclass
class Bump:
    generated: str
    old_set: str
    new_set: str
    old_source: str  # the compare.json read, or the base set measured
    new_source: str
    old_revision: str
    new_revision: str
    images: list[ImageBump] = field(default_factory=list)
    only_old: list[str] = field(default_factory=list)  # app/variant measured on one side only
    only_new: list[str] = field(default_factory=list)
    schema: int = SCHEMA

    @property
    def failed(self) -> bool:
        return any(image.failed for image in self.images) or bool(self.only_old)


def _count(value: float) -> str:
    return f"{value:.0f}"


#: (name, read, show): the rows of each image's metric table, in the order they are shown.
ROWS: list[tuple[str, Callable[[ImageResult], float | None], Callable[[float], str]]] = [
    ("size", lambda i: i.size, units.human_size),
    ("compressed size", lambda i: i.compressed_size, units.human_size),
    ("layers", lambda i: i.layers, _count),
    ("base layers", lambda i: i.base_layers, _count),
    ("closure ratio", lambda i: i.closure_ratio, units.ratio),
    ("wasted bytes", lambda i: i.wasted_bytes, units.human_size),
    ("first answer", lambda i: i.first_answer_seconds, lambda v: f"{v:.2f} s"),
    ("memory", lambda i: i.memory_bytes, units.human_size),
    ("os packages", lambda i: i.exposure.os_packages if i.exposure else None, _count),
    ("language packages", lambda i: i.exposure.language_packages if i.exposure else None, _count),
    ("fixable cves", lambda i: i.vulnerabilities.fixable_cves if i.vulnerabilities else None, _count),
    ("go vulns", lambda i: i.vulnerabilities.go_vulns if i.vulnerabilities else None, _count),
]


def signed(value: float, show: Callable[[float], str]) -> str:
    return ("+" if value > 0 else "-" if value < 0 else "±") + show(abs(value))


def _row(name: str, old: float | None, new: float | None, show: Callable[[float], str]) -> MetricRow:
    shown_old = "-" if old is None else show(old)
    shown_new = "-" if new is None else show(new)
    change = ""
    if old is not None and new is not None and old != new:
        change = signed(new - old, show) + (f" ({(new - old) / old * 100:+.1f} %)" if old else "")
    return MetricRow(name, old, new, shown_old, shown_new, change)


def split_bytes(image: ImageResult) -> tuple[int | None, int | None]:
    """(bytes in the base's layers, bytes in the image's own) from its layer list; None when unknown."""
    if image.base_layers is None or not image.layer_details:
        return None, None
    sizes = [layer.size for layer in image.layer_details]
    return sum(sizes[: image.base_layers]), sum(sizes[image.base_layers :])


def image_bump(old: ImageResult, new: ImageResult, findings: list[gate.Change]) -> ImageBump:
    (old_base, old_own), (new_base, new_own) = split_bytes(old), split_bytes(new)
    return ImageBump(
        app=new.app,
        variant=new.variant,
        old_tag=old.tag,
        new_tag=new.tag,
        old_bases=old.base_images,
        new_bases=new.base_images,
        metrics=[_row(name, read(old), read(new), show) for name, read, show in ROWS],
        base_bytes=Part(old_base, new_base),
        own_bytes=Part(old_own, new_own),
        packages=diff.packages(old, new),
        config=diff.config(old.config, new.config),
        checks=diff.checks(old, new),
        findings=findings,
        vulnerabilities=diff.vulnerabilities(old, new),
        old_vuln_data=vuln_data(old.vulnerabilities),
        new_vuln_data=vuln_data(new.vulnerabilities),
    )


def vuln_data(found: VulnFacts | None) -> str:
    """The dates one side's vulnerability figures were judged on, in one line."""
    if found is None:
        return ""
    return ", ".join(d.describe() for d in [*found.os_data, *([found.go_data] if found.go_data else [])]) or (
        "no data"
    )


def from_runs(
    old: Run,
    new: Run,
    generated: str,
    thresholds: gate.Thresholds | None = None,
    judge: Callable[[gate.Change], tuple[str, str]] | None = None,
    sources: tuple[str, str] = ("", ""),
) -> Bump:
    """The bump from `old` to `new`: images matched by app and variant, whatever their base sets."""
    findings = gate.changes(old, new, thresholds or gate.Thresholds(), across_sets=True)
    if judge is not None:
        findings = gate.accept(findings, judge)
    old_images = {(i.app, i.variant): i for i in old.images}
    new_images = {(i.app, i.variant): i for i in new.images}
    result = Bump(
        generated=generated,
        old_set=old.base_set,
        new_set=new.base_set,
        old_source=sources[0] or old.base_set,
        new_source=sources[1] or new.base_set,
        old_revision=old.revision,
        new_revision=new.revision,
        only_old=[f"{a}/{v}" for a, v in old_images if (a, v) not in new_images],
        only_new=[f"{a}/{v}" for a, v in new_images if (a, v) not in old_images],
    )
    for key, image in new_images.items():
        if key in old_images:
            name = f"{image.app}/{image.variant}"
            mine = [f for f in findings if f.image == name]
            result.images.append(image_bump(old_images[key], image, mine))
    return result


_BUMP = pydantic.TypeAdapter(Bump)


def dumps(bump: Bump) -> str:
    return json.dumps(_BUMP.dump_python(bump, mode="json"), indent=2) + "\n"


def loads(text: str) -> Bump:
    return _BUMP.validate_json(text)
