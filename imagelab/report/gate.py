"""The regression gate: compare a run with a committed baseline (a compare.json of an earlier run).

An image fails the gate when it grows past both thresholds (a share and an absolute size, so that a
tiny image's few bytes and a large image's noise pass), when a check that passed now fails, when it gains
a shell or starts running as root, when its package count grows past a share, or when it disappears.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from imagelab.errors import ConfigError
from imagelab.report.render import human_size

SCHEMA = 1
CHECKS = ("smoke", "structure", "hardened")


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


def load(path: Path) -> dict:
    """Read a baseline, naming the file and what is wrong with it."""
    hint = "write one with `nox -s compare -- --update-baseline`"
    if not path.is_file():
        raise ConfigError(f"baseline {path} does not exist", hint=hint)
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ConfigError(f"baseline {path} is not valid JSON: {exc}", hint=hint) from exc
    if not isinstance(data, dict) or data.get("schema") != SCHEMA or not isinstance(data.get("images"), list):
        found = data.get("schema") if isinstance(data, dict) else type(data).__name__
        raise ConfigError(
            f"baseline {path} is not an imagelab compare report of schema {SCHEMA} (found schema {found!r})",
            hint=hint,
        )
    for index, row in enumerate(data["images"]):
        missing = [k for k in ("app", "variant", "base_set", "built") if k not in row]
        if missing:
            raise ConfigError(f"baseline {path}: images[{index}] lacks {', '.join(missing)}", hint=hint)
    return data


def _key(row: dict) -> str:
    return f"{row['app']}/{row['variant']} ({row['base_set']})"


def compare(old: dict, new: dict, thresholds: Thresholds = Thresholds()) -> list[Change]:
    """Every difference worth showing between two reports; `regression` marks the ones that fail the gate.

    Only the apps and base set of the new run are compared, so a run of one app does not report the
    others as gone.
    """
    new_rows = {_key(r): r for r in new["images"]}
    apps = {r["app"] for r in new["images"]}
    changes: list[Change] = []
    for row in old["images"]:
        key = _key(row)
        if row["app"] not in apps or row["base_set"] != new["base_set"]:
            continue
        if key not in new_rows:
            changes.append(Change(key, "variant", "present", "missing", "disappeared", True))
            continue
        changes += _compare_image(key, row, new_rows[key], thresholds)
    return changes


def _compare_image(key: str, old: dict, new: dict, t: Thresholds) -> list[Change]:
    changes = []
    if old["built"] and not new["built"]:
        changes.append(Change(key, "build", "built", "failed", "broke", True))
    old_size, new_size = old.get("size"), new.get("size")
    if old_size and new_size and old_size != new_size:
        grown = new_size - old_size
        share = grown / old_size
        regression = share > t.size_share and grown > t.size_bytes
        sign = "+" if grown > 0 else "-"
        changes.append(
            Change(
                key,
                "size",
                human_size(old_size),
                human_size(new_size),
                f"{sign}{human_size(abs(grown))} ({share * 100:+.1f} %)",
                regression,
            )
        )
    for check in CHECKS:
        if old.get(check) == "pass" and new.get(check) == "fail":
            changes.append(Change(key, check, "pass", "fail", "broke", True))
    changes += _compare_exposure(key, old.get("exposure") or {}, new.get("exposure") or {}, t)
    return changes


def _compare_exposure(key: str, old: dict, new: dict, t: Thresholds) -> list[Change]:
    if not old or not new:
        return []
    changes = []
    if not old["shell"] and new["shell"]:
        changes.append(Change(key, "shell", "none", "present", "gained a shell", True))
    if not old["root"] and new["root"]:
        changes.append(Change(key, "user", old["user"], new["user"] or "root", "runs as root", True))
    for field in ("os_packages", "language_packages"):
        before, after = old[field], new[field]
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
