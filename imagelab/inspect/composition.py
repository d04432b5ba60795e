"""Where an image's bytes go: every byte of every layer counted once, in one kind, read from the image's
own files (imagefs); nothing in the image runs.

The total is the sum of the regular-file sizes of all layers (`ImageFS.size`). The Docker engine's
image size (`docker image inspect -f {{.Size}}`, the SIZE of `docker images` before rounding) is the
same number: the classic image store adds up the tar header sizes of each layer as it unpacks it, so
directories, symlinks, hard links and whiteouts weigh nothing in both (verified to the byte on every
image of the matrix by tests/test_composition.py). Engines that use the containerd image store
(Docker 29 and later by default) report another figure, which this one does not try to match.

The kinds, and the precedence that makes each file count once -- a file takes the first kind whose
rule matches, in this order:

1. caches: package indexes and caches a tool keeps to go faster next time and the program never
   reads: apt's lists and archives, ~/.cache (pip, Go's build cache), ~/.npm, Go's module download
   cache (GOPATH/pkg/mod/cache).
2. docs: documentation, man and info pages, licences, locales and locale sources.
3. dependencies: the app's libraries in any form the build left: site-packages and dist-packages not
   installed by dpkg, node_modules, a venv, PYTHONPATH and NODE_PATH folders (other than the app's
   own), Go module sources (GOPATH/pkg/mod). The installers that come with a runtime (pip in its
   site-packages, npm and corepack beside Node) count as the runtime.
4. runtime: the app's language's interpreter and standard library (Python, Node.js) or toolchain (Go):
   a file dpkg lists by its package (python3.13-minimal, nodejs, libssl3t64, ...), any other by
   its path in the official images' and Debian's layouts. Another language's interpreter (Debian's
   python3 in a Node image, for node-gyp) is an OS package.
5. app: the working directory's tree, and the program the image starts when it is neither the
   runtime nor the system's (a dpkg-listed file or one in the system's folders).
6. toolchain: what builds native code and ships nothing a program runs: headers, static libraries and
   object files, GCC's private folders, Python's build config, and the files of compiler, binutils,
   autotools and `-dev` packages.
7. os: files a dpkg file list names (`/var/lib/dpkg/info/*.list`; `status.d/*.md5sums` in distroless
   images), dpkg's own database, and the other files of the system's folders (/usr but /usr/local,
   /etc, /bin, /sbin, /lib*, /var/lib, debconf's and ldconfig's caches): files maintainer scripts generate (ld.so.cache, the CA
   bundle, bytecode) and files an image copied from Debian without its records (the distroless
   stand-ins and the minimal images). Bytecode compiled from a listed module (py3compile) counts as
   listed by the module's package. `listed_os` says how much of the kind dpkg lists.
8. wasted: bytes of a layer that a later layer deletes or overwrites (no container sees them).
9. other: the rest (/root, /home, /tmp, /opt, /srv, /usr/local outside the runtime, /var/log ...).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the type only: report/ reads KINDS without loading the Docker SDK
    from imagelab.inspect.imagefs import ImageFS

#: Kind -> what a reader calls it; stacking order of the chart, from what the app is to what it drags.
KINDS: dict[str, str] = {
    "app": "app",
    "dependencies": "app dependencies",
    "runtime": "language runtime",
    "os": "OS packages",
    "toolchain": "build toolchain",
    "docs": "docs, man, locales",
    "caches": "caches, package indexes",
    "wasted": "wasted (hidden by later layers)",
    "other": "other",
}

DPKG_INFO = "/var/lib/dpkg/info"
DPKG_STATUS_D = "/var/lib/dpkg/status.d"
HOMES = r"(?:/root|/home/[^/]+)"

CACHES = re.compile(
    rf"^(?:/var/lib/apt/lists/|/var/cache/apt/|{HOMES}/\.cache/|{HOMES}/\.npm/|/usr/local/share/\.cache/"
    rf"|(?:/go|{HOMES}/go)/pkg/mod/cache/)"
)
DOCS = re.compile(
    r"^(?:/usr(?:/local)?/share/(?:doc|doc-base|man|info|locale|i18n|help|gtk-doc|common-licenses)/"
    r"|/usr/lib/locale/)"
)
DEPENDENCY_FOLDERS = re.compile(r"/(?:site-packages|dist-packages|node_modules)/")
GO_MODULES = re.compile(rf"^(?:/go|{HOMES}/go)/pkg/mod/")
BUNDLED_INSTALLERS = re.compile(
    r"/(?:site|dist)-packages/pip(?:-[^/]*\.dist-info)?/|^/usr/local/lib/node_modules/(?:npm|corepack)/"
)
#: Language -> where its runtime lives, in the official images' and Debian's layouts (files no dpkg list
#: names) ...
RUNTIME_PATHS: dict[str, tuple[str, ...]] = {
    "python": (
        r"/usr(?:/local)?/lib/python3\.\d+/(?!config-3)",
        r"/usr(?:/local)?/bin/python3\.\d+$",
        r"/usr(?:/local)?/lib/(?:[^/]+-linux-gnu/)?libpython3[^/]*\.so[^/]*$",
        r".*/(?:site|dist)-packages/pip(?:-[^/]*\.dist-info)?/",  # ensurepip's, in the interpreter's
    ),
    "node": (r"/usr/local/bin/node$", r"/nodejs/", r"/usr/local/lib/node_modules/(?:npm|corepack)/"),
    "go": (r"/usr/local/go/", r"/usr/lib/go-[^/]+/", r"/usr/share/go-[^/]+/"),
}
#: ... and the Debian packages that hold it (files a dpkg list names).
RUNTIME_PACKAGES: dict[str, tuple[str, ...]] = {
    "python": (r"(?:lib)?python3(?:\.\d+)?(?:-minimal|-stdlib)?",),
    "node": (r"nodejs", r"libnode\d+"),
    "go": (r"golang(?:-[\d.]+)?-(?:go|src)",),
}
TOOLCHAIN_PATHS = re.compile(
    r"^/usr(?:/local)?/include/|\.(?:a|o)$|^/usr/lib/gcc/|^/usr/libexec/gcc/|/config-3\.\d+[^/]*/"
)
TOOLCHAIN_PACKAGES = re.compile(
    r"-dev$|^(?:gcc|g\+\+|cpp|clang|llvm|binutils|libbinutils|libctf|libsframe|libgprofng|libcc1|libisl"
    r"|libmpc|libmpfr|libasan|liblsan|libtsan|libubsan|libhwasan|libitm|libquadmath|libjansson"
    r"|make|autoconf|automake|autotools-dev|libtool|m4|pkgconf|pkg-config|libpkgconf|dpkg-dev|patch"
    r"|libc-dev-bin|rpcsvc-proto)(?:[-\d.]|$)"
)
SYSTEM_FOLDERS = re.compile(
    r"^/(?:bin|sbin|lib|lib32|lib64|libx32|etc|var/lib|var/cache/debconf|var/cache/ldconfig)/|^/usr/(?!local/)"
)
DPKG_DATABASE = "/var/lib/dpkg/"
ELF_MAGIC = b"\x7fELF"


@dataclass
class Composition:
    """Bytes by kind (every kind of KINDS, in its order); they add up to the image's size."""

    bytes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    listed_os: int = 0  # of bytes["os"], what dpkg's file lists name

    @property
    def total(self) -> int:
        return sum(self.bytes.values())


