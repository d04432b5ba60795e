"""Command line of the harness: `python -m imagelab COMMAND`; the noxfile's sessions call it."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from imagelab import ROOT
from imagelab.errors import ConfigError, ImagelabError
from imagelab.terminal import terminal


def cmd_engine(args: argparse.Namespace) -> int:
    terminal.info(ensure_engine().describe())
    return 0


def ensure_engine():
    """Every command that needs the engine starts here, so a fresh machine needs nothing run before."""
    from imagelab.engine import bootstrap

    return bootstrap.ensure_engine(log=terminal.step)


def ensure_registry():
    """Every command that needs the registry of the local base sets starts it here (idempotent)."""
    from imagelab.engine import registry

    return registry.ensure_registry(log=terminal.step)


def cmd_registry(args: argparse.Namespace) -> int:
    from imagelab.engine import registry

    if args.stop:
        terminal.info(registry.stop_registry())
        return 0
    running = ensure_registry()
    how = "started" if running.started_here else "answers"
    terminal.info(f"registry {how} at {running.address} ({running.url})")
    return 0


def add_registry_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--stop", action="store_true", help="stop the registry this checkout started")


def selected(args: argparse.Namespace) -> list:
    """The matrix cells named by --app/--variant/--bases (all of them when none are given)."""
    from imagelab import apps, bases

    base_set = bases.resolve(args.bases)
    return apps.select(apps.discover(), args.app, args.variant, base_set)


def cmd_matrix(args: argparse.Namespace) -> int:
    cells = [
        {"app": v.app.name, "variant": v.name, "bases": v.base_set, "target": v.target, "tag": v.tag}
        for v in selected(args)
    ]
    terminal.out.print_json(data=cells) if terminal.out.is_terminal else print(json.dumps(cells, indent=2))
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    from imagelab import build

    cells = selected(args)
    ensure_engine()
    built = build.build(cells, cells[0].base_set if cells else args.bases, builder=args.builder)
    failed = [b for b in built if not b.result.ok]
    terminal.info(f"{len(built) - len(failed)} of {len(built)} images built")
    return 1 if failed else 0


def cmd_bases(args: argparse.Namespace) -> int:
    from imagelab import bases
    from imagelab.bases import command

    if bases.resolve(bases.check_base_set(args.bases)) == bases.LOCAL_SET:
        ensure_engine()
    return command.cmd_bases(args)


def add_bases_options(command: argparse.ArgumentParser) -> None:
    from imagelab.bases import command as bases_command

    bases_command.add_arguments(command)


def cmd_smoke(args: argparse.Namespace) -> int:
    from imagelab import engine
    from imagelab.checks import smoke, structure

    cells = selected(args)
    if not cells:
        raise ConfigError("no image matches the selectors", hint="`nox -s matrix` lists the images")
    ensure_engine()
    run_id, failed = smoke.new_run_id(), 0
    for variant in cells:
        if not engine.image_id(variant.tag):  # smoke builds nothing: compare builds, then smokes
            terminal.error(f"missing image {variant.tag}: build it with `{smoke.build_command(variant)}`")
            failed += 1
            continue
        terminal.step(variant.tag)
        result, contract = smoke.check(variant, run_id), structure.check(variant)
        for line in smoke.summary(result) + structure.summary(contract):
            terminal.info(f"  {line}")
        failed += not (result.passed and contract.passed)
    terminal.info(f"{len(cells) - failed} of {len(cells)} images passed (run {run_id})")
    return 1 if failed else 0


def cmd_lint(args: argparse.Namespace) -> int:
    from imagelab.checks import lint

    result = lint.lint()
    for line in lint.summary(result):
        (terminal.info if result.passed or not line.startswith("FAIL") else terminal.error)(line)
    return 0 if result.passed else 1


def cmd_clean(args: argparse.Namespace) -> int:
    from imagelab import engine

    ensure_engine()
    containers, networks = engine.remove_labelled(args.run)
    removed = ", ".join(containers + networks)
    label = f"{engine.RUN_LABEL}={args.run}" if args.run else engine.RUN_LABEL
    terminal.info(
        f"removed {len(containers)} containers and {len(networks)} networks labelled {label}"
        + (f": {removed}" if removed else "")
    )
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from imagelab.report import jsonfile

    path = ROOT / "results" / "compare.schema.json"
    path.write_text(jsonfile.schema_text())
    terminal.info(f"wrote {path.relative_to(ROOT)}")
    return 0


def add_run(command: argparse.ArgumentParser) -> None:
    command.add_argument("--run", default="", metavar="ID", help="only what this run left (default: any run)")


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
        help="base set: official, debian or auto (default: debian)",
    )


def add_builder(command: argparse.ArgumentParser) -> None:
    command.add_argument("--builder", metavar="NAME", help="a buildx builder (e.g. a remote BuildKit)")


def cmd_compare(args: argparse.Namespace) -> int:
    from imagelab import compare
    from imagelab.report import accepted

    cells = selected(args)
    thresholds = gate_thresholds(args)
    accepted.load(args.accepted)  # a malformed entry is refused before an hour of building
    ensure_engine()
    options = compare.Options(
        base_set=cells[0].base_set if cells else args.bases,
        builder=args.builder,
        baseline=args.baseline,
        update_baseline=args.update_baseline,
        update_readme=args.update_readme,
        fresh=args.fresh,
        cold=args.cold,
        thresholds=thresholds,
        results=args.results,
        # Only a run of the whole matrix is a point of the trend: a run of one app would be a dip.
        history=None if args.app or args.variant else args.history or args.results / "history.jsonl",
        accepted=args.accepted,
    )
    if options.baseline is not None and not options.update_baseline:
        compare.gate.load(options.baseline)  # a bad baseline is refused before an hour of building
    return compare.run(cells, options)


def add_compare_options(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--baseline",
        type=Path,
        metavar="FILE",
        help="fail when the run regresses against this report (e.g. results/baseline.json)",
    )
    command.add_argument(
        "--update-baseline",
        action="store_true",
        help="write this run as the baseline (--baseline FILE, default results/baseline.json)",
    )
    command.add_argument("--update-readme", action="store_true", help="write the tables into README.md")
    command.add_argument(
        "--results",
        type=Path,
        default=ROOT / "results",
        metavar="DIR",
        help="where compare.md, compare.json and sizes.svg go (default results/)",
    )
    command.add_argument("--fresh", action="store_true", help="measure and check every image again")
    command.add_argument(
        "--history",
        type=Path,
        metavar="FILE",
        help="where a run of every image appends itself (default: history.jsonl beside the report)",
    )
    command.add_argument(
        "--cold",
        action="store_true",
        help="build each image alone from an empty cache first: cold build times",
    )


def add_gate_options(command: argparse.ArgumentParser) -> None:
    from imagelab.report import gate

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


def gate_thresholds(args: argparse.Namespace):
    """The gate's limits from the command line: the size and package flags, then each --limit."""
    from imagelab.report import gate

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


