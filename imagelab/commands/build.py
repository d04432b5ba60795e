"""`build`: build the selected variants with docker buildx bake."""

from __future__ import annotations

import argparse

from imagelab.commands import flags
from imagelab.terminal import terminal

HELP = "build the selected variants with docker buildx bake"


def add_arguments(command: argparse.ArgumentParser) -> None:
    flags.add_engine(command)
    flags.add_selectors(command)
    flags.add_builder(command)


def run(args: argparse.Namespace) -> int:
    from imagelab import build

    variants = flags.selected(args, resolve=True)
    if not variants:  # each was left out above with its reason
        terminal.info("no image to build")
        return 0
    built = build.build(variants, variants[0].base_set, builder=args.builder)
    failed = [b for b in built if not b.result.ok]
    terminal.info(f"{len(built) - len(failed)} of {len(built)} images built")
    return 1 if failed else 0