def compose(fs: ImageFS, language: str = "") -> Composition:
    """The composition of one image: every visible file in one kind, and the wasted bytes.

    `language` (python, node, go) says whose runtime counts as the runtime: Debian's python3 in a Node
    image is there for node-gyp, an OS package like any other. "" counts every known runtime."""
    rules = _Rules(fs, language)
    result = Composition()
    visible = 0
    for path, entry in fs.entries.items():
        if entry.kind != "file":  # hard links, symlinks, directories weigh nothing (see above)
            continue
        kind = rules.kind(path)
        result.bytes[kind] += entry.size
        visible += entry.size
        if kind == "os" and path in rules.owners:
            result.listed_os += entry.size
    # What the layers hold and no container sees: their files that later layers delete or overwrite.
    result.bytes["wasted"] = fs.size - visible
    return result


def dpkg_owners(fs: ImageFS) -> dict[str, str]:
    """Path -> the Debian package whose file list names it, with paths as the image resolves them
    (merged /usr: a list that says /lib/x86_64-linux-gnu/libc.so.6 means /usr/lib/x86_64-...)."""
    listed: dict[str, str] = {}
    for path in fs.listdir(DPKG_INFO):
        if path.endswith(".list"):
            package = posixpath.basename(path)[: -len(".list")].split(":")[0]
            for line in _lines(fs, path):
                listed.setdefault(line, package)
    for path in fs.listdir(DPKG_STATUS_D):  # "<md5>  <path relative to />" per line
        if path.endswith(".md5sums"):
            package = posixpath.basename(path)[: -len(".md5sums")]
            for line in _lines(fs, path):
                listed.setdefault("/" + line.split(maxsplit=1)[-1].lstrip("/"), package)
    canonical_dirs: dict[str, str] = {}
    owners: dict[str, str] = {}
    for path, package in listed.items():
        folder, name = posixpath.split(path)
        if folder not in canonical_dirs:
            target = fs.resolve(folder)
            canonical_dirs[folder] = target.path if target is not None and target.kind == "dir" else folder
        owners.setdefault(posixpath.join(canonical_dirs[folder], name), package)
    return owners


