"""How long a rebuild takes after a one-line source change, image by image: the figure that shows
whether a Dockerfile's layer order keeps the dependencies cached when only the source moves.

The change is a comment line added to each app's source file and always taken out again; the images are
rebuilt alone, as build.cold_builds builds them, so that the two figures compare.
"""

from __future__ import annotations

import contextlib
import fcntl
import uuid
from collections.abc import Iterator

from imagelab import build
from imagelab.apps import App, Variant
from imagelab.bases.sets import BaseSet
from imagelab.engine.bake import TargetResult
from imagelab.terminal import terminal

CHANGE_MARKER = "imagelab: a one-line source change to time the rebuild"


@contextlib.contextmanager
def source_changed(apps: list[App]) -> Iterator[None]:
    """Add one comment line to each app's source file, and put the files back however we leave.

    One run at a time per checkout (a lock): two runs that each put back what they read would leave the
    other's line in. A line a killed run could not take back is taken out first: no program writes it."""
    build.SCRATCH.mkdir(parents=True, exist_ok=True)
    with (build.SCRATCH / "source-change.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        originals = {app.source_file: _without_change(app.source_file.read_bytes()) for app in apps}
        try:
            for app in apps:
                line = f"\n{app.comment} {CHANGE_MARKER} ({uuid.uuid4().hex})\n"
                app.source_file.write_bytes(originals[app.source_file] + line.encode())
            yield
        finally:
            for path, content in originals.items():
                path.write_bytes(content)


def _without_change(source: bytes) -> bytes:
    """The source without the lines (and the blank line before each) that source_changed adds."""
    lines = source.decode("utf-8", "surrogateescape").split("\n")
    kept: list[str] = []
    for line in lines:
        if CHANGE_MARKER in line:
            if kept and not kept[-1].strip():
                kept.pop()
            continue
        kept.append(line)
    return "\n".join(kept).encode("utf-8", "surrogateescape")


def time_rebuild(
    variants: list[Variant], base_set: BaseSet, builder: str | None = None, context: str | None = None
) -> dict[str, TargetResult]:
    """Rebuild each variant alone after a one-line source change, as build.cold_builds builds it alone, so
    that the two compare; then rebuild the committed source (from the cache) so that the tag points at
    it again. Results of the changed builds, by target."""
    base_set = build.ensure_bases(base_set)
    apps = list({v.app.name: v.app for v in variants}.values())
    terminal.step(
        f"timing a rebuild after a one-line change to {', '.join(a.name for a in apps)}, image by image"
    )
    changed = {}
    for variant in variants:
        definition = build.bake_definition([variant], base_set)
        with source_changed([variant.app]):
            changed.update(build.run_bake(definition, "docker-bake.rebuild.json", builder, context=context))
        build.run_bake(definition, "docker-bake.rebuild.json", builder, quiet=True, context=context)
    return changed