def cmd_bump(args: argparse.Namespace) -> int:
    from imagelab import bump

    options = bump.Options(
        results=args.results,
        name=args.name,
        thresholds=gate_thresholds(args),
        accepted=args.accepted,
        fresh=args.fresh,
        builder=args.builder,
    )
    if not (bump.is_report(args.old) and bump.is_report(args.new)):
        ensure_engine()
    return bump.run(args.old, args.new, options)


def add_bump_options(command: argparse.ArgumentParser) -> None:
    for flag, dest, side in (("--from", "old", "before"), ("--to", "new", "after")):
        command.add_argument(
            flag,
            dest=dest,
            required=True,
            metavar="SET|FILE",
            help=f"the {side} side: a base set (measured where needed) or a compare.json",
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


def cmd_trend(args: argparse.Namespace) -> int:
    from imagelab.report import history

    output = args.output or args.history.with_name("trend.svg")
    if not history.trend(history.read(args.history), output, args.last):
        raise ConfigError(
            f"{args.history} has no image sizes to draw", hint="run a full `nox -s compare` first"
        )
    terminal.info(f"wrote {output} from the last {args.last} runs of {args.history}")
    return 0


def add_trend_options(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--history", type=Path, default=ROOT / "results" / "history.jsonl", metavar="FILE", help="the runs"
    )
    command.add_argument("--output", type=Path, metavar="FILE", help="default: trend.svg beside the history")
    command.add_argument("--last", type=int, default=20, metavar="N", help="how many runs (default 20)")


#: name -> (handler, one-line help, options). Options are functions that add arguments to the command.
COMMANDS: dict[str, tuple[Callable[[argparse.Namespace], int], str, tuple]] = {
    "engine": (
        cmd_engine,
        "make sure a Docker engine with buildx answers (install and start it on Debian)",
        (),
    ),
    "registry": (
        cmd_registry,
        "make sure the registry of the local base sets answers (127.0.0.1:5000 or $IMAGELAB_REGISTRY)",
        (add_registry_options,),
    ),
    "compare": (
        cmd_compare,
        "build, smoke-test and measure the variants; report and gate against a baseline",
        (add_selectors, add_builder, add_compare_options, add_gate_options),
    ),
    "bump": (
        cmd_bump,
        "what changed from one base set (or compare.json) to another; gate on it",
        (add_bump_options, add_builder, add_gate_options),
    ),
    "trend": (
        cmd_trend,
        "draw results/trend.svg: size per variant over the recorded runs",
        (add_trend_options,),
    ),
    "matrix": (cmd_matrix, "print the app x variant x base-set matrix as JSON", (add_selectors,)),
    "build": (cmd_build, "build the selected variants with docker buildx bake", (add_selectors, add_builder)),
    "bases": (
        cmd_bases,
        "build the local debian base set (cached) or list a set's images",
        (add_bases_options,),
    ),
    "smoke": (
        cmd_smoke,
        "run, probe and structure-test the selected images (builds nothing)",
        (add_selectors,),
    ),
    "lint": (cmd_lint, "hadolint every Dockerfile; allowed findings are listed with their reasons", ()),
    "schema": (cmd_schema, "write results/compare.schema.json, the JSON Schema of compare.json", ()),
    "clean": (
        cmd_clean,
        "remove the containers and networks labelled imagelab.run (of any run, or --run ID)",
        (add_run,),
    ),
}


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="imagelab", description=__doc__)
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (_, help_text, options) in COMMANDS.items():
        command = sub.add_parser(name, help=help_text, description=help_text)
        for add in options:
            add(command)
    return top


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    handler = COMMANDS[args.command][0]
    # `kill`, a CI timeout, or nox giving up on a Ctrl-C'd command send SIGTERM: clean up as for Ctrl-C.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        return handler(args)
    except ImagelabError as exc:
        terminal.error(exc.render())
        return 1
    except KeyboardInterrupt:
        terminal.error("interrupted: containers this run started were removed")
        return 130
    except Exception as exc:
        from imagelab import engine

        lost = engine.explain(exc)  # the engine went away or refused: one line, not a traceback
        if lost is None:
            raise
        terminal.error(lost.render())
        return 1
    finally:
        signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
