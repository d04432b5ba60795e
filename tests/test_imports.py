"""Which modules a module loads: reading and writing reports needs no Docker SDK."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize("module", ["imagelab.report.merge", "imagelab.report.files", "imagelab.apps"])
def test_reading_and_writing_reports_loads_no_docker_sdk(module: str):
    # A fresh interpreter: this one has loaded the SDK for other tests long ago.
    probe = f"import sys, {module}; print(sorted(m for m in sys.modules if m == 'docker' or m.startswith('imagelab.engine')))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
