"""The `bases` command: build the local base set (cached), or list the images a set uses."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from rich.table import Table

from imagelab.bases.local import CA_ENV, Built, build_local
from imagelab.bases.recipes import load
from imagelab.bases.sets import LOCAL_SET, check_base_set, resolve
from imagelab.terminal import terminal


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bases", default=LOCAL_SET, help="base set to make available (default: debian)")
    parser.add_argument("--role", action="append", default=[], help="build only this role (repeatable)")
    parser.add_argument(
        "--ca-file", type=Path, help=f"extra CA certificates to trust (PEM; default ${CA_ENV} or the host's)"
    )
    parser.add_argument(
        "--rebuild", action="store_true", help="build again without caches, e.g. to take Debian's updates"
    )


def cmd_bases(args: argparse.Namespace) -> int:
    """Build the local `debian` base set (cached), or say which images the chosen set uses."""
    sets = load()
    for name in args.role:
        sets.role(name)
    base_set = resolve(check_base_set(args.bases))
    if args.bases == "auto":
        answer = "a registry answers" if base_set == "official" else "no registry answers"
        terminal.info(f"base set auto: {base_set} ({answer})")
    if base_set == "official":
        terminal.info(f"base set {args.bases}: the official images; nothing to build")
        for role in sets.roles.values():
            terminal.out.print(f"{role.arg}={role.official}")
        return 0
    started = time.monotonic()
    built = build_local(args.role, ca_file=args.ca_file, rebuild=args.rebuild, sets=sets)
    _print_table(built)
    done = sum(1 for b in built if not b.cached)
    terminal.info(
        f"base set debian: {len(built)} images, {done} built, in {time.monotonic() - started:.1f} s"
    )
    return 0


def _print_table(built: list[Built]) -> None:

    table = Table(title="local base set debian: imagelab-bases/<role>:debian13", title_justify="left")
    for column in ("role", "size", "state", "seconds", "version"):
        table.add_column(column, justify="right" if column in ("size", "seconds") else "left")
    for b in built:
        table.add_row(
            b.role,
            f"{b.size / 1e6:.1f} MB",
            "cached" if b.cached else "built",
            f"{b.seconds:.1f}",
            _headline(b),
        )
    terminal.out.print(table)


def _headline(built: Built) -> str:
    """The version a user of the role asks about first."""
    for key in ("node", "golang-1.24-go", "python3.13"):
        if key in built.versions:
            return f"{key} {built.versions[key]}"
    return ""
