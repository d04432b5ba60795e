"""`schema`: write results/compare.schema.json, the JSON Schema of compare.json."""

from __future__ import annotations

import argparse

from imagelab import ROOT
from imagelab.terminal import terminal

HELP = "write results/compare.schema.json, the JSON Schema of compare.json"


def add_arguments(command: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    from imagelab.report import jsonfile

    path = ROOT / "results" / "compare.schema.json"
    path.write_text(jsonfile.schema_text())
    terminal.info(f"wrote {path.relative_to(ROOT)}")
    return 0
