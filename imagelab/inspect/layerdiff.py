"""What differs between two builds of one image: their configs, and file by file in the layers that differ.

Two builds of a Dockerfile are bit-for-bit the same when their manifests are; when they are not, the
person asking wants the files, and why each differs where a path or its bytes tell it (bytecode, logs,
caches, a date written into a file, a timestamp in a tar header that nothing rewrote). Layers with equal
diff ids hold equal tars, so only the others are read, one pass each, and nothing is unpacked.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from imagelab.inspect import archive_layout, imagefs

#: Files larger than this are told apart by their digest alone: reading both again to see whether only
#: digits differ is worth it for small text files (a stamp, a log), not for a 100 MB binary.
DIGITS_CHECK_LIMIT = 1 << 20
#: Why a path differs, by where it lives; first match wins, so the narrow rules come first.
PATH_REASONS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\.pyc$"), "bytecode: a .pyc header holds its source's mtime from the build's clock"),
    (re.compile(r"^/(etc/ld\.so\.cache|var/cache/ldconfig/)"), "ldconfig's cache, written at build time"),
    (re.compile(r"^/var/log/"), "a log the build wrote"),
    (re.compile(r"(^|/)(\.npm|_cacache)/"), "npm's cache"),
    (re.compile(r"^/var/cache/"), "a cache the build wrote (/var/cache)"),
    (re.compile(r"(^|/)\.cache/go-build/"), "Go's build cache (~/.cache/go-build)"),
    (re.compile(r"(^|/)\.cache/"), "a tool's cache (~/.cache)"),
    # The go command counts its own use in files named by the day (GOTELEMETRY=off stops it).
    (re.compile(r"(^|/)\.config/go/telemetry/"), "Go's telemetry counters, one file a day"),
    (re.compile(r"^/var/lib/(apt|dpkg)/"), "package manager state, written at build time"),
    (re.compile(r"^/tmp/"), "a temporary file left in the image"),
)
DIGITS = re.compile(rb"\d+")


@dataclass(frozen=True, slots=True)
class FileFacts:
    """What a layer tar says of one path: its header fields that matter, and its bytes' digest."""

    kind: str
    mode: int
    uid: int
    gid: int
    mtime: int
    size: int
    link: str
    sha256: str  # "" for anything but a regular file


@dataclass(frozen=True, slots=True)
class Difference:
    """One path (or the image config) that is not the same in the two builds."""

    layer: int  # index of the layer, bottom first; -1 for the image config
    path: str
    what: str  # "content", "mtime", "owner or mode", "link", "only in build 1", "only in build 2", ...
    why: str


@dataclass(frozen=True)
class Comparison:
    """Two builds of one image, side by side."""

    digests: tuple[str, str]  # manifest digests
    same: bool
    layers: tuple[int, int]
    differing_layers: tuple[int, ...]
    differences: tuple[Difference, ...]


def _path(member: tarfile.TarInfo) -> str:
    """ "./usr/bin/" or "usr/bin" -> "/usr/bin", as the merged file system names it."""
    return posixpath.normpath("/" + member.name)


def _kind(member: tarfile.TarInfo) -> str:
    kinds = {"file": member.isreg(), "dir": member.isdir(), "symlink": member.issym()}
    return next((kind for kind, found in kinds.items() if found), "hardlink" if member.islnk() else "other")


def layer_facts(stream: IO[bytes]) -> dict[str, FileFacts]:
    """Every path of one layer tar, as its header and bytes describe it."""
    facts = {}
    with tarfile.open(fileobj=stream, mode="r|") as tar:
        for member in tar:
            digest = ""
            if member.isreg():
                data = tar.extractfile(member)
                hasher = hashlib.sha256()
                while data is not None and (chunk := data.read(1 << 20)):
                    hasher.update(chunk)
                digest = hasher.hexdigest()
            facts[_path(member)] = FileFacts(
                _kind(member),
                member.mode & 0o7777,
                member.uid,
                member.gid,
                int(member.mtime),
                member.size if member.isreg() else 0,
                member.linkname,
                digest,
            )
    return facts


def what_differs(first: FileFacts, second: FileFacts) -> str:
    """The first field that tells the two apart: bytes before headers, since bytes are what runs."""
    if first.kind != second.kind:
        return "kind"
    if first.sha256 != second.sha256:
        return "content"
    if first.link != second.link:
        return "link"
    if (first.mode, first.uid, first.gid) != (second.mode, second.uid, second.gid):
        return "owner or mode"
    if first.mtime != second.mtime:
        return "mtime"
    return ""


def why(path: str, what: str, only_digits: bool = False) -> str:
    """Why a path differs, where its place or its bytes say; "" when nothing tells."""
    for pattern, reason in PATH_REASONS:
        if pattern.search(path):
            return reason
    if what == "mtime":
        return "a timestamp in the tar header that was not rewritten"
    if what == "content" and only_digits:
        return "a date or number written into the file (only digits differ)"
    return ""


