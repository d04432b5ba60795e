"""The flags several commands share, and what they read into: the selected variants, the gate's limits."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from imagelab import ROOT
from imagelab.apps import Variant
from imagelab.errors import ConfigError
from imagelab.report import gate


def add_selectors(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--app",
        action="append",
        default=[],
        metavar="NAME",
        help="an app of apps/ (repeatable; default: all)",
    )
    command.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME",
        help="naive, slim, multistage, distroless or minimal (repeatable; default: all)",
    )
    command.add_argument(
        "--bases",
        default="debian",
        metavar="SET",
        help="base set: official, debian, debian12, auto, or a set file (.toml); default debian",
    )


def selected(args: argparse.Namespace, resolve: bool = False) -> list[Variant]:
    """The variants --app/--variant/--bases name; the base set is opened here, once (selection.variants says
    what `resolve` does)."""
    from imagelab import bases, selection

    elsewhere = bool(getattr(args, "builder", None))
    return selection.variants(
        bases.open_set(args.bases), args.app, args.variant, resolve=resolve, elsewhere=elsewhere
    )


def add_engine(command: argparse.ArgumentParser) -> None:
    # No argparse choices: they would load the engine package (and the Docker SDK) for every command;
    # engine/bootstrap.py refuses an unknown kind or store in one line with the valid ones.
    command.add_argument(
        "--engine",
        metavar="KIND",
        help="the engine to run on, started by imagelab where it may: forky (default: Debian's docker.io "
        "28.5), source (Docker 29 built from its Go module), trixie (Debian 13's 26.1), debian (Debian 12's 20.10); "
        "also $IMAGELAB_ENGINE",
    )
    command.add_argument(
        "--store", metavar="STORE", help="its image store: classic or containerd; also $IMAGELAB_STORE"
    )


def choose_engine(args: argparse.Namespace) -> None:
    """--engine and --store become $IMAGELAB_ENGINE and $IMAGELAB_STORE.

    Every job asks for the engine where it needs it (selection.ensure_engine, many call sites deep), and
    the processes a job starts (a compare's bake, a test's harness) must get the same engine: the
    environment reaches all of them, an argument would have to be threaded through each."""
    from imagelab.engine import bootstrap

    for value, variable in ((args.engine, bootstrap.ENGINE_ENV), (args.store, bootstrap.STORE_ENV)):
        if value:
            os.environ[variable] = value


def add_builder(command: argparse.ArgumentParser) -> None:
    command.add_argument("--builder", metavar="NAME", help="a buildx builder (e.g. a remote BuildKit)")


def add_gate_options(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--max-growth-percent",
        type=float,
        default=5.0,
        metavar="P",
        help="an image may grow this much before the gate fails (with --max-growth-mb)",
    )
    command.add_argument(
        "--max-growth-mb",
        type=float,
        default=2.0,
        metavar="MB",
        help="... and this many megabytes (default 2)",
    )
    command.add_argument(
        "--max-package-growth-percent",
        type=float,
        default=10.0,
        metavar="P",
        help="how much an image's package count may grow (default 10)",
    )
    command.add_argument(
        "--limit",
        action="append",
        default=[],
        metavar="METRIC=P:FLOOR",
        help="a gated metric fails past P percent and FLOOR (its unit), e.g. memory=25:10e6 or "
        f"first-answer=50:0.5 (repeatable; metrics: {', '.join(m.replace(' ', '-') for m in gate.BY_NAME)})",
    )
    command.add_argument(
        "--accepted",
        type=Path,
        default=ROOT / "results" / "accepted.toml",
        metavar="FILE",
        help="reviewed changes the gate accepts until their expiry date (default results/accepted.toml)",
    )


def gate_thresholds(args: argparse.Namespace) -> gate.Thresholds:
    """The gate's limits from the command line: the size and package flags, then each --limit."""
    thresholds = gate.Thresholds().with_limit("size", args.max_growth_percent, args.max_growth_mb * 1000**2)
    for metric in ("os packages", "language packages"):
        thresholds = thresholds.with_limit(
            metric, args.max_package_growth_percent, thresholds.limit(metric).floor
        )
    for spec in args.limit:
        name, _, numbers = spec.partition("=")
        percent, _, floor = numbers.partition(":")
        try:
            limit = (float(percent), float(floor))
        except ValueError:
            raise ConfigError(
                f"--limit {spec!r} is not METRIC=PERCENT:FLOOR", hint="e.g. --limit memory=25:10e6"
            ) from None
        thresholds = thresholds.with_limit(name.replace("-", " ").replace("_", " ").strip(), *limit)
    return thresholds


def shown(path: Path) -> str:
    """A path as a message shows it: relative to the checkout where it is inside."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
