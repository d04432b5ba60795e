"""An image's own files, read from a `docker save` tarball; nothing from the image ever runs.

`docker save` writes a tar of tars: the image config and one tar per layer, oldest first (archive_layout
finds them in either layout engines write). Applying the layers in order, with overlayfs' whiteouts
(`.wh.<name>` deletes a lower path, `.wh..wh..opq` empties a lower directory), gives the merged file
system a container sees.

Only metadata is kept, so a 1 GB image costs a few seconds and some megabytes: tar headers are read
and file data is skipped by seeking. A file's bytes are read when asked, by seeking back to its header
in the layer that holds it.

Waste, two ways:
- `Layer.wasted_bytes` / `wasted_files`: the bytes of a layer's files that a later layer deletes or
  overwrites -- bytes every pull moves that no container can see. They add up exactly:
  sum of layer sizes == visible bytes + wasted bytes.
- `ImageFS.dive`: dive's "potential wasted space" and "image efficiency", for people who compare with
  it (counted as the dive module says).
"""

from __future__ import annotations

import gzip
import posixpath
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Self

from imagelab import engine
from imagelab.inspect import archive_layout, image_config, provenance
from imagelab.inspect.dive import DiveScore, DiveWaste
from imagelab.inspect.image_config import Config, Layer

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
GZIP_MAGIC = b"\x1f\x8b"
MAX_SYMLINK_HOPS = 40  # what Linux allows before ELOOP


@dataclass(frozen=True, slots=True)
class Entry:
    """One path of the merged file system, as the tar header of its newest layer describes it."""

    path: str  # absolute, normalized: "/usr/bin/python3"
    kind: str  # "file", "dir", "symlink", "hardlink" or "other" (devices, fifos)
    size: int  # bytes of a regular file; 0 for everything else
    mode: int  # permission bits, setuid/setgid/sticky included
    uid: int
    gid: int
    link: str  # a symlink's target as written, or a hardlink's target path; "" otherwise
    layer: int  # index of the layer this version comes from
    offset: int  # where its header starts in the layer tar; -1 for a directory implied by its children

    @property
    def executable(self) -> bool:
        return self.kind in ("file", "hardlink") and bool(self.mode & 0o111)


@dataclass(frozen=True, slots=True)
class Removal:
    """A file of one layer that a later layer deletes (whiteout) or overwrites: what makes waste."""

    path: str
    size: int
    layer: int  # the layer that holds the file
    by: int  # the later layer that hides it


