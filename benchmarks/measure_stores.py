"""How long measuring one image takes on the classic and on the containerd image store.

The same images (the local base set's stand-ins, pulled by digest from the project's registry) are
measured the way compare measures them -- `docker save`, every layer read, sizes, closure, packages --
on the engine in use and on a second engine beside it with the other store. On the containerd store
`docker save` writes gzip'd layers, which the harness unpacks once before reading.

    python benchmarks/measure_stores.py [--store containerd] [--rounds N] [REF ...]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from imagelab import engine
from imagelab.engine import registry, second_engine
from imagelab.inspect import closure, exposure, imagefs, sizes

DEFAULT_REFS = ["imagelab-bases/python:debian13", "imagelab-bases/golang:debian13"]


def measure_once(ref: str) -> tuple[float, int]:
    """Seconds to save and read `ref` as compare does the first time (no compressed size remembered),
    and its size (to check both stores agree)."""
    with tempfile.TemporaryDirectory() as empty:
        started = time.monotonic()
        with imagefs.saved(ref) as fs:
            closure.runtime_closure(fs)
            exposure.assess(fs)
            sizes.CompressedSizes(Path(empty) / "compressed.json").of_image(fs)
            size = fs.size
        return time.monotonic() - started, size


def rounds(refs: list[str], count: int) -> dict[str, tuple[float, int]]:
    found = {}
    for ref in refs:
        registry.pull(ref)  # by tag from the project's registry: the same image on either engine
        times, size = [], 0
        for _ in range(count):
            seconds, size = measure_once(ref)
            times.append(seconds)
        found[ref] = (statistics.median(times), size)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("refs", nargs="*", help="repositories in the project's registry, host:port left out")
    parser.add_argument("--store", default="containerd", help="the second engine's image store")
    parser.add_argument("--kind", default="forky", help="the second engine's kind (engine/kinds.py)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    refs = [f"{registry.address()}/{ref}" for ref in (args.refs or DEFAULT_REFS)]
    here = rounds(refs, args.rounds)
    in_use = engine.describe()
    with second_engine.second_engine(log=lambda _: None, kind=args.kind, store=args.store) as other:
        os.environ["DOCKER_HOST"] = other.host
        engine.client.cache_clear()
        there_engine = engine.describe()
        there = rounds(refs, args.rounds)
    print(f"median of {args.rounds} rounds, seconds: A = {in_use}; B = {there_engine}")
    print("| image | size | A | B | B / A |")
    print("|---|---:|---:|---:|---:|")
    for ref in refs:
        (a, size), (b, size_b) = here[ref], there[ref]
        assert size == size_b, f"{ref}: {size} bytes on A, {size_b} on B"
        print(f"| {ref.rsplit('/', 1)[-1]} | {size / 2**20:.0f} MiB | {a:.1f} | {b:.1f} | {b / a:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
