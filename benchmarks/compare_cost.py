"""How compare's cost grows with the number of images, and where the time goes.

Runs the real `compare` (imagelab.pipeline.run, in this process) for 1, 5, 15 and 30 images -- go-href's
minimal image; go-href's five; every app on one base set; every app on two base sets -- cold and warm,
and times its phases by wrapping the functions compare calls for them:

    bases        build.ensure_bases     the base set is there (built, resolved)
    builds       build.build            the bake of the selected images
    rebuild      rebuild_timing.time_rebuild  a one-line source change, rebuilt image by image
    measuring    pipeline._measure_all    docker save, sizes, closure, exposure (two images at once)
    smoke        image_verdicts.check     containers, probes, structure tests
    other        the rest of the wall time (content keys, the report, the chart)

Cold means an empty BuildKit cache, no image of the apps and nothing measured, with the base sets
already built: their cost from nothing on the benchmark's empty engine is measured first, on a line
of its own above the table. The shared engine's
cache must not be emptied, so cold runs happen on a second engine of this machine (engine/second_engine.py)
whose data root is this benchmark's own: compare talks to it through DOCKER_HOST, as to any engine.
Warm is the same selection again, right after.

    python benchmarks/compare_cost.py [--sizes 1,5,15] [--sets debian,debian12] [--out benchmarks/results.md]
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import platform
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from imagelab import ROOT, apps, bases, build, image_verdicts, pipeline, rebuild_timing
from imagelab.engine import second_engine

PHASES = ("bases", "builds", "rebuild", "measuring", "smoke")
WRAPPED = {
    "bases": (build, "ensure_bases"),
    "builds": (build, "build"),
    "rebuild": (rebuild_timing, "time_rebuild"),
    "measuring": (pipeline, "_measure_all"),
    "smoke": (image_verdicts, "check"),
}
OUT = Path(__file__).with_name("results.md")


@dataclass
class Timing:
    images: int
    state: str  # cold or warm
    sets: tuple[str, ...]
    wall: float = 0.0
    phases: dict[str, float] = field(default_factory=lambda: dict.fromkeys(PHASES, 0.0))
    failed: int = 0

    @property
    def other(self) -> float:
        return max(0.0, self.wall - sum(self.phases.values()))


@contextlib.contextmanager
def timed_phases(into: dict[str, float]) -> Iterator[None]:
    """Wrap the functions compare calls for each phase; an inner call of the same phase counts once."""
    originals = {name: getattr(module, attr) for name, (module, attr) in WRAPPED.items()}
    active: set[str] = set()

    def wrap(name: str, function: Callable) -> Callable:
        @functools.wraps(function)
        def timed(*args, **kwargs):
            if name in active:
                return function(*args, **kwargs)
            active.add(name)
            started = time.monotonic()
            try:
                return function(*args, **kwargs)
            finally:
                into[name] += time.monotonic() - started
                active.discard(name)

        return timed

    for name, (module, attr) in WRAPPED.items():
        setattr(module, attr, wrap(name, originals[name]))
    try:
        yield
    finally:
        for name, (module, attr) in WRAPPED.items():
            setattr(module, attr, originals[name])


def selection(size: int, sets: list[str]) -> dict[str, list[apps.Variant]]:
    """The images of a size, by base set: 1, 5 (one app), 15 (every app), 30 (every app on two sets)."""
    found = apps.discover()
    first = bases.open_set(sets[0])
    per_set = {
        1: apps.select(found, ["go-href"], ["minimal"], first),
        5: apps.select(found, ["go-href"], [], first),
    }
    if size in per_set:
        return {sets[0]: per_set[size]}
    chosen = {s: apps.select(found, [], [], bases.open_set(s)) for s in sets[: max(1, size // 15)]}
    if sum(len(v) for v in chosen.values()) != size:
        sys.exit(f"error: {size} images need {size // 15} base sets; got --sets {','.join(sets)}")
    return chosen


def run_compare(variants_by_set: dict[str, list[apps.Variant]], state: str, cache: Path) -> Timing:
    timing = Timing(sum(len(c) for c in variants_by_set.values()), state, tuple(variants_by_set))
    pipeline.CACHE = cache  # the memory of measured images and compressed layers: empty when cold
    started = time.monotonic()
    build._resolved.cache_clear()  # each run resolves its sets again, as a compare process does
    with timed_phases(timing.phases), tempfile.TemporaryDirectory(prefix="imagelab-bench-") as results:
        for base_set, variants in variants_by_set.items():
            options = pipeline.Options(
                base_set=bases.open_set(base_set), fresh=state == "cold", results=Path(results) / base_set
            )
            timing.failed += pipeline.run(variants, options).status != 0
    timing.wall = time.monotonic() - started
    return timing


def bases_first(sets: list[str], kept: bool) -> str:
    """Each base set made ready on the benchmark's engine before the rows: one line of figures."""
    figures = []
    for name in sets:
        started = time.monotonic()
        build.ensure_bases(bases.open_set(name))
        figures.append(f"{name} {time.monotonic() - started:.0f} s")
    how = (
        "checked on the kept engine (--keep-engine)"
        if kept
        else "built from nothing on the benchmark's engine"
    )
    return f"The base sets, {how} first: " + ", ".join(figures) + "."


