"""`repro`: is each selected image bit-for-bit reproducible? Two builds from no cache, compared."""

from __future__ import annotations

import argparse
from pathlib import Path

from imagelab import ROOT
from imagelab.commands import flags
from imagelab.errors import ConfigError
from imagelab.terminal import terminal

HELP = "build each selected image twice from no cache, timestamps rewritten, and name what differs"


def add_arguments(command: argparse.ArgumentParser) -> None:
    flags.add_engine(command)
    flags.add_selectors(command)
    command.add_argument(
        "--results",
        type=Path,
        default=ROOT / "results",
        metavar="DIR",
        help="where repro.md and repro.json go (default results/; a subset run writes a table of its own)",
    )
    command.add_argument(
        "--keep", action="store_true", help="keep the OCI archives of both builds (in .imagelab/repro/)"
    )


def run(args: argparse.Namespace) -> int:
    from imagelab import repro
    from imagelab.report import repro as report

    variants = flags.selected(args, resolve=True)
    if not variants:
        raise ConfigError("no image matches the selectors", hint="`nox -s matrix` lists the images")
    done = repro.run(variants, args.results, keep=args.keep)
    terminal.info(f"{report.summary(done)}; written to {args.results / 'repro.md'}")
    return 1 if any(image.verdict == report.FAILED for image in done.images) else 0
