"""`smoke`: run, probe and structure-test built images (builds nothing)."""

from __future__ import annotations

import argparse

from imagelab.commands import flags
from imagelab.errors import ConfigError
from imagelab.terminal import terminal

HELP = "run, probe and structure-test the selected images (builds nothing)"


def add_arguments(command: argparse.ArgumentParser) -> None:
    flags.add_engine(command)
    flags.add_selectors(command)


def run(args: argparse.Namespace) -> int:
    from imagelab import engine, selection
    from imagelab.checks import smoke, smoke_result, structure

    variants = flags.selected(args)
    if not variants:
        raise ConfigError("no image matches the selectors", hint="`nox -s matrix` lists the images")
    selection.ensure_engine()
    run_id, failed = smoke.new_run_id(), 0
    for variant in variants:
        if not engine.image_id(variant.tag):  # smoke builds nothing: compare builds, then smokes
            terminal.error(f"missing image {variant.tag}: build it with `{smoke.build_command(variant)}`")
            failed += 1
            continue
        terminal.step(variant.tag)
        result, contract = smoke.check(variant, run_id), structure.check(variant)
        for line in smoke_result.summary(result) + structure.summary(contract):
            terminal.info(f"  {line}")
        failed += not (result.passed and contract.passed)
    terminal.info(f"{len(variants) - failed} of {len(variants)} images passed (run {run_id})")
    return 1 if failed else 0