class ImageFS:
    """The merged file system, layers and config of one saved image. Holds the archive open: use `with`."""

    def __init__(self, archive: Path, outer: tarfile.TarFile, config: Config, layers: list[Layer]) -> None:
        self.archive = archive
        self.config = config
        self.layers = layers
        self.entries: dict[str, Entry] = {}
        self.dive = DiveWaste(0, 1.0)
        self.removals: list[Removal] = []  # every wasted file, once: what the layer view explains
        self._children: dict[str, set[str]] = {}
        self._outer = outer
        self._layer_tars: dict[int, tarfile.TarFile] = {}
        self._layer_streams: list[IO[bytes]] = []  # what the layer tars read; a TarFile leaves it open
        self._unpacked: tempfile.TemporaryDirectory | None = None  # gunzipped layers, see layer_file

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for tar in self._layer_tars.values():
            tar.close()
        self._layer_tars.clear()
        for stream in self._layer_streams:
            stream.close()
        self._layer_streams.clear()
        self._outer.close()
        if self._unpacked is not None:
            self._unpacked.cleanup()
            self._unpacked = None

    def provenance(self) -> list[provenance.Material] | None:
        """The images its provenance attestation records by digest; None when the archive holds none."""
        return provenance.from_archive(self._outer, self.archive)

    @property
    def size(self) -> int:
        """Bytes of regular files in all layers, wasted ones included."""
        return sum(layer.size for layer in self.layers)

    @property
    def wasted_bytes(self) -> int:
        return sum(layer.wasted_bytes for layer in self.layers)

    @property
    def wasted_files(self) -> int:
        return sum(layer.wasted_files for layer in self.layers)

    def listdir(self, path: str) -> list[str]:
        """The paths directly under a directory of the merged view (symlinks not followed), sorted."""
        return sorted(self._children.get(path, ()))

    def resolve(self, path: str) -> Entry | None:
        """The entry `path` leads to, following symlinks inside the image (never the host's), or None."""
        pending = [part for part in reversed(path.split("/")) if part]
        current, hops = "/", 0
        while pending:
            name = pending.pop()
            if name in (".", ".."):
                current = posixpath.dirname(current) if name == ".." else current
                continue
            candidate = posixpath.join(current, name)
            entry = self.entries.get(candidate)
            if entry is None:
                return None
            if entry.kind == "symlink":
                hops += 1
                if hops > MAX_SYMLINK_HOPS:
                    return None
                if entry.link.startswith("/"):
                    current = "/"
                pending.extend(part for part in reversed(entry.link.split("/")) if part)
                continue
            current = candidate
        entry = self.entries.get(current)
        if entry is not None and entry.kind == "hardlink":
            return self.entries.get(entry.link)
        return entry

    def read(self, path: str, limit: int = -1) -> bytes:
        """The bytes of the regular file `path` leads to (the first `limit` bytes when limit >= 0)."""
        entry = self.resolve(path)
        if entry is None or entry.kind != "file":
            raise FileNotFoundError(f"no regular file at {path} in {self.archive.name}")
        tar = self._layer_tar(entry.layer)
        tar.fileobj.seek(entry.offset)
        member = tarfile.TarInfo.fromtarfile(tar)
        data = tar.extractfile(member)
        if data is None:  # not a regular file after all: the index and the layer disagree
            raise FileNotFoundError(f"no regular file at {path} in {self.archive.name}")
        with data:
            return data.read(limit)

    @contextmanager
    def open_layer(self, index: int) -> Iterator[IO[bytes]]:
        """The layer as stored in the archive: a tar, or on the containerd image store the gzip'd tar
        a push sends (e.g. to learn what a pull moves)."""
        stream = self._outer.extractfile(self.layers[index].member)
        if stream is None:
            raise archive_layout.corrupt(self.archive, f"layer {self.layers[index].member} is not a file")
        with stream:
            yield stream

    def stored_compressed(self, index: int) -> bool:
        """True when the archive holds the layer gzip'd (`docker save` on the containerd image store)."""
        with self.open_layer(index) as stream:
            return stream.read(2) == GZIP_MAGIC

    def layer_file(self, index: int) -> IO[bytes]:
        """The layer's uncompressed tar, open for reading from its start.

        A gzip'd layer is unpacked once into a temporary file: a gzip stream cannot seek, and reading
        files by their offset from one would decompress the layer again for every file."""
        if not self.stored_compressed(index):
            stream = self._outer.extractfile(self.layers[index].member)
            assert stream is not None  # open_layer checked it
            return stream
        if self._unpacked is None:
            self._unpacked = tempfile.TemporaryDirectory(prefix="imagelab-layers-")
        path = Path(self._unpacked.name) / f"{index}.tar"
        if not path.exists():
            with self.open_layer(index) as stored, gzip.open(stored) as raw, path.open("wb") as out:
                shutil.copyfileobj(raw, out, 1 << 20)
        return path.open("rb")

    def _layer_tar(self, index: int) -> tarfile.TarFile:
        if index not in self._layer_tars:
            # Kept open until close(): reading many files of one layer then costs one seek each.
            stream = self.layer_file(index)
            self._layer_streams.append(stream)
            self._layer_tars[index] = tarfile.open(fileobj=stream, mode="r:")  # noqa: SIM115
        return self._layer_tars[index]

    # -- building the merged view, one layer at a time ----------------------------------------------

    def _add(self, entry: Entry) -> None:
        old = self.entries.get(entry.path)
        if old is not None:
            if old.kind == "dir" and entry.kind != "dir":
                self._remove_below(entry.path, entry.layer)
            elif old.kind != "dir":
                self._waste(old, entry.layer)
        else:
            self._imply_parents(entry)
        self.entries[entry.path] = entry

    def _imply_parents(self, entry: Entry) -> None:
        """Hook the path under its parent, creating parent directories a hand-made tar left out."""
        path = entry.path
        while path != "/":
            parent = posixpath.dirname(path)
            known = parent == "/" or parent in self.entries
            self._children.setdefault(parent, set()).add(path)
            if known:
                return
            self.entries[parent] = Entry(parent, "dir", 0, 0o755, 0, 0, "", entry.layer, -1)
            path = parent

    def _remove(self, path: str, layer: int) -> None:
        """Delete a path and everything under it (a whiteout)."""
        self._remove_below(path, layer)
        old = self.entries.pop(path, None)
        if old is not None:
            self._waste(old, layer)
            self._children.get(posixpath.dirname(path), set()).discard(path)

    def _remove_below(self, path: str, layer: int) -> None:
        for child in self._children.pop(path, set()):
            self._remove(child, layer)

    def _waste(self, old: Entry, layer: int) -> None:
        if old.kind != "dir" and old.layer < layer:
            self.layers[old.layer].wasted_bytes += old.size
            self.layers[old.layer].wasted_files += 1
            self.removals.append(Removal(old.path, old.size, old.layer, layer))

    def _tree_size(self, path: str) -> int:
        entry = self.entries.get(path)
        own = entry.size if entry is not None else 0
        return own + sum(self._tree_size(child) for child in self._children.get(path, ()))


