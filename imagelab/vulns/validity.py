"""How long Debian's word on a Release file holds: its `Valid-Until:`, read as apt reads it.

The security and updates suites carry one, about a week after their `Date:`; the release suite (trixie)
carries none. apt refuses a Release file past it ("is expired"), and archive.py refuses a fetched one.
"""

from __future__ import annotations

import email.utils
from datetime import UTC, datetime

from imagelab.errors import ImagelabError


class ReleaseExpired(ImagelabError):
    """A fetched Release file past its Valid-Until: apt refuses it ("is expired"), and so does this."""


def release_time(value: str) -> datetime:
    """A Release file's date (RFC 2822) in UTC; as apt does, one that names no zone is UTC."""
    date = email.utils.parsedate_to_datetime(value)
    return date.replace(tzinfo=UTC) if date.tzinfo is None else date.astimezone(UTC)


def valid_until(text: str) -> datetime | None:
    """A Release text's Valid-Until, or None: the release suite itself (trixie) carries none."""
    value = next((line[12:].strip() for line in text.splitlines() if line.startswith("Valid-Until:")), "")
    return release_time(value) if value else None


def refuse_expired(text: str, suite: str, now: datetime) -> None:
    """Raise ReleaseExpired when a fetched Release text is past its Valid-Until at `now`.

    A mirror that stopped syncing, or anyone between it and this machine, can hand out last month's
    signed index: it verifies, and hides every fix since. Valid-Until is the one signed field that
    bounds that. Only fetched files are asked: kept data read offline is old by design and says so."""
    until = valid_until(text)
    if until is not None and now > until:
        raise ReleaseExpired(
            f"{suite}'s InRelease expired on {until:%Y-%m-%d %H:%M} UTC (its Valid-Until)",
            "the mirror is stale or replaying an old index: try another mirror in the apt sources",
        )
