"""results/accepted.toml: reviewed changes the gate stops failing on, each until its expiry date.

An entry names an image, a metric (or finding) as the gate names it, the value accepted, why, and until
when. A number is a ceiling: the change is accepted while the new value stays at or below it, so a
further growth fails again. Text (an entrypoint, a user, "present" for a shell, "fail" for a check)
must match the new value exactly. Past its date an entry no longer accepts anything: the change fails
again and the gate says the acceptance expired, so nothing stays accepted by forgetting it.

    [[accepted]]
    image = "microblog/naive"            # app/variant, or "app/variant (set)" for one base set
    metric = "size"                      # see `gate.METRICS` and `gate.FINDINGS`
    value = 1_200_000_000                # bytes, packages, seconds; or text
    reason = "Debian 13's Python is larger; reviewed in #42"
    expires = 2027-01-31
"""

from __future__ import annotations

import datetime
import tomllib
from dataclasses import dataclass
from pathlib import Path

from imagelab.errors import ConfigError
from imagelab.report import gate

FIELDS = ("image", "metric", "value", "reason", "expires")
HINT = "see the format at the top of imagelab/report/accepted.py"


@dataclass(frozen=True)
class Accepted:
    image: str
    metric: str
    value: int | float | str
    reason: str
    expires: datetime.date

    def matches(self, change: gate.Change) -> bool:
        name, _, base_set = self.image.partition(" (")
        return (
            self.metric == change.what
            and name == change.image.split(" (")[0]
            and base_set.rstrip(")") in ("", change.base_set)
        )

    def covers(self, value: float | str | None) -> bool:
        if isinstance(self.value, str):
            return value == self.value
        return isinstance(value, int | float) and value <= self.value


def load(path: Path) -> list[Accepted]:
    """The entries of an accepted-changes file ([] when there is none); a bad entry is one line naming it."""
    if not path.is_file():
        return []
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}", hint=HINT) from exc
    entries = data.get("accepted", [])
    unknown = sorted(set(data) - {"accepted"})
    if unknown or not isinstance(entries, list):
        raise ConfigError(
            f"{path}: expected only [[accepted]] entries, found {unknown or ['accepted']}", hint=HINT
        )
    return [_entry(path, number, table) for number, table in enumerate(entries, start=1)]


def _entry(path: Path, number: int, table: object) -> Accepted:
    name = table.get("image", "?") if isinstance(table, dict) else "?"
    where = f"{path}: entry {number} ({name})"
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: must be a table", hint=HINT)
    missing = [key for key in FIELDS if key not in table]
    unknown = sorted(set(table) - set(FIELDS))
    if missing or unknown:
        problem = f"missing {', '.join(missing)}" if missing else f"unknown field {unknown[0]!r}"
        raise ConfigError(f"{where}: {problem}", hint=f"fields: {', '.join(FIELDS)}")
    image, metric, value, reason, expires = (table[key] for key in FIELDS)
    if not isinstance(image, str) or "/" not in image:
        raise ConfigError(f'{where}: image must be "app/variant", not {image!r}', hint=HINT)
    if metric not in (*gate.BY_NAME, *gate.FINDINGS):
        valid = ", ".join((*gate.BY_NAME, *gate.FINDINGS))
        raise ConfigError(f"{where}: unknown metric {metric!r}", hint=f"valid metrics: {valid}")
    numeric = metric in gate.BY_NAME
    if numeric != (isinstance(value, int | float) and not isinstance(value, bool)):
        kind = "a number (bytes, packages or seconds)" if numeric else "text, as the gate shows the new value"
        raise ConfigError(f"{where}: value for {metric!r} must be {kind}, not {value!r}", hint=HINT)
    if not isinstance(reason, str) or not reason.strip():
        raise ConfigError(f"{where}: reason must say why the change was accepted", hint=HINT)
    if not isinstance(expires, datetime.date) or isinstance(expires, datetime.datetime):
        raise ConfigError(f"{where}: expires must be a date like 2027-01-31, not {expires!r}", hint=HINT)
    return Accepted(image, metric, value, reason.strip(), expires)


def today() -> datetime.date:
    """The day an expiry is judged on: UTC's, as every time in a report is, so that a run's verdict is
    the same on a laptop, on CI and in compare, merge and bump alike."""
    return datetime.datetime.now(datetime.UTC).date()


def judge(entries: list[Accepted], today: datetime.date):
    """A gate.accept judge: (reason, note) for a regression the entries accept, or why they do not."""

    def verdict(change: gate.Change) -> tuple[str, str]:
        notes = []
        for entry in (e for e in entries if e.matches(change)):
            if entry.expires < today:
                notes.append(f"acceptance expired on {entry.expires}")
            elif not entry.covers(change.value):
                notes.append(f"accepted only up to {entry.value}")
            else:
                return f"{entry.reason} (accepted until {entry.expires})", ""
        return "", "; ".join(notes)

    return verdict


def apply(changes: list[gate.Change], path: Path, day: datetime.date | None = None) -> list[gate.Change]:
    """The changes with the file's reviewed acceptances applied, as of `day` (default: today, UTC)."""
    entries = load(path)
    return gate.accept(changes, judge(entries, day or today())) if entries else changes