def only_digits_differ(first: bytes, second: bytes) -> bool:
    """True when the two texts are the same once every run of digits is taken as one: a stamp."""
    return first != second and DIGITS.sub(b"0", first) == DIGITS.sub(b"0", second)


def layer_differences(
    index: int,
    first: dict[str, FileFacts],
    second: dict[str, FileFacts],
    read: tuple[Callable[[int, str], bytes], Callable[[int, str], bytes]] | None = None,
) -> list[Difference]:
    """The paths of one layer that differ between two builds, in path order. `read` gives a small
    file's bytes in each build, to tell a stamp (only digits differ) from other content."""
    found = []
    for path in sorted(first.keys() | second.keys()):
        one, two = first.get(path), second.get(path)
        if one is None or two is None:
            what = "only in build 2" if one is None else "only in build 1"
            found.append(Difference(index, path, what, why(path, what)))
            continue
        what = what_differs(one, two)
        if not what:
            continue
        reason = why(path, what)
        if not reason and what == "content" and read and max(one.size, two.size) <= DIGITS_CHECK_LIMIT:
            reason = why(path, what, only_digits_differ(read[0](index, path), read[1](index, path)))
        found.append(Difference(index, path, what, reason))
    return found


class ContentReader:
    """The bytes of one path of one layer of a saved image, read when asked (a few small files); each
    layer's tar index is read once."""

    def __init__(self, image: imagefs.ImageFS) -> None:
        self.image = image
        self._members: dict[int, dict[str, tarfile.TarInfo]] = {}
        self._tars: dict[int, tarfile.TarFile] = {}

    def __call__(self, index: int, path: str) -> bytes:
        if index not in self._tars:
            self._tars[index] = tarfile.open(fileobj=self.image.layer_file(index), mode="r:")  # noqa: SIM115
            self._members[index] = {_path(m): m for m in self._tars[index] if m.isreg()}
        member = self._members[index].get(path)
        data = self._tars[index].extractfile(member) if member is not None else None
        return data.read(DIGITS_CHECK_LIMIT) if data is not None else b""

    def close(self) -> None:
        for tar in self._tars.values():
            if tar.fileobj is not None:
                tar.fileobj.close()
            tar.close()
        self._tars.clear()


def manifest_digest(archive: Path) -> str:
    """The digest an OCI archive's index gives its image: what a registry would call it."""
    with tarfile.open(archive) as outer:
        index = archive_layout.load_json(outer, archive, "index.json")
    return str(index["manifests"][0]["digest"])


def _config(archive: Path) -> dict:
    with tarfile.open(archive) as outer:
        config, _ = archive_layout.image_members(outer, archive, "")
        return dict(archive_layout.load_json(outer, archive, config))


def config_differences(first: dict, second: dict) -> list[Difference]:
    """The top-level keys of the image config (and of its run settings) whose values differ."""
    found = []
    for key in sorted(first.keys() | second.keys()):
        if key == "rootfs" or first.get(key) == second.get(key):
            continue  # the layers' own differences are named file by file
        if key == "config" and isinstance(first.get(key), dict) and isinstance(second.get(key), dict):
            inner = first[key].keys() | second[key].keys()
            for name in sorted(k for k in inner if first[key].get(k) != second[key].get(k)):
                found.append(Difference(-1, f"config.{name}", "image config", ""))
            continue
        reason = "the image's dates: SOURCE_DATE_EPOCH not applied" if key in ("created", "history") else ""
        found.append(Difference(-1, key, "image config", reason))
    return found


def _facts(image: imagefs.ImageFS, index: int) -> dict[str, FileFacts]:
    if index >= len(image.layers):  # the other build has more layers
        return {}
    with image.layer_file(index) as stream:
        return layer_facts(stream)


def _pairs(first: imagefs.ImageFS, second: imagefs.ImageFS) -> Iterator[int]:
    for index in range(max(len(first.layers), len(second.layers))):
        one = first.layers[index].diff_id if index < len(first.layers) else None
        two = second.layers[index].diff_id if index < len(second.layers) else None
        if one != two:
            yield index


def compare(first: Path, second: Path) -> Comparison:
    """Two OCI archives of one image: equal manifests, or what differs and why."""
    digests = (manifest_digest(first), manifest_digest(second))
    with imagefs.open_archive(first) as one, imagefs.open_archive(second) as two:
        layers = (len(one.layers), len(two.layers))
        if digests[0] == digests[1]:
            return Comparison(digests, True, layers, (), ())
        differing = tuple(_pairs(one, two))
        found = config_differences(_config(first), _config(second))
        readers = (ContentReader(one), ContentReader(two))
        try:
            for index in differing:
                changed = layer_differences(index, _facts(one, index), _facts(two, index), readers)
                # Equal files in unequal tars: the order of the entries, or headers not compared here.
                found.extend(
                    changed or [Difference(index, "(layer tar)", "tar bytes", "same files, other tar")]
                )
        finally:
            for reader in readers:
                reader.close()
    return Comparison(digests, False, layers, differing, tuple(found))
