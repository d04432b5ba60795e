"""An unpacked root file system (a folder) read the way inspect/ reads a saved image: by absolute path
inside the image, symlinks resolved inside it, never on the host. For the scan's debugging entry
(`python -m imagelab.vulns ROOTFS`) and its tests."""

from __future__ import annotations

import os
import posixpath
import stat
from pathlib import Path

from imagelab.inspect.imagefs import MAX_SYMLINK_HOPS, Entry


class RootFS:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.entries: dict[str, Entry] = {}
        self._children: dict[str, list[str]] = {}
        for folder, dirs, files in os.walk(root):
            inside = "/" + os.path.relpath(folder, root).removeprefix(".").lstrip("/")
            for name in sorted(dirs + files):
                path = posixpath.join(inside, name)
                self.entries[path] = _entry(Path(folder) / name, path)
                self._children.setdefault(inside, []).append(path)

    def listdir(self, path: str) -> list[str]:
        return sorted(self._children.get(path, []))

    def resolve(self, path: str) -> Entry | None:
        current, hops = path, 0
        while (
            entry := self.entries.get(posixpath.normpath(current))
        ) is not None and entry.kind == "symlink":
            hops += 1
            if hops > MAX_SYMLINK_HOPS:
                return None
            current = (
                entry.link
                if entry.link.startswith("/")
                else posixpath.join(posixpath.dirname(current), entry.link)
            )
        return entry

    def read(self, path: str, limit: int = -1) -> bytes:
        entry = self.resolve(path)
        if entry is None or entry.kind != "file":
            raise FileNotFoundError(f"no regular file at {path} in {self.root}")
        with open(self.root / entry.path.lstrip("/"), "rb") as file:
            return file.read(limit)


def _entry(host: Path, path: str) -> Entry:
    info = host.lstat()
    if stat.S_ISLNK(info.st_mode):
        kind, link = "symlink", os.readlink(host)
    elif stat.S_ISDIR(info.st_mode):
        kind, link = "dir", ""
    elif stat.S_ISREG(info.st_mode):
        kind, link = "file", ""
    else:
        kind, link = "other", ""
    size = info.st_size if kind == "file" else 0
    return Entry(path, kind, size, stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid, link, 0, 0)