def open_archive(archive: Path, ref: str = "", layers: int | None = None) -> ImageFS:
    """Read the metadata of the image `ref` (or the only / first one) in a `docker save` tarball;
    with `layers`, of its first N layers only (e.g. the files as its base image left them)."""
    try:
        outer = tarfile.open(archive)  # noqa: SIM115 -- the ImageFS owns it and closes it
    except (OSError, tarfile.TarError) as exc:
        raise archive_layout.corrupt(archive, f"not a readable tar ({exc})") from exc
    try:
        config_member, layer_members = archive_layout.image_members(outer, archive, ref)
        raw = archive_layout.load_json(outer, archive, config_member)
        image = ImageFS(
            archive, outer, image_config.config(raw), image_config.layers(raw, layer_members)[:layers]
        )
        dive = DiveScore()
        for layer in image.layers:
            _apply_layer(image, layer, dive)
        image.dive = dive.result()
    except BaseException:
        outer.close()
        raise
    return image


@contextmanager
def saved(ref: str) -> Iterator[ImageFS]:
    """`docker save` an image of the engine into a temporary file and read it; the file goes afterwards."""
    with tempfile.TemporaryDirectory(prefix="imagelab-save-") as work:
        archive = engine.save_image(ref, Path(work) / "image.tar")
        with open_archive(archive, ref) as image:
            yield image


def _apply_layer(image: ImageFS, layer: Layer, dive: DiveScore) -> None:
    added, deleted, emptied = [], [], []
    with image.layer_file(layer.index) as stream, tarfile.open(fileobj=stream, mode="r:") as tar:
        for member in tar:
            path = posixpath.normpath("/" + member.name.lstrip("/"))
            parent, name = posixpath.split(path)
            if name == OPAQUE:
                emptied.append(parent)
            elif name.startswith(WHITEOUT):
                deleted.append(posixpath.join(parent, name[len(WHITEOUT) :]))
            elif path != "/":
                added.append(_entry(path, member, layer.index))
    # Counted before the layer applies: a whiteout weighs what the layers below hold in a deleted
    # directory, and nothing for a deleted file (as dive counts them).
    dirs = [p for p in deleted if (below := image.entries.get(p)) is not None and below.kind == "dir"]
    dive.visit(
        [(e.path, e.size) for e in added], [(p, image._tree_size(p) if p in dirs else 0) for p in deleted]
    )
    # Whiteouts only ever hide what lower layers hold, so removing first cannot touch this layer's paths.
    for path in emptied:
        image._remove_below(path, layer.index)
    for path in deleted:
        image._remove(path, layer.index)
    for entry in added:
        image._add(entry)
        if entry.kind != "dir":
            layer.files += 1
            layer.size += entry.size


def _entry(path: str, member: tarfile.TarInfo, layer: int) -> Entry:
    if member.isreg():
        kind, link = "file", ""
    elif member.isdir():
        kind, link = "dir", ""
    elif member.issym():
        kind, link = "symlink", member.linkname
    elif member.islnk():
        kind, link = "hardlink", posixpath.normpath("/" + member.linkname.lstrip("/"))
    else:
        kind, link = "other", ""
    size = member.size if kind == "file" else 0
    return Entry(path, kind, size, member.mode & 0o7777, member.uid, member.gid, link, layer, member.offset)
