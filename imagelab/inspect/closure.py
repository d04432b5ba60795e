"""The runtime closure of an image: what its program needs to run, measured from the image's own files.

closure = the program the image starts (its interpreter when it starts a script) + the shared libraries
that program and every native extension need (ELF DT_NEEDED, followed recursively, and the dynamic
loader) + the language runtime (Python's standard library) + the app's folder (WORKDIR) + the packages
the program can import (site-packages of its interpreter or venv and of PYTHONPATH, node_modules in the
app) + the CA bundle. An image can hardly be smaller than that: the ratio of image size to closure is
how far a variant is from the smallest image that could run the same app.
"""

from __future__ import annotations

import io
import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from elftools.common.exceptions import ELFError
from elftools.elf.dynamic import DynamicSection
from elftools.elf.elffile import ELFFile
from elftools.elf.segments import InterpSegment

from imagelab.inspect import users
from imagelab.inspect.imagefs import Entry, ImageFS

LIBRARY_DIRS = (
    "/lib/x86_64-linux-gnu",
    "/usr/lib/x86_64-linux-gnu",
    "/lib64",
    "/usr/lib64",
    "/lib",
    "/usr/lib",
    "/usr/local/lib",
)
CA_BUNDLES = ("/etc/ssl/certs/ca-certificates.crt",)
MAX_SCRIPTS = 4  # wrapper -> script -> interpreter is as deep as images go
PYTHON_NAME = re.compile(r"^python(?P<version>\d\.\d+)?$")
ELF_MAGIC = b"\x7fELF"


@dataclass
class Closure:
    program: str = ""  # the executable the image starts (after following symlinks and shebangs)
    size: int = 0
    parts: dict[str, int] = field(default_factory=dict)  # what each part weighs: program, libraries, ...
    unresolved: list[str] = field(default_factory=list)  # libraries named but not found in the image


class _Collector:
    def __init__(self, fs: ImageFS) -> None:
        self.fs = fs
        self.seen: set[str] = set()
        self.closure = Closure()

    def add(self, part: str, entry: Entry | None) -> None:
        if entry is None or entry.kind != "file" or entry.path in self.seen:
            return
        self.seen.add(entry.path)
        self.closure.size += entry.size
        self.closure.parts[part] = self.closure.parts.get(part, 0) + entry.size

    def add_tree(self, part: str, root: str, skip: Iterable[str] = ()) -> None:
        skip = tuple(skip)
        for path in _walk(self.fs, root):
            if not any(path == s or path.startswith(s + "/") for s in skip):
                self.add(part, self.fs.entries.get(path))

    def add_libraries(self, paths: Iterable[str]) -> None:
        """Every ELF file's needed libraries, recursively; the dynamic loader too."""
        pending = list(paths)
        visited: set[str] = set()
        while pending:
            path = pending.pop()
            if path in visited:
                continue
            visited.add(path)
            needed, interpreter, runpath = _elf_needs(self.fs, path)
            if interpreter:
                found = self.fs.resolve(interpreter)
                self.add("libraries", found)
                if found is not None:
                    pending.append(found.path)
            for name in needed:
                found = _find_library(self.fs, name, runpath, posixpath.dirname(path))
                if found is None:
                    if name not in self.closure.unresolved:
                        self.closure.unresolved.append(name)
                    continue
                self.add("libraries", found)
                pending.append(found.path)


def runtime_closure(fs: ImageFS) -> Closure:
    collector = _Collector(fs)
    config = fs.config
    found = _program(fs, [*config.entrypoint, *config.cmd], config.path, config.working_dir)
    if found is None:
        return collector.closure
    program, called_as, scripts = found
    collector.closure.program = program.path
    collector.add("program", program)
    for script in scripts:
        collector.add("app", script)
    elf_files = [program.path]
    app_dir = config.working_dir if config.working_dir not in ("", "/") else ""
    python = PYTHON_NAME.match(posixpath.basename(program.path))
    if python:
        stdlib, site_dirs = _python_layout(fs, program.path, called_as, config.env)
        deps = [d for d in site_dirs if fs.entries.get(d)]
        collector.add_tree(
            "runtime", stdlib, skip=[posixpath.join(stdlib, n) for n in ("site-packages", "dist-packages")]
        )
        elf_files += [p for p in _walk(fs, stdlib) if p.endswith(".so")]
    elif app_dir:
        deps = [p for p in _walk_dirs(fs, app_dir) if posixpath.basename(p) == "node_modules"]
        deps = [d for d in deps if not any(d.startswith(o + "/") for o in deps if o != d)]
    else:
        deps = []
    for folder in deps:
        collector.add_tree("dependencies", folder)
        elf_files += [p for p in _walk(fs, folder) if p.endswith((".so", ".node"))]
    if app_dir:
        collector.add_tree("app", app_dir, skip=deps)
    collector.add_libraries(elf_files)
    for bundle in CA_BUNDLES:
        collector.add("ca bundle", fs.resolve(bundle))
    return collector.closure


