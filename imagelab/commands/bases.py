"""`bases`: make a set's images available by digest (building the local stand-ins, cached), or
`--check` whether any base moved since a baseline."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from rich.table import Table

from imagelab import ROOT, selection
from imagelab.bases import check
from imagelab.bases.local import CA_ENV, StandIn
from imagelab.bases.resolution import Resolved, resolve
from imagelab.bases.sets import LOCAL_SET, known_sets, open_set
from imagelab.commands import flags
from imagelab.terminal import terminal

DEFAULT_BASELINE = ROOT / "results" / "baseline.json"
HELP = "make a base set's images available by digest (local stand-ins built, cached); --check for moves"


def add_arguments(command: argparse.ArgumentParser) -> None:
    flags.add_engine(command)
    command.add_argument(
        "--bases",
        default=LOCAL_SET,
        metavar="SET",
        help=f"a base set ({', '.join(known_sets())}) or a set file (.toml); default {LOCAL_SET}",
    )
    command.add_argument("--role", action="append", default=[], help="only this role (repeatable)")
    command.add_argument(
        "--ca-file", type=Path, help=f"extra CA certificates to trust (PEM; default ${CA_ENV} or the host's)"
    )
    command.add_argument(
        "--rebuild", action="store_true", help="build again without caches, e.g. to take Debian's updates"
    )
    command.add_argument(
        "--check",
        action="store_true",
        help="resolve every role without pulling; exit 1 when one moved since the baseline's digests",
    )
    command.add_argument(
        "--baseline",
        type=Path,
        metavar="FILE",
        help="with --check: the report whose digests count (default results/baseline.json where it exists)",
    )
    command.add_argument("--json", action="store_true", help="with --check: print the result as JSON")


def run(args: argparse.Namespace) -> int:
    if args.check:
        return _check(args)
    selection.ensure_engine()  # local stand-ins are built and pushed; --check only asks registries
    base_set = open_set(args.bases)
    for role in args.role:
        if base_set.image(role) is None:
            terminal.info(f"role {role}: not in the base set {base_set.name} ({base_set.path.name})")
    started = time.monotonic()
    resolved = resolve(base_set, args.role or None, ca_file=args.ca_file, rebuild=args.rebuild)
    _print_table(resolved)
    built = sum(1 for s in resolved.stand_ins if not s.cached)
    terminal.info(
        f"base set {base_set.name}: {len(resolved.base_set.images)} roles resolved to digests, "
        f"{len(resolved.stand_ins)} local images ({built} built, {len(resolved.pushed)} pushed), "
        f"in {time.monotonic() - started:.1f} s"
    )
    return 0


def _check(args: argparse.Namespace) -> int:
    baseline = args.baseline or (DEFAULT_BASELINE if DEFAULT_BASELINE.is_file() else None)
    from imagelab import apps

    base_set = open_set(args.bases)
    cells = apps.select(apps.discover(), (), (), base_set)
    dockerfiles = {f"{v.app.name}/{v.name}": v.app.dockerfile(v.name) for v in cells}
    result = check.check(base_set, baseline, dockerfiles, set_argument=args.bases)
    if args.json:
        print(json.dumps(result.to_json(), indent=2))
    else:
        for line in check.summary(result):
            (terminal.error if line.startswith(("FAIL", "MOVED")) else terminal.info)(line)
    return 1 if result.moved or result.failed else 0


def _print_table(resolved: Resolved) -> None:
    base_set = resolved.base_set
    stand_ins = {s.tag: s for s in resolved.stand_ins}
    table = Table(title=f"base set {base_set.name} ({base_set.path.name})", title_justify="left")
    for column in ("role", "reference", "digest", "size", "state", "version"):
        table.add_column(column, justify="right" if column == "size" else "left")
    for image in base_set.images:
        found = stand_ins.get(image.ref.split("/", 1)[-1])
        stand_in = found if found is not None and image.local_repository else None
        state = "pinned" if image.pin else "resolved"
        if stand_in is not None:
            state = ("cached" if stand_in.cached else "built") + (
                ", pushed" if image.role in resolved.pushed else ""
            )
        table.add_row(
            image.role,
            image.ref,
            check.short(image.digest),
            f"{stand_in.size / 1e6:.1f} MB" if stand_in else "",
            state,
            _headline(stand_in) if stand_in else "",
        )
    terminal.out.print(table)


def _headline(stand_in: StandIn) -> str:
    """The version a user of the role asks about first."""
    # buildpack-deps and golang have python3 too, for mercurial: Node.js and Go come first.
    for prefix in ("node", "go", "python3."):
        for key, value in stand_in.versions.items():
            if key == prefix or (prefix.endswith(("-", ".")) and key.startswith(prefix)):
                return f"{key} {value}"
    return ""
