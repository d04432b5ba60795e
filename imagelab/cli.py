"""Command line of the harness: `python -m imagelab COMMAND`; the noxfile's sessions call it."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from imagelab.errors import ImagelabError
from imagelab.terminal import terminal


def cmd_engine(args: argparse.Namespace) -> int:
    from imagelab import bootstrap

    terminal.info(bootstrap.ensure_engine(log=terminal.step).describe())
    return 0


COMMANDS: dict[str, tuple[Callable[[argparse.Namespace], int], str]] = {
    "engine": (cmd_engine, "make sure a Docker engine with buildx answers (install and start it on Debian)"),
}


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="imagelab", description=__doc__)
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (_, help_text) in COMMANDS.items():
        sub.add_parser(name, help=help_text, description=help_text)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    handler, _ = COMMANDS[args.command]
    try:
        return handler(args)
    except ImagelabError as exc:
        terminal.error(exc.render())
        return 1
    except KeyboardInterrupt:
        terminal.error("interrupted: containers this run started were removed")
        return 130


if __name__ == "__main__":
    sys.exit(main())