def _program(
    fs: ImageFS, argv: list[str], search_path: list[str], working_dir: str
) -> tuple[Entry, str, list[Entry]] | None:
    """The executable a container really runs, the path it was called by, and the scripts on the way.

    A script leads to the interpreter its shebang names. A shell script run with a command after it is
    an entrypoint wrapper (the official node image's docker-entrypoint.sh ends in `exec "$@"`): the
    command is the program, the wrapper a script on the way.
    """
    scripts: list[Entry] = []
    words = list(argv)
    for _ in range(MAX_SCRIPTS):
        if not words:
            return None
        called_as, entry = _which(fs, words.pop(0), search_path, working_dir)
        if entry is None:
            return None
        interpreter = _shebang(fs, entry.path)
        if not interpreter:
            return entry, called_as, scripts
        scripts.append(entry)
        wrapper = posixpath.basename(interpreter) in users.SHELLS and words and not words[0].startswith("-")
        if not wrapper:
            words = [interpreter]
    return None


def _walk(fs: ImageFS, root: str) -> list[str]:
    """Every path below `root` (not following symlinks), depth first."""
    found, pending = [], [root]
    while pending:
        children = fs.listdir(pending.pop())
        found += children
        pending += [c for c in children if (e := fs.entries.get(c)) is not None and e.kind == "dir"]
    return found


def _walk_dirs(fs: ImageFS, root: str) -> list[str]:
    return [p for p in _walk(fs, root) if (e := fs.entries.get(p)) is not None and e.kind == "dir"]


def _which(fs: ImageFS, name: str, search_path: list[str], working_dir: str) -> tuple[str, Entry | None]:
    """Where a command is found (before symlinks: a venv's bin/python is a link) and the file it is."""
    if "/" in name:
        path = posixpath.join(working_dir or "/", name)
        return path, fs.resolve(path)
    for folder in search_path:
        path = posixpath.join(folder, name)
        found = fs.resolve(path)
        if found is not None and found.kind == "file":
            return path, found
    return name, None


def _shebang(fs: ImageFS, path: str) -> str:
    """The interpreter a script names ('#!/usr/bin/env python3' -> 'python3'), or ''."""
    try:
        head = fs.read(path, 256)
    except FileNotFoundError:
        return ""
    if not head.startswith(b"#!"):
        return ""
    words = head[2:].split(b"\n", 1)[0].decode(errors="replace").split()
    if words and posixpath.basename(words[0]) == "env" and len(words) > 1:
        return words[1]
    return words[0] if words else ""


def _python_layout(
    fs: ImageFS, interpreter: str, called_as: str, env: dict[str, str]
) -> tuple[str, list[str]]:
    """The standard library of `interpreter` and the folders its imports search for packages."""
    named = PYTHON_NAME.match(posixpath.basename(interpreter))
    version = (named["version"] if named else "") or ""
    prefix = posixpath.dirname(posixpath.dirname(interpreter))
    stdlib = posixpath.join(prefix, "lib", f"python{version}")
    sites = [posixpath.join(stdlib, "site-packages")]
    if prefix == "/usr":
        # Debian's Python: its own packages in dist-packages, and `pip install` outside a venv goes to
        # /usr/local/lib/pythonX.Y/dist-packages.
        sites += ["/usr/lib/python3/dist-packages", f"/usr/local/lib/python{version}/dist-packages"]
    venv = posixpath.dirname(posixpath.dirname(called_as))
    if fs.entries.get(posixpath.join(venv, "pyvenv.cfg")):
        sites = [posixpath.join(venv, "lib", f"python{version}", "site-packages")]
    sites += [p for p in env.get("PYTHONPATH", "").split(":") if p]
    return stdlib, sites


def _elf_needs(fs: ImageFS, path: str) -> tuple[list[str], str, list[str]]:
    """An ELF file's DT_NEEDED names, its program interpreter and its RUNPATH/RPATH folders."""
    entry = fs.resolve(path)
    if entry is None or entry.kind != "file":
        return [], "", []
    try:
        data = fs.read(entry.path)
    except FileNotFoundError:
        return [], "", []
    if not data.startswith(ELF_MAGIC):
        return [], "", []
    try:
        elf = ELFFile(io.BytesIO(data))
        needed, runpath, interpreter = [], [], ""
        for segment in elf.iter_segments():
            if isinstance(segment, InterpSegment):
                interpreter = segment.get_interp_name()
        for section in elf.iter_sections():
            if isinstance(section, DynamicSection):
                for tag in section.iter_tags():
                    if tag.entry.d_tag == "DT_NEEDED":
                        needed.append(tag.needed)  # type: ignore[attr-defined]  # set per tag kind
                    elif tag.entry.d_tag in ("DT_RUNPATH", "DT_RPATH"):
                        # pyelftools sets .runpath or .rpath on the tag of that kind only
                        value = tag.runpath if tag.entry.d_tag == "DT_RUNPATH" else tag.rpath  # type: ignore[attr-defined]
                        runpath += value.split(":")
    except ELFError:
        return [], "", []
    return needed, interpreter, runpath


def _find_library(fs: ImageFS, name: str, runpath: list[str], origin: str) -> Entry | None:
    folders = [p.replace("$ORIGIN", origin).replace("${ORIGIN}", origin) for p in runpath]
    for folder in [*folders, *LIBRARY_DIRS]:
        found = fs.resolve(posixpath.join(folder, name))
        if found is not None and found.kind == "file":
            return found
    return None
