"""The regression gate: compare a run with a committed baseline (the compare.json of an earlier run).

An image fails the gate when it grows past both thresholds (a share and an absolute size, so that a
tiny image's few bytes and a large image's noise pass), when a check that passed now fails, when it gains
a shell or starts running as root, when its package count grows past a share, or when it disappears.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from imagelab.errors import ConfigError
from imagelab.report import jsonfile
from imagelab.report.model import CHECKS, ExposureFacts, ImageResult, Run
from imagelab.report.units import human_size


@dataclass(frozen=True)
class Thresholds:
    size_share: float = 0.05  # +5 %
    size_bytes: int = 2 * 1000**2  # +2 MB
    packages_share: float = 0.10  # +10 %


@dataclass(frozen=True)
class Change:
    image: str
    what: str
    old: str
    new: str
    change: str
    regression: bool


def load(path: Path) -> Run:
    """Read a baseline, naming the file and what is wrong with it."""
    if not path.is_file():
        raise ConfigError(
            f"baseline {path} does not exist", hint="write one with `nox -s compare -- --update-baseline`"
        )
    return jsonfile.loads(path.read_text(errors="replace"), f"baseline {path}")


def compare(old: Run, new: Run, thresholds: Thresholds = Thresholds()) -> list[Change]:
    """Every difference worth showing between two reports; `regression` marks the ones that fail the gate.

    Only the apps and base set of the new run are compared, so a run of one app does not report the
    others as gone.
    """
    new_images = {i.key: i for i in new.images}
    apps = {i.app for i in new.images}
    changes: list[Change] = []
    for image in old.images:
        if image.app not in apps or image.base_set != new.base_set:
            continue
        if image.key not in new_images:
            changes.append(Change(image.key, "variant", "present", "missing", "disappeared", True))
            continue
        changes += _compare_image(image, new_images[image.key], thresholds)
    return changes


def _compare_image(old: ImageResult, new: ImageResult, t: Thresholds) -> list[Change]:
    key, changes = old.key, []
    if old.built and not new.built:
        changes.append(Change(key, "build", "built", "failed", "broke", True))
    if old.size and new.size and old.size != new.size:
        grown = new.size - old.size
        share = grown / old.size
        regression = share > t.size_share and grown > t.size_bytes
        sign = "+" if grown > 0 else "-"
        changes.append(
            Change(
                key,
                "size",
                human_size(old.size),
                human_size(new.size),
                f"{sign}{human_size(abs(grown))} ({share * 100:+.1f} %)",
                regression,
            )
        )
    for check in CHECKS:
        if old.verdict(check) == "pass" and new.verdict(check) == "fail":
            changes.append(Change(key, check, "pass", "fail", "broke", True))
    if old.exposure is not None and new.exposure is not None:
        changes += _compare_exposure(key, old.exposure, new.exposure, t)
    return changes


def _compare_exposure(key: str, old: ExposureFacts, new: ExposureFacts, t: Thresholds) -> list[Change]:
    changes = []
    if not old.shell and new.shell:
        changes.append(Change(key, "shell", "none", "present", "gained a shell", True))
    if not old.root and new.root:
        changes.append(Change(key, "user", old.user, new.user or "root", "runs as root", True))
    for field in ("os_packages", "language_packages"):
        before, after = getattr(old, field), getattr(new, field)
        if before != after:
            share = (after - before) / before if before else float("inf")
            changes.append(
                Change(
                    key,
                    field.replace("_", " "),
                    str(before),
                    str(after),
                    f"{after - before:+d}",
                    share > t.packages_share,
                )
            )
    return changes