class _Rules:
    """The facts the rules need about one image, read once."""

    def __init__(self, fs: ImageFS, language: str) -> None:
        self.fs = fs
        languages = [language] if language in RUNTIME_PATHS else list(RUNTIME_PATHS)
        paths = [pattern for name in languages for pattern in RUNTIME_PATHS[name]]
        packages = [pattern for name in languages for pattern in RUNTIME_PACKAGES[name]]
        self.runtime_paths = re.compile("^(?:" + "|".join(paths) + ")")
        self.runtime_packages = re.compile("^(?:" + "|".join(packages) + ")$")
        self.owners = dpkg_owners(fs)
        # Bytecode that a package's maintainer script compiled (py3compile) belongs to that package.
        for path in fs.entries:
            if "/__pycache__/" in path:
                folder = posixpath.dirname(posixpath.dirname(path))
                source = f"{folder}/{posixpath.basename(path).split('.')[0]}.py"
                if source in self.owners:
                    self.owners.setdefault(path, self.owners[source])
        env = fs.config.env
        workdir = posixpath.normpath(fs.config.working_dir or "/")
        self.app_folder = "" if workdir == "/" else workdir + "/"
        searched = env.get("PYTHONPATH", "").split(":") + env.get("NODE_PATH", "").split(":")
        self.dependency_folders = tuple(
            posixpath.normpath(folder) + "/"
            for folder in searched
            if folder.startswith("/") and posixpath.normpath(folder) not in ("/", workdir)
        ) + tuple(  # a venv: everything in it (its scripts and interpreter links included)
            posixpath.dirname(path) + "/" for path in fs.entries if posixpath.basename(path) == "pyvenv.cfg"
        )
        gopath = env.get("GOPATH", "")
        self.go_modules = f"{gopath.rstrip('/')}/pkg/mod/" if gopath.startswith("/") else ""
        self.program = _started_program(fs)
        self.order: list[tuple[str, Callable[[str], bool]]] = [
            ("caches", self._cache),
            ("docs", lambda path: bool(DOCS.match(path))),
            ("dependencies", self._dependency),
            ("runtime", self._runtime),
            ("app", self._app),
            ("toolchain", self._toolchain),
            ("os", self._os),
        ]

    def kind(self, path: str) -> str:
        return next((kind for kind, matches in self.order if matches(path)), "other")

    def _cache(self, path: str) -> bool:
        return bool(CACHES.match(path)) or bool(
            self.go_modules and path.startswith(self.go_modules + "cache/")
        )

    def _dependency(self, path: str) -> bool:
        if path in self.owners or BUNDLED_INSTALLERS.search(path):
            return False
        return (
            bool(DEPENDENCY_FOLDERS.search(path) or GO_MODULES.match(path))
            or bool(self.go_modules and path.startswith(self.go_modules))
            or path.startswith(self.dependency_folders)
        )

    def _runtime(self, path: str) -> bool:
        owner = self.owners.get(path)  # what dpkg installed is the runtime by its package, not its path
        return bool(self.runtime_packages.match(owner) if owner else self.runtime_paths.match(path))

    def _app(self, path: str) -> bool:
        if self.app_folder and path.startswith(self.app_folder):
            return True
        # The program started, unless it is the system's (debian's CMD ["bash"] is no app).
        return path == self.program and path not in self.owners and not SYSTEM_FOLDERS.match(path)

    def _toolchain(self, path: str) -> bool:
        owner = self.owners.get(path)
        return bool(TOOLCHAIN_PATHS.search(path) or (owner and TOOLCHAIN_PACKAGES.search(owner)))

    def _os(self, path: str) -> bool:
        return path in self.owners or bool(SYSTEM_FOLDERS.match(path)) or path.startswith(DPKG_DATABASE)


def _started_program(fs: ImageFS) -> str:
    """The native program the image starts (the first word of its entrypoint, else of its command),
    found on its PATH; "" when that is a script or an interpreter's link (the runtime rules own those)."""
    words = fs.config.entrypoint or fs.config.cmd
    if not words:
        return ""
    name = words[0]
    folders = ["/"] if name.startswith("/") else fs.config.path
    for folder in folders:
        entry = fs.resolve(posixpath.join(folder, name))
        if entry is not None and entry.kind == "file" and fs.read(entry.path, limit=4) == ELF_MAGIC:
            return entry.path
    return ""


def _lines(fs: ImageFS, path: str) -> list[str]:
    entry = fs.entries.get(path)
    if entry is None or entry.kind != "file":
        return []
    return [line.strip() for line in fs.read(path).decode("utf-8", "replace").splitlines() if line.strip()]
