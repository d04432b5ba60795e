"""Where an image's layers and packages came from: its base image, or its own Dockerfile.

An image's base layers are its leading layers equal (same diff_id) to the layers of the image its final
stage starts FROM. Which of the Dockerfile's FROM images that is does not need the Dockerfile: it is the
one whose layers are the longest prefix of the image's (a builder stage's base shares none, or fewer).
A package is the base's when the base image's own files list it at the same version; the base's files
are the image's first N layers, read from the same saved archive, so the base image need not be saved.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from imagelab import dockerfile, engine
from imagelab.inspect import exposure, imagefs
from imagelab.inspect.exposure import Package


@dataclass
class StageBase:
    """An image a stage of the Dockerfile builds on (FROM, COPY --from=IMAGE, RUN --mount=from=IMAGE)."""

    ref: str  # what the build used: build arguments applied, the set's image in place of a plain reference
    id: str
    digest: str = ""
    written: str = ""  # as the Dockerfile names it: python:3.13-slim, ${PYTHON_IMAGE}
    line: int = 0  # the first line that names it


def base_images(
    path: Path, build_args: dict[str, str], replaced: dict[str, str] | None = None
) -> list[StageBase]:
    """The images a Dockerfile builds on (FROMs, COPY --from=IMAGE, RUN --mount=from=IMAGE), with its
    ARG defaults overridden as bake does and `replaced` (BaseSet.replaced: a plain reference -> the set's
    image, what a named context put there) applied; stages and scratch are no image."""
    found: list[StageBase] = []
    for use in dockerfile.images(dockerfile.parse_dockerfile(path.read_text()), build_args):
        ref = (replaced or {}).get(use.ref, use.ref)
        if any(b.ref == ref for b in found):
            continue
        image_id, digest = engine.image_id_and_digest(ref)
        # A base passed by digest (ref@sha256:...) names its digest even when the engine keeps no copy.
        found.append(StageBase(ref, image_id, digest or ref.partition("@")[2], use.written, use.line))
    return found


def layer_ids(ref: str) -> list[str]:
    """The diff_ids of a local image's layers, bottom first ([] when the engine does not have it)."""
    return engine.layer_ids(ref)


def shared_prefix(image: list[str], base: list[str]) -> int:
    """How many leading layers the two lists have in common; 0 unless the whole base is a prefix."""
    if not base or image[: len(base)] != base:
        return 0
    return len(base)


def base_layer_count(image: list[str], bases: Iterable[list[str]]) -> int:
    """The number of the image's leading layers that one of its FROM images brought (0: FROM scratch)."""
    return max((shared_prefix(image, base) for base in bases), default=0)


#: Base packages by the diff_ids of the layers that hold them: images of one run on the same base
#: (slim and multistage of an app, say) read them once.
_known: dict[tuple[str, ...], frozenset[Package]] = {}


def base_packages(fs: imagefs.ImageFS, count: int) -> frozenset[Package]:
    """The packages the image's first `count` layers hold: what its base image ships."""
    if count <= 0:
        return frozenset()
    layers = tuple(layer.diff_id for layer in fs.layers[:count])
    if layers not in _known:
        with imagefs.open_archive(fs.archive, layers=count) as base:
            _known[layers] = frozenset(exposure.packages(base))
    return _known[layers]


def split(fs: imagefs.ImageFS, base_refs: Iterable[str]) -> tuple[int, frozenset[Package]]:
    """(base layer count, the base's packages) of a saved image whose Dockerfile starts FROM base_refs."""
    count = base_layer_count([layer.diff_id for layer in fs.layers], (layer_ids(ref) for ref in base_refs))
    return count, base_packages(fs, count)
