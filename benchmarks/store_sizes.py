"""The same images' sizes, counted five ways, on the classic and on the containerd image store.

Each image (a stand-in of the local base set, pulled by tag from the project's registry, so both
engines hold the very same layers) is read as compare reads it -- the bytes of its unpacked files, its
gzip'd layers -- and listed as the engine lists it: `docker image inspect`'s Size, `docker images`, and
`docker system df -v`'s SIZE, SHARED and UNIQUE. The second engine starts empty apart from these
images, so its SHARED column shows what they share with each other.

    python benchmarks/store_sizes.py [--store containerd] [--kind forky] [REF ...]
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from imagelab import engine
from imagelab.engine import registry, second_engine
from imagelab.inspect import imagefs
from imagelab.inspect import sizes as image_sizes
from imagelab.report.sizes import docker_size

DEFAULT_REFS = [
    "imagelab-bases/static:debian13",
    "imagelab-bases/python-slim:debian13",
    "imagelab-bases/python-distroless:debian13",
]


def sizes(refs: list[str]) -> dict[str, list[str]]:
    """For each image: files, pull, the engine's Size, docker images, df SIZE, SHARED, UNIQUE."""
    for ref in refs:  # all pulled first: SHARED counts what the others hold too
        registry.pull(ref)
    found = {}
    with tempfile.TemporaryDirectory() as empty:
        gzipped = image_sizes.CompressedSizes(Path(empty) / "compressed.json")
        for ref in refs:
            with imagefs.saved(ref) as fs:
                files, pull = fs.size, gzipped.of_image(fs)
            listed = engine.listed_sizes(ref)
            assert listed is not None, f"{ref} is not listed"
            found[ref] = [
                f"{files / 2**20:.1f} MiB ({docker_size(files)})",
                f"{pull / 2**20:.1f} MiB ({docker_size(pull)})",
                docker_size(engine.image_size(ref)),
                docker_size(listed.listed),
                docker_size(listed.disk),
                docker_size(listed.shared, 4),
                docker_size(listed.unique, 4),
            ]
    return found


def _print(name: str, rows: dict[str, list[str]]) -> None:
    for ref, cells in rows.items():
        print(f"| {name} | {ref.rsplit('/', 1)[-1]} | " + " | ".join(cells) + " |", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("refs", nargs="*", help="repositories in the project's registry, host:port left out")
    parser.add_argument("--store", default="containerd", help="the second engine's image store")
    parser.add_argument("--kind", default="forky", help="the second engine's kind (engine/kinds.py)")
    args = parser.parse_args()
    refs = [f"{registry.address()}/{ref}" for ref in (args.refs or DEFAULT_REFS)]
    # Rows as each engine is done: the second engine waits for its machine-wide lock, maybe long.
    print(
        "| engine | image | files | pull (gzip) | inspect Size | docker images | df SIZE | SHARED | UNIQUE |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|", flush=True)
    _print(engine.describe(), sizes(refs))
    with second_engine.second_engine(log=lambda _: None, kind=args.kind, store=args.store) as other:
        os.environ["DOCKER_HOST"] = other.host
        engine.client.cache_clear()
        _print(engine.describe(), sizes(refs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
