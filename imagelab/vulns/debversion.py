"""Debian package versions, ordered as dpkg orders them (`dpkg --compare-versions`).

A version is `[epoch:]upstream[-revision]`: the epoch is a number (0 when absent), the revision is what
follows the last hyphen (none when there is no hyphen). Epochs compare as numbers; upstream and revision
each compare by dpkg's string rule, alternating two kinds of run:

- a run of non-digits, character by character, where `~` sorts before everything (even the end of the
  string: "1.0~rc1" < "1.0"), letters sort before every other character, and the rest by their code;
- a run of digits, compared as a number ("10" > "9", "007" == "7").

So "2.5.0-1+deb12u5" < "2.5.0-1+deb12u10" (digits as numbers) and "1.0" < "1.0+deb12u1" (the end of a
string sorts before "+").
"""

from __future__ import annotations

import functools
from typing import NamedTuple


class Version(NamedTuple):
    epoch: int
    upstream: str
    revision: str

    def __str__(self) -> str:
        text = f"{self.epoch}:{self.upstream}" if self.epoch else self.upstream
        return f"{text}-{self.revision}" if self.revision else text


def parse(text: str) -> Version:
    """Split a version into epoch, upstream and revision; ValueError for one with no upstream part or
    an epoch that is not a number (dpkg refuses both; a non-digit first character it only warns about)."""
    text = text.strip()
    epoch = 0
    if ":" in text:
        head, text = text.split(":", 1)
        if not head.isdigit():
            raise ValueError(f"not a Debian version (epoch {head!r} is not a number): {text!r}")
        epoch = int(head)
    upstream, hyphen, revision = text.rpartition("-")
    if not hyphen:
        upstream, revision = text, ""
    if not upstream:
        raise ValueError(f"not a Debian version (no upstream part): {text!r}")
    return Version(epoch, upstream, revision)


def compare(a: str, b: str) -> int:
    """-1, 0 or 1 as version `a` sorts before, equal to or after `b`."""
    left, right = parse(a), parse(b)
    if left.epoch != right.epoch:
        return -1 if left.epoch < right.epoch else 1
    return _compare_part(left.upstream, right.upstream) or _compare_part(left.revision, right.revision)


def newer(a: str, b: str) -> bool:
    """True when `a` sorts after `b`."""
    return compare(a, b) > 0


#: A key for sorted(), max(): `max(versions, key=sort_key)`.
sort_key = functools.cmp_to_key(compare)


def _weight(char: str) -> int:
    """Where a character of a non-digit run sorts: "~" first, then the end of the run, then letters,
    then every other character by its code."""
    if char == "~":
        return -1
    if char.isalpha() and char.isascii():
        return ord(char)
    return ord(char) + 256


def _compare_part(a: str, b: str) -> int:
    i = j = 0
    while i < len(a) or j < len(b):
        # the run of non-digits: a missing character (the run ended) weighs 0
        while (i < len(a) and not a[i].isdigit()) or (j < len(b) and not b[j].isdigit()):
            wa = _weight(a[i]) if i < len(a) and not a[i].isdigit() else 0
            wb = _weight(b[j]) if j < len(b) and not b[j].isdigit() else 0
            if wa != wb:
                return -1 if wa < wb else 1
            i += 1
            j += 1
        # the run of digits, as a number
        start_i, start_j = i, j
        while i < len(a) and a[i].isdigit():
            i += 1
        while j < len(b) and b[j].isdigit():
            j += 1
        na = int(a[start_i:i] or 0)
        nb = int(b[start_j:j] or 0)
        if na != nb:
            return -1 if na < nb else 1
    return 0
