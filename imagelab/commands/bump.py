"""`bump`: what changed from one base set (or compare.json) to another, by package and where from; gate."""

from __future__ import annotations

import argparse
import tomllib
from pathlib import Path

from imagelab import ROOT
from imagelab.bases.sets import BaseSet
from imagelab.commands import flags

HELP = "what changed from one base set (or compare.json) to another; gate on it"


def add_arguments(command: argparse.ArgumentParser) -> None:
    flags.add_engine(command)
    for flag, dest, side in (("--from", "old", "before"), ("--to", "new", "after")):
        command.add_argument(
            flag,
            dest=dest,
            required=True,
            metavar="SET|FILE",
            help=f"the {side} side: a base set or a set file (measured where needed), or a compare.json",
        )
    command.add_argument(
        "--results",
        type=Path,
        default=ROOT / "results",
        metavar="DIR",
        help="where <name>.md/.json/.svg go, and each base set's report (sets/<set>/); default results/",
    )
    command.add_argument("--name", default="bump", help="the report files' name (default: bump)")
    command.add_argument(
        "--fresh",
        action="store_true",
        help="measure both base sets again, even when their reports are current",
    )
    flags.add_builder(command)
    flags.add_gate_options(command)


def is_report(spec: str) -> bool:
    """Whether a side names a compare.json rather than a base set (a name, or a set file of one's own).

    Told by content, not by the path: a set file may be anywhere and called anything, and is TOML with a
    [roles] table; a compare.json is JSON, which TOML never reads. A path that is not there is a report
    when it ends in .json, so that its error says the file is missing rather than the set unknown."""
    path = Path(spec)
    if not path.is_file():
        return spec.endswith(".json")
    if path.suffix == ".toml":
        return False  # opening it as a set names the file and its fault
    try:
        return not isinstance(tomllib.loads(path.read_text()).get("roles"), dict)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        return True


def side(spec: str) -> Path | BaseSet:
    """A side as the job takes it: a report's path, or the base set, opened here once."""
    from imagelab import bases

    return Path(spec) if is_report(spec) else bases.open_set(spec)


def run(args: argparse.Namespace) -> int:
    from imagelab import base_move, selection

    old, new = side(args.old), side(args.new)
    options = base_move.Options(
        results=args.results,
        name=args.name,
        thresholds=flags.gate_thresholds(args),
        accepted=args.accepted,
        fresh=args.fresh,
        builder=args.builder,
    )
    if isinstance(old, BaseSet) or isinstance(new, BaseSet):
        selection.ensure_engine()  # a base set is measured, or its images' ids compared with its report's
    return base_move.run(old, new, options)
