"""Command line of the harness: `python -m imagelab COMMAND`; the noxfile's sessions call it.

This is the table of commands only: each is a module of imagelab/commands/ with its arguments and its
`run`, which reads the flags into typed values and calls the jobs.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence
from types import ModuleType

from imagelab.commands import (
    bases,
    build,
    bump,
    clean,
    compare,
    engine,
    engines,
    explain,
    flags,
    lessons,
    lint,
    matrix,
    merge,
    registry,
    repro,
    schema,
    smoke,
    trend,
)
from imagelab.errors import ImagelabError
from imagelab.terminal import terminal

#: name -> the command's module (HELP, add_arguments, run), in the order `--help` lists them.
COMMANDS: dict[str, ModuleType] = {
    "engine": engine,
    "engines": engines,
    "registry": registry,
    "compare": compare,
    "bump": bump,
    "trend": trend,
    "lessons": lessons,
    "matrix": matrix,
    "merge": merge,
    "build": build,
    "bases": bases,
    "smoke": smoke,
    "explain": explain,
    "repro": repro,
    "lint": lint,
    "schema": schema,
    "clean": clean,
}


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="imagelab", description=__doc__.splitlines()[0])
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, command in COMMANDS.items():
        command.add_arguments(sub.add_parser(name, help=command.HELP, description=command.HELP))
    return top


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    command = COMMANDS[args.command]
    if hasattr(args, "engine"):
        flags.choose_engine(args)  # --engine and --store: for this job and every process it starts
    # `kill`, a CI timeout, or nox giving up on a Ctrl-C'd command send SIGTERM: clean up as for Ctrl-C.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    # A background job of a script starts with SIGINT ignored, and Python keeps it so: a `kill -INT`
    # (what a terminal's Ctrl-C sends) must still stop the run and clean up.
    previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return command.run(args)
    except ImagelabError as exc:
        terminal.error(exc.render())
        return 1
    except KeyboardInterrupt:
        terminal.error("interrupted: containers this run started were removed")
        return 130
    except Exception as exc:
        from imagelab import engine as docker_engine

        # The engine went away or refused: one line, not a traceback.
        lost = docker_engine.as_engine_error(exc)
        if lost is None:
            raise
        terminal.error(lost.render())
        return 1
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)


if __name__ == "__main__":
    sys.exit(main())
