"""How figures read in every format: sizes in MiB/GiB, seconds, ratios, shares, verdicts."""

from __future__ import annotations

MiB = 1024 * 1024


def human_size(size: float | None) -> str:
    if size is None:
        return "-"
    if abs(size) >= 1000 * MiB:
        return f"{size / 1024 / MiB:.2f} GiB"
    if abs(size) >= 10 * MiB:
        return f"{size / MiB:.0f} MiB"
    return f"{size / MiB:.1f} MiB"


def ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f} %"


def seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"


def verdict(value: str | None) -> str:
    return {"pass": "pass", "fail": "FAIL", "n/a": "n/a"}.get(value or "", "-")


def flag(value: bool | None) -> str:
    return "-" if value is None else ("yes" if value else "no")


def short_digest(digest: str) -> str:
    """sha256:0123456789ab..., as people quote digests."""
    algorithm, _, value = digest.partition(":")
    return f"{algorithm}:{value[:12]}" if value else digest
