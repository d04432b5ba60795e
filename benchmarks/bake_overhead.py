"""How much the harness adds to a bare `docker buildx bake` of the same targets.

Both build the same bake file, one after the other, each from the same cache state: with --cold the
BuildKit cache is emptied before each (base images stay), so both build everything; without it both
find everything cached and the figure is the harness's own overhead. The order alternates across
rounds so that neither side always goes first.

    python benchmarks/bake_overhead.py [--app A] [--cold] [--rounds N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from imagelab import apps, bases, build, engine
from imagelab.bases.sets import BaseSet
from imagelab.engine import bake, bootstrap


def bare_bake(definition: dict) -> float:
    path = build.write_bake_file(definition, "docker-bake.bench.json")
    started = time.monotonic()
    bake.bare_bake(path)
    return time.monotonic() - started


def harness_build(variants: list, base_set: BaseSet) -> float:
    started = time.monotonic()
    built = build.build(variants, base_set)
    seconds = time.monotonic() - started
    failed = [b.variant.target for b in built if not b.result.ok]
    if failed:
        sys.exit(f"error: {', '.join(failed)} did not build")
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--app", action="append", default=[])
    parser.add_argument("--cold", action="store_true", help="empty the BuildKit cache before each build")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    bootstrap.ensure_engine()
    debian = build.ensure_bases(bases.open_set("debian"))
    variants = apps.select(apps.discover(), args.app, (), debian)
    definition = build.bake_definition(variants, debian)
    bare_bake(definition)  # a first build of everything, so that warm rounds start warm
    times: dict[str, list[float]] = {"bare bake": [], "harness": []}
    for round_number in range(args.rounds):
        order = ["bare bake", "harness"] if round_number % 2 == 0 else ["harness", "bare bake"]
        for side in order:
            if args.cold:
                engine.prune_build_cache()
            seconds = bare_bake(definition) if side == "bare bake" else harness_build(variants, debian)
            times[side].append(seconds)
            print(f"round {round_number + 1}: {side:9} {seconds:7.1f} s", flush=True)
    bare, ours = statistics.median(times["bare bake"]), statistics.median(times["harness"])
    state = "cold" if args.cold else "warm"
    print(
        f"{len(variants)} targets, {state}, median of {args.rounds}: bare bake {bare:.1f} s, "
        f"harness {ours:.1f} s, ratio {ours / bare:.2f}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
