"""What an image costs: size, what a pull transfers, layers (the base images it names: origin.py).

Compressed size is what a registry push or pull moves: each layer as a gzip'd tar. A layer of a base image
that sits in the project's registry has its size in the manifest (engine/manifests.py); the others we
gzip from `docker save` ourselves. Both are remembered by layer digest, so layers shared by several
images are counted once.
"""

from __future__ import annotations

import json
import re
import threading
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from imagelab import engine
from imagelab.engine import manifests
from imagelab.inspect import origin
from imagelab.inspect.imagefs import ImageFS

GZIP_LEVEL = 6  # what docker push and BuildKit use by default


@dataclass
class ImageMeasure:
    image_id: str
    size: int
    engine_size: int
    compressed_size: int
    layers: int
    store: str = "classic"  # the engine's image store
    listed: engine.ListedSizes | None = None  # what `docker images` and `docker system df -v` print
    base_images: list[origin.StageBase] = field(default_factory=list)


def instruction(created_by: str) -> str:
    """History says '/bin/sh -c #(nop)  CMD [...]' or 'RUN /bin/sh -c ...'; keep what a reader wrote."""
    text = created_by.replace("/bin/sh -c #(nop) ", "").strip()
    return re.sub(r"\s+", " ", text)[:120]


class CompressedSizes:
    """gzip'd size of layers by their digest, kept in a JSON file between runs. Images measured at once
    share it (a lock guards the figures and the file; the gzip itself runs outside it)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.known: dict[str, int] = json.loads(path.read_text()) if path.exists() else {}
        self._lock = threading.RLock()

    def of_image(self, fs: ImageFS) -> int:
        with self._lock:
            missing = [layer for layer in fs.layers if layer.diff_id not in self.known]
        sizes = {}
        for layer in missing:
            with fs.open_layer(layer.index) as stream:
                # Stored gzip'd (the containerd image store): that blob is what a push sends.
                sizes[layer.diff_id] = (
                    _stored_size(stream) if fs.stored_compressed(layer.index) else _gzip_size(stream)
                )
        with self._lock:
            if sizes:
                self.learn(sizes)
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.path.write_text(json.dumps(self.known, indent=0, sort_keys=True))
            return sum(self.known[layer.diff_id] for layer in fs.layers)

    def learn(self, sizes: dict[str, int]) -> None:
        """Sizes a registry's manifest gives (engine/manifests.py): those layers need no gzip of ours.
        A layer already known keeps its figure, so a report does not move between runs."""
        with self._lock:
            for diff_id, size in sizes.items():
                self.known.setdefault(diff_id, size)


def _stored_size(stream: IO[bytes]) -> int:
    return stream.seek(0, 2)


def _gzip_size(stream: IO[bytes]) -> int:
    packer = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)  # wbits 31: the gzip format
    total = 0
    while chunk := stream.read(1 << 20):
        total += len(packer.compress(chunk))
    return total + len(packer.flush())


def measure_image(
    tag: str,
    dockerfile: Path,
    build_args: dict[str, str],
    fs: ImageFS,
    compressed: CompressedSizes,
    replaced: dict[str, str] | None = None,
) -> ImageMeasure:
    """What the image `tag`, built from `dockerfile` with `build_args` (and `replaced`, the named contexts
    its base set put in place of plain references), costs; `fs` is its saved files."""
    bases = origin.base_images(dockerfile, build_args, replaced)
    for base in bases:  # the base set is in the registry: its layers' compressed sizes cost no gzip
        compressed.learn(manifests.pushed_layer_sizes(base.ref))
    return ImageMeasure(
        image_id=engine.image_id(tag),
        size=fs.size,
        engine_size=engine.image_size(tag),
        compressed_size=compressed.of_image(fs),
        layers=len(fs.layers),
        base_images=bases,
        store=engine.image_store(),
        listed=engine.listed_sizes(tag),
    )
