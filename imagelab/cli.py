"""Command line of the harness: `python -m imagelab COMMAND`; the noxfile's sessions call it."""

from __future__ import annotations

import argparse
import dataclasses
import signal
import sys
from collections.abc import Callable, Sequence

from imagelab import ROOT, bump_command, compare_command
from imagelab.errors import ConfigError, ImagelabError
from imagelab.terminal import terminal


def cmd_engine(args: argparse.Namespace) -> int:
    from imagelab.engine import bootstrap

    terminal.info(bootstrap.ensure_engine(log=terminal.step, kind=args.engine, store=args.store).describe())
    return 0


def add_engine_options(command: argparse.ArgumentParser) -> None:
    from imagelab.engine import bootstrap

    command.add_argument(
        "--engine",
        choices=sorted(bootstrap.KINDS),
        help=f"the engine to start (default {bootstrap.DEFAULT_KIND}; also ${bootstrap.ENGINE_ENV}): "
        + "; ".join(f"{k.name}: {k.describe}" for k in bootstrap.KINDS.values()),
    )
    command.add_argument(
        "--store",
        choices=bootstrap.STORES,
        help=f"its image store (default {bootstrap.DEFAULT_STORE}; also ${bootstrap.STORE_ENV})",
    )


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


def selected(args: argparse.Namespace, resolve: bool = False) -> list:
    """The matrix cells named by --app/--variant/--bases (all of them when none are given).

    The base set is opened here, once; `resolve` also makes its images available and resolves every
    role to a digest (building and pushing the local stand-ins). A cell whose base the set lacks is
    reported and left out: it is not in this base set, which is no failure."""
    from imagelab import apps, bases, build

    base_set = bases.open_set(args.bases)
    # A role bases.toml does not know is a typo, not a cell this set leaves out: refuse it by name.
    every_role = {bases.arg_of(role): role for role in bases.load_recipes().roles}
    cells = []
    for cell in apps.select(apps.discover(), args.app, args.variant, base_set):
        build.check_base_roles(cell.app.dockerfile(cell.name), every_role)
        missing = base_set.missing(cell.app.dockerfile(cell.name))
        if missing:
            terminal.info(
                f"{cell.app.name}/{cell.name}: not in this base set ({base_set.name} has no {', '.join(missing)})"
            )
        else:
            cells.append(cell)
    if resolve and cells:
        ensure_engine()
        if not (getattr(args, "builder", None) or getattr(args, "build_on", None)):
            # A Dockerfile newer than this engine is left out, as a cell the set lacks is: not a failure.
            from imagelab import engine, needs

            version = engine.versions()
            cells, left_out = needs.within_engine(cells, version["Version"], version["ApiVersion"])
            for line in left_out:
                terminal.info(line)
        used = {role for cell in cells for role in bases.roles_of(cell.app.dockerfile(cell.name))}
        base_set = bases.resolve(base_set, sorted(used)).base_set
        cells = [dataclasses.replace(cell, base_set=base_set) for cell in cells]
    return cells


def cmd_matrix(args: argparse.Namespace) -> int:
    from imagelab import matrix

    return matrix.cmd_matrix(args)


def cmd_merge(args: argparse.Namespace) -> int:
    from imagelab import matrix

    return matrix.cmd_merge(args, bump_command.gate_thresholds(args))


def add_matrix_options(command: argparse.ArgumentParser) -> None:
    from imagelab import matrix

    matrix.add_matrix_options(command)


def add_merge_options(command: argparse.ArgumentParser) -> None:
    from imagelab import matrix

    matrix.add_merge_options(command)


def cmd_build(args: argparse.Namespace) -> int:
    from imagelab import build

    cells = selected(args, resolve=True)
    built = build.build(cells, cells[0].base_set if cells else args.bases, builder=args.builder)
    failed = [b for b in built if not b.result.ok]
    terminal.info(f"{len(built) - len(failed)} of {len(built)} images built")
    return 1 if failed else 0


def cmd_bases(args: argparse.Namespace) -> int:
    from imagelab.bases import command

    if not args.check:
        ensure_engine()  # local stand-ins are built and pushed; --check only asks registries
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


def cmd_explain(args: argparse.Namespace) -> int:
    from imagelab import explain

    if not args.app and not args.variant:
        raise ConfigError("explain needs an image", hint="nox -s explain -- --app APP --variant VARIANT")
    cells = selected(args)
    if not cells:
        raise ConfigError("no image matches the selectors", hint="`nox -s matrix` lists the images")
    ensure_engine()
    for variant in cells:
        explain.explain(variant)
    return 0


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
        help="base set: official, debian, debian12, auto, or a set file (.toml); default debian",
    )


def add_builder(command: argparse.ArgumentParser) -> None:
    command.add_argument("--builder", metavar="NAME", help="a buildx builder (e.g. a remote BuildKit)")


#: name -> (handler, one-line help, options). Options are functions that add arguments to the command.
COMMANDS: dict[str, tuple[Callable[[argparse.Namespace], int], str, tuple]] = {
    "engine": (
        cmd_engine,
        "make sure a Docker engine with buildx answers (install and start it on Debian)",
        (add_engine_options,),
    ),
    "registry": (
        cmd_registry,
        "make sure the registry of the local base sets answers (127.0.0.1:5000 or $IMAGELAB_REGISTRY)",
        (add_registry_options,),
    ),
    "compare": (
        compare_command.cmd_compare,
        "build, smoke-test and measure the variants; report and gate against a baseline",
        (add_selectors, add_builder, compare_command.add_compare_options, bump_command.add_gate_options),
    ),
    "bump": (
        bump_command.cmd_bump,
        "what changed from one base set (or compare.json) to another; gate on it",
        (bump_command.add_bump_options, add_builder, bump_command.add_gate_options),
    ),
    "trend": (
        bump_command.cmd_trend,
        "draw results/trend.svg: size per variant over the recorded runs",
        (bump_command.add_trend_options,),
    ),
    "matrix": (
        cmd_matrix,
        "print the CI matrix as JSON: one compare command per app and base set (--bases a,b)",
        (add_selectors, add_matrix_options),
    ),
    "merge": (
        cmd_merge,
        "merge the compare.json of every matrix cell under DIR into one report per base set, and gate it",
        (add_merge_options, bump_command.add_gate_options),
    ),
    "build": (cmd_build, "build the selected variants with docker buildx bake", (add_selectors, add_builder)),
    "bases": (
        cmd_bases,
        "make a base set's images available by digest (local stand-ins built, cached); --check for moves",
        (add_bases_options,),
    ),
    "smoke": (
        cmd_smoke,
        "run, probe and structure-test the selected images (builds nothing)",
        (add_selectors,),
    ),
    "explain": (
        cmd_explain,
        "an image layer by layer (Dockerfile line, size, folders, what it hides) and where its bytes go",
        (add_selectors,),
    ),
    "lint": (
        cmd_lint,
        "hadolint and build checks on every Dockerfile; allowed findings with their reasons",
        (),
    ),
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
    # A background job of a script starts with SIGINT ignored, and Python keeps it so: a `kill -INT`
    # (what a terminal's Ctrl-C sends) must still stop the run and clean up.
    previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)
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
        signal.signal(signal.SIGINT, previous_int)


if __name__ == "__main__":
    sys.exit(main())
