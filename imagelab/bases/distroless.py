"""Distroless-style root file systems: only the files of named packages, unpacked from their .deb files
the way distroless does it with Bazel. No maintainer script runs, so there is no shell, no package
manager and nothing configured; what a program needs at run time (users, CA bundle, package records)
is written here.
"""

from __future__ import annotations

import contextlib
import io
import re
import tarfile
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from imagelab import process
from imagelab.bases import certificates, inputs
from imagelab.bases.rootfs import Rootfs, archive_date, mmdebstrap
from imagelab.errors import BuildError
from imagelab.inspect.users import NONROOT_UID

# The CA bundle is assembled from this package's certificates, without its scripts (or openssl).
CA_PACKAGE = "ca-certificates"
CA_BUNDLE = "etc/ssl/certs/ca-certificates.crt"

# The documentation debian:*-slim leaves out (rootfs.SLIM_DPKG_OPTIONS), left out here too.
_DOC_PATH = re.compile(r"^usr/share/(man|info|lintian|locale|doc/[^/]+/(?!copyright$))")

# The three accounts of a distroless image; every one has no login shell because there is no shell.
PASSWD = (
    "root:x:0:0:root:/root:/sbin/nologin\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n"
    f"nonroot:x:{NONROOT_UID}:{NONROOT_UID}:nonroot:/home/nonroot:/sbin/nologin\n"
)
GROUP = f"root:x:0:\nnobody:x:65534:\ntty:x:5:\nstaff:x:50:\nnonroot:x:{NONROOT_UID}:\n"
# glibc reads this for name lookups; without it, it falls back to defaults that include nis.
NSSWITCH = "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\nnetworks: files\nprotocols: files\nservices: files\n"


def rootfs(
    suite: str,
    mirrors: list[str],
    packages: Iterable[str],
    exclude: Iterable[str],
    extra_ca: bytes,
    out: Path,
    node_binary: Path | None = None,
    epoch: int | None = None,
) -> Rootfs:
    """Only the files of `packages` and their dependencies minus `exclude`, as a tar at `out`.

    mmdebstrap resolves and downloads the packages (its `extract` variant); the image is then written
    straight from the .deb files, so nothing else mmdebstrap sets up (apt sources, /dev) gets in.
    The files we write carry `epoch` (SOURCE_DATE_EPOCH) as their time, the packages' files their own.
    """
    wanted = list(packages)
    excluded = set(exclude)
    with tempfile.TemporaryDirectory(prefix="imagelab-rootfs-") as scratch:
        root = Path(scratch) / "root"
        mmdebstrap(
            "extract", suite, mirrors, [*wanted, CA_PACKAGE], root, ["--skip=cleanup/apt/cache"], epoch
        )
        made_from = archive_date(root)
        states = inputs.describe(inputs.release_states(root / "var/lib/apt/lists"))
        debs = {_deb_field(deb, "Package"): deb for deb in (root / "var/cache/apt/archives").glob("*.deb")}
        depends = {
            name: ", ".join(filter(None, (_deb_field(deb, f) for f in ("Pre-Depends", "Depends"))))
            for name, deb in debs.items()
        }
        kept = {name: debs[name] for name in sorted(_closure(wanted, depends, excluded))}
        ca_deb = debs[CA_PACKAGE]
        with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tar:
            writer = _TarWriter(tar, int(time.time()) if epoch is None else epoch)
            for deb in kept.values():
                writer.add_deb(deb)
            writer.add_deb(ca_deb, only="usr/share/doc/ca-certificates/copyright")
            writer.merged_usr()
            bundle = certificates.ca_bundle(_debian_certificates_in_deb(ca_deb), extra_ca)
            writer.add_file(CA_BUNDLE, bundle)
            writer.add_file("etc/passwd", PASSWD.encode())
            writer.add_file("etc/group", GROUP.encode())
            writer.add_file("etc/nsswitch.conf", NSSWITCH.encode())
            writer.add_dir("home/nonroot", mode=0o700, uid=NONROOT_UID)
            writer.add_dir("tmp", mode=0o1777)
            for minimal in (name for name in kept if re.fullmatch(r"python3\.\d+-minimal", name)):
                # What Debian's python3 package would add; distroless has the same two links.
                interpreter = minimal.removesuffix("-minimal")
                writer.add_symlink("usr/bin/python3", interpreter)
                writer.add_symlink("usr/bin/python", interpreter)
            if node_binary is not None:
                writer.add_file("nodejs/bin/node", node_binary.read_bytes(), mode=0o755)
            # distroless keeps one dpkg record per package in status.d/, so scanners count packages.
            for name, deb in [*kept.items(), (CA_PACKAGE, ca_deb)]:
                writer.add_file(f"var/lib/dpkg/status.d/{name}", _deb_control(deb))
    return Rootfs(out, made_from, states)


