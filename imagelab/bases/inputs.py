"""What a local stand-in is made from, written into its labels, so that `bases --check` can tell a base
that moved (other inputs: other package versions, another recipe) from one that was only rebuilt from the
same inputs (a fresh machine makes the same images with new digests: timestamps differ, Debian did not
move).

Three inputs, each a label `org.imagelab.inputs.<name>`:
- packages: a digest of every installed package and its version (the image's dpkg records), sorted;
- recipe: a digest of how the image is made (its bases.toml entry, the recipe files, the CA file, Node.js
  and npm versions, the apt sources) and of its parent's recipe digest;
- archive: the Date (and Valid-Until) of each suite's InRelease the packages were taken from.
The first two decide. The archive's dates move without any package moving (the security suite is
re-signed every few days), so they are shown beside a verdict, never the reason for one.
"""

from __future__ import annotations

import email.utils
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

PREFIX = "org.imagelab.inputs."
PACKAGES, RECIPE, ARCHIVE = "packages", "recipe", "archive"
DECIDING = (RECIPE, PACKAGES)


def packages_digest(installed: Mapping[str, str]) -> str:
    """One digest of every package name and version: equal when the image holds the same packages."""
    listing = "".join(f"{name} {version}\n" for name, version in sorted(installed.items()))
    return "sha256:" + hashlib.sha256(listing.encode()).hexdigest()


def of_labels(labels: Mapping[str, str] | None) -> dict[str, str]:
    """The inputs an image's labels record ({} for an image made before they were recorded)."""
    return {
        key.removeprefix(PREFIX): value for key, value in (labels or {}).items() if key.startswith(PREFIX)
    }


def as_labels(inputs: Mapping[str, str]) -> dict[str, str]:
    return {f"{PREFIX}{name}": value for name, value in inputs.items()}


@dataclass(frozen=True)
class Comparison:
    """Two images' recorded inputs side by side."""

    differing: tuple[str, ...]  # the deciding inputs that differ: the base moved
    unknown: tuple[str, ...]  # deciding inputs one side does not record: cannot tell
    archive: tuple[str, str]  # the archive states, old and new, for the reader

    @property
    def same(self) -> bool:
        return not self.differing and not self.unknown


def compare(recorded: Mapping[str, str], current: Mapping[str, str]) -> Comparison:
    differing = tuple(n for n in DECIDING if recorded.get(n) and current.get(n) and recorded[n] != current[n])
    unknown = tuple(n for n in DECIDING if not recorded.get(n) or not current.get(n))
    return Comparison(differing, unknown, (recorded.get(ARCHIVE, ""), current.get(ARCHIVE, "")))


# --- the archive's state ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReleaseState:
    """One suite's InRelease: which state of the archive it describes."""

    suite: str
    date: datetime
    valid_until: datetime | None = None

    def describe(self) -> str:
        text = f"{self.suite} {_iso(self.date)}"
        return text + (f" (valid until {_iso(self.valid_until)})" if self.valid_until else "")


def parse_release(text: str) -> ReleaseState | None:
    """The suite, Date and Valid-Until of a Release or InRelease text (None when it has no Date)."""
    fields = dict(re.findall(r"^(Suite|Codename|Date|Valid-Until): *(.+?) *$", text, re.MULTILINE))
    date = _parse_date(fields.get("Date", ""))
    if date is None:
        return None
    suite = fields.get("Codename") or fields.get("Suite") or "?"  # "stable" names another release later
    return ReleaseState(suite, date, _parse_date(fields.get("Valid-Until", "")))


def release_states(lists: Path) -> list[ReleaseState]:
    """The states of every suite's InRelease in an apt lists folder, in file order."""
    found = (parse_release(path.read_text(errors="replace")) for path in sorted(lists.glob("*_InRelease")))
    return [state for state in found if state is not None]


def describe(states: Iterable[ReleaseState]) -> str:
    """The archive label: `trixie 2026-11-15T09:33:15Z; trixie-security ... (valid until ...)`."""
    return "; ".join(state.describe() for state in states)


def newest(states: Iterable[ReleaseState]) -> datetime | None:
    return max((state.date for state in states), default=None)


def _parse_date(text: str) -> datetime | None:
    try:
        return email.utils.parsedate_to_datetime(text).astimezone(UTC) if text else None
    except (TypeError, ValueError):
        return None


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")
