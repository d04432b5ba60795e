"""`explain`: an image layer by layer, and where its bytes go (builds nothing)."""

from __future__ import annotations

import argparse

from imagelab.commands import flags
from imagelab.errors import ConfigError

HELP = "an image layer by layer (Dockerfile line, size, folders, what it hides) and where its bytes go"


def add_arguments(command: argparse.ArgumentParser) -> None:
    flags.add_engine(command)
    flags.add_selectors(command)


def run(args: argparse.Namespace) -> int:
    from imagelab import anatomy, selection

    if not args.app and not args.variant:
        raise ConfigError("explain needs an image", hint="nox -s explain -- --app APP --variant VARIANT")
    variants = flags.selected(args)
    if not variants:
        raise ConfigError("no image matches the selectors", hint="`nox -s matrix` lists the images")
    selection.ensure_engine()
    for variant in variants:
        anatomy.show(variant)
    return 0