def _closure(wanted: list[str], depends: dict[str, str], excluded: set[str]) -> set[str]:
    """`wanted` and what they depend on, among the packages in `depends` (name -> its Pre-Depends and
    Depends), never entering an excluded package: excluding one also leaves out what only it needed."""
    kept: set[str] = set()
    todo = [name for name in wanted if name not in excluded]
    while todo:
        name = todo.pop()
        if name in kept:
            continue
        kept.add(name)
        for clause in filter(None, (c.strip() for c in depends[name].split(","))):
            # "a (>= 1) | b": the first alternative apt downloaded; ":any" is an architecture qualifier.
            names = [alt.split()[0].split(":")[0] for alt in clause.split("|")]
            chosen = next((alt for alt in names if alt in depends), None)
            if chosen and chosen not in excluded:
                todo.append(chosen)
    return kept


def _debian_certificates_in_deb(deb: Path) -> dict[str, bytes]:
    found = {}
    with _deb_data(deb) as data:
        for member in data:
            if member.isfile() and member.name.endswith(".crt") and "/ca-certificates/" in member.name:
                content = data.extractfile(member)
                if content is not None:
                    found[member.name] = content.read()
    return found


class _TarWriter:
    """Appends to a tar without duplicate directories, creating missing parents as root-owned 0755."""

    def __init__(self, tar: tarfile.TarFile, mtime: int) -> None:
        self.tar = tar
        self.seen: set[str] = set()
        self.mtime = mtime

    def add_deb(self, deb: Path, only: str = "") -> None:
        """The files of a package (only the file `only` where given), as dpkg would unpack them."""
        with _deb_data(deb) as data:
            for member in data:
                name = member.name.removeprefix("./").rstrip("/")
                if not name or _DOC_PATH.match(name) or (member.isdir() and name in self.seen):
                    continue
                if member.isdir() and name in MERGED_USR:  # a link into /usr, added by `merged_usr`
                    continue
                if only and name != only:
                    continue
                member.name = _merged_usr(name)
                if member.islnk():
                    member.linkname = _merged_usr(member.linkname.removeprefix("./"))
                name = member.name
                self._parents(name)
                self.seen.add(name)
                self.tar.addfile(member, data.extractfile(member) if member.isreg() else None)

    def merged_usr(self) -> None:
        """/bin, /lib, ... as links into /usr where no package shipped them: Debian 13's base-files
        ships them, Debian 12's leaves them to the installer (and binaries need /lib64's loader)."""
        for top in MERGED_USR:
            if top not in self.seen:
                self.add_symlink(top, f"usr/{top}")

    def add_file(self, name: str, content: bytes, mode: int = 0o644) -> None:
        info = self._info(name, tarfile.REGTYPE, mode)
        info.size = len(content)
        self.tar.addfile(info, io.BytesIO(content))

    def add_dir(self, name: str, mode: int = 0o755, uid: int = 0) -> None:
        if name not in self.seen:
            info = self._info(name, tarfile.DIRTYPE, mode)
            info.uid = info.gid = uid
            self.tar.addfile(info)

    def add_symlink(self, name: str, target: str) -> None:
        info = self._info(name, tarfile.SYMTYPE, 0o777)
        info.linkname = target
        self.tar.addfile(info)

    def _info(self, name: str, kind: bytes, mode: int) -> tarfile.TarInfo:
        self._parents(name)
        self.seen.add(name)
        info = tarfile.TarInfo(name)
        info.type, info.mode, info.mtime = kind, mode, self.mtime
        return info

    def _parents(self, name: str) -> None:
        parts = name.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            parent = "/".join(parts[:depth])
            if parent not in self.seen:
                self.add_dir(parent)


MERGED_USR = ("bin", "sbin", "lib", "lib64")


def _merged_usr(name: str) -> str:
    """Debian 12 and 13 have /bin, /lib, ... only as links into /usr: a file a package still ships there
    goes under /usr, as dpkg would put it through the link."""
    top, _, rest = name.partition("/")
    return f"usr/{name}" if rest and top in MERGED_USR else name


@contextlib.contextmanager
def _deb_data(deb: Path) -> Iterator[tarfile.TarFile]:
    """The data.tar of a .deb as a streamed TarFile (dpkg-deb decompresses whatever it uses)."""
    command = ["dpkg-deb", "--fsys-tarfile", str(deb)]
    with (
        process.stream(
            command, timeout=300, what=f"dpkg-deb {deb.name}", read="stdout", text=False
        ) as running,
        tarfile.open(fileobj=running.pipe, mode="r|") as tar,
    ):
        yield tar
    if running.exit_code != 0:
        raise BuildError(f"dpkg-deb could not read {deb.name}")


def _deb_field(deb: Path, name: str) -> str:
    return _dpkg_deb_field(deb, name).strip()


def _deb_control(deb: Path) -> bytes:
    return _dpkg_deb_field(deb).encode()


def _dpkg_deb_field(deb: Path, *names: str) -> str:
    """`dpkg-deb --field`: the named fields of the package's control file (all of it when none)."""
    return process.run(
        ["dpkg-deb", "--field", str(deb), *names], timeout=300, what=f"dpkg-deb {deb.name}"
    ).stdout
