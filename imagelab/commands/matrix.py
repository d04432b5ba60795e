"""`matrix`: print the CI matrix as JSON, one compare command per app and base set."""

from __future__ import annotations

import argparse
import json

from imagelab.commands import flags

HELP = "print the CI matrix as JSON: one compare command per app and base set (--bases a,b)"


def add_arguments(command: argparse.ArgumentParser) -> None:
    flags.add_selectors(command)
    command.add_argument(
        "--github",
        action="store_true",
        help='print {"include": [...]}, the shape of a GitHub Actions strategy.matrix',
    )


def run(args: argparse.Namespace) -> int:
    from imagelab import apps, bases, ci_matrix

    # A matrix may span several base sets: --bases a,b.
    names = dict.fromkeys(part.strip() for part in args.bases.split(",") if part.strip())
    found = apps.discover()
    variants = [v for name in names for v in apps.select(found, args.app, args.variant, bases.open_set(name))]
    cells = ci_matrix.cells(variants, args.variant)
    print(json.dumps({"include": cells} if args.github else cells, indent=2))
    return 0