def empty_caches(engine: second_engine.SecondEngine, cache: Path) -> None:
    """Cold: no build cache and no app image on the benchmark's engine, nothing measured."""
    client = engine.client()
    client.api.prune_builds(all=True)
    for image in client.images.list(name="imagelab/*"):
        for tag in image.tags:
            client.images.remove(tag, force=True)
    shutil.rmtree(cache, ignore_errors=True)


def table(rows: list[Timing], note: str) -> str:
    lines = [
        note,
        "",
        "| images | base sets | state | wall s | bases | builds | rebuild | measuring | smoke | other | s per image |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        phases = " | ".join(f"{row.phases[p]:.1f}" for p in PHASES)
        lines.append(
            f"| {row.images} | {', '.join(row.sets)} | {row.state} | {row.wall:.1f} | {phases} | "
            f"{row.other:.1f} | {row.wall / row.images:.1f} |"
            + (f" {row.failed} failed" if row.failed else "")
        )
    return "\n".join(lines) + "\n"


def machine() -> str:
    load = os.getloadavg()[0]
    return f"{os.cpu_count()} cores, {platform.machine()}, Linux {platform.release()}, load {load:.1f} at the start"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1,5,15,30", help="numbers of images (1, 5, 15, 30)")
    parser.add_argument("--sets", default="debian,debian12", help="base sets, in order of use")
    parser.add_argument(
        "--out", type=Path, default=OUT, help="the Markdown table (default benchmarks/results.md)"
    )
    parser.add_argument("--keep-engine", action="store_true", help="keep the benchmark engine's data root")
    args = parser.parse_args()
    # As the CLI does: a benchmark started from a script's background still stops on SIGINT.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sizes = [int(s) for s in args.sizes.split(",")]
    sets = [s for s in args.sets.split(",") if s]
    state = ROOT / ".imagelab" / "bench"
    cache = state / "cache"
    note = f"compare's cost, measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}."
    rows: list[Timing] = []
    paths = second_engine._Paths(data_root=state / "engine")
    if not args.keep_engine:
        shutil.rmtree(paths.data_root, ignore_errors=True)
    with second_engine.second_engine(paths=paths) as engine:
        os.environ["DOCKER_HOST"] = engine.host  # compare, the SDK and buildx all use this engine
        note += "\n\n" + bases_first(sets[: max(1, max(sizes) // 15)], args.keep_engine)
        for size in sizes:
            chosen = selection(size, sets)
            for state_name in ("cold", "warm"):
                if state_name == "cold":
                    empty_caches(engine, cache)
                row = run_compare(chosen, state_name, cache)
                rows.append(row)
                print(table([row], "").splitlines()[-1], file=sys.stderr, flush=True)
                args.out.write_text(table(rows, note))
    print(table(rows, note))
    return 0


if __name__ == "__main__":
    sys.exit(main())
