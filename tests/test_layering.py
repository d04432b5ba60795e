"""The import contracts of pyproject.toml hold, and break when an import points up or closes a cycle."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from imagelab import ROOT


def lint_imports(checkout: Path) -> subprocess.CompletedProcess[str]:
    # import-linter comes with the test group. The copy comes first on the path, before the installed
    # (editable) package.
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    command = [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"]
    return subprocess.run(
        command, check=False, cwd=checkout, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """The package and its contracts, copied to be edited."""
    shutil.copytree(ROOT / "imagelab", tmp_path / "imagelab", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    return tmp_path


def test_the_package_keeps_its_contracts(checkout: Path):
    done = lint_imports(checkout)
    assert done.returncode == 0, done.stdout


def test_a_job_that_calls_back_into_the_command_line_breaks_the_layers(checkout: Path):
    selection = checkout / "imagelab" / "selection.py"
    selection.write_text(selection.read_text() + "\nfrom imagelab import cli  # noqa: E402\n")
    done = lint_imports(checkout)
    assert done.returncode == 1
    assert "Commands above jobs above parts above leaves BROKEN" in done.stdout
    assert "imagelab.selection -> imagelab.cli" in done.stdout


def test_a_cycle_inside_a_package_breaks_the_contract(checkout: Path):
    # report/ is one layer: a cycle between two of its modules is what acyclic_siblings is for
    model = checkout / "imagelab" / "report" / "model.py"
    model.write_text(model.read_text() + "\nfrom imagelab.report import units  # noqa: E402\n")
    units = checkout / "imagelab" / "report" / "units.py"
    units.write_text(units.read_text() + "\nfrom imagelab.report import model  # noqa: E402\n")
    done = lint_imports(checkout)
    assert done.returncode == 1
    assert "No cycle between the modules of any package BROKEN" in done.stdout


def test_an_import_inside_a_function_counts_as_one(checkout: Path):
    # The cycle issue 22 removed went through imports inside functions (bump -> cli -> bump): such an
    # import is as much an edge as one at the top of a module, and a part calling its job back is refused.
    part = checkout / "imagelab" / "image_result.py"
    part.write_text(
        part.read_text() + "\n\ndef _back() -> None:\n    from imagelab import pipeline  # noqa: F401\n"
    )
    done = lint_imports(checkout)
    assert done.returncode == 1
    assert "Commands above jobs above parts above leaves BROKEN" in done.stdout
    assert "imagelab.image_result -> imagelab.pipeline" in done.stdout
