"""What the engine the suite runs on can build: a test of an image it cannot build is skipped with the
reason, as compare leaves such an image out (Docker 20.10 parses neither `COPY --link` nor heredocs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagelab import engine, needs


def unmet(dockerfile: Path) -> str:
    """Why this engine cannot build `dockerfile`, "" when it can (imagelab/needs.py)."""
    found = engine.versions()
    return needs.unmet(dockerfile, found["Version"], found["ApiVersion"])


def skip_unless_buildable(dockerfile: Path, what: str) -> None:
    if why := unmet(dockerfile):
        pytest.skip(f"{what}: {why}")
