"""dive's "potential wasted space" and "image efficiency", computed as dive does, for people who compare
with it.

Every path that occurs in two or more layers counts with all its copies (the surviving one included);
a deleted file adds nothing for its whiteout, a deleted directory adds its contents; only the leaves of
each layer's tree count, and opaque directories are ignored. (imagefs' own waste, `Layer.wasted_bytes`,
counts only the bytes a later layer hides.)
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass


@dataclass(frozen=True)
class DiveWaste:
    """dive's figures for the whole image."""

    wasted_bytes: int
    efficiency: float  # 1.0 when nothing is duplicated or deleted


class DiveScore:
    """The bookkeeping: per path, how often it occurs as a leaf, and its sizes."""

    def __init__(self) -> None:
        self.paths: dict[str, list[int]] = {}  # path -> [occurrences, cumulative size, smallest size]

    def visit(self, added: list[tuple[str, int]], deleted: list[tuple[str, int]]) -> None:
        """Count one layer's leaves: the (path, size) it adds, and the (path, size of what the lower
        layers hold there) its whiteouts delete."""
        inner = set()
        for path, _ in added + deleted:
            parent = posixpath.dirname(path)
            while parent != "/" and parent not in inner:
                inner.add(parent)
                parent = posixpath.dirname(parent)
        for path, size in added:
            if path not in inner:
                self._count(path, size)
        for path, size in deleted:
            self._count(path, size)

    def _count(self, path: str, size: int) -> None:
        seen = self.paths.setdefault(path, [0, 0, size])
        seen[0] += 1
        seen[1] += size
        seen[2] = min(seen[2], size)

    def result(self) -> DiveWaste:
        wasted = sum(cumulative for count, cumulative, _ in self.paths.values() if count >= 2)
        discovered = sum(cumulative for _, cumulative, _ in self.paths.values())
        smallest = sum(minimum for _, _, minimum in self.paths.values())
        return DiveWaste(wasted, smallest / discovered if discovered else 1.0)
