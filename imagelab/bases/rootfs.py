"""Debian root file systems as tar files, made with mmdebstrap, for `FROM scratch` + `ADD rootfs.tar /`.

Two kinds:
- `minbase`: a small but complete Debian (dpkg, apt, bash), what debian:trixie-slim is.
- `distroless`: only the files of named packages, unpacked from their .deb files the way distroless
  does it with Bazel: no maintainer script runs, so there is no shell, no package manager and nothing
  configured; what a program needs at run time (users, CA bundle, package records) is written here.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import tarfile
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from imagelab.engine import process
from imagelab.errors import BuildError, ConfigError, tail
from imagelab.inspect.users import NONROOT_UID

#: The version of what this module writes into a root file system. Raise it with any change to the files
#: an image gets (paths, users, CA bundle, excluded documentation...): the local base images are keyed on
#: it, and rebuilt when it moves. A change that writes the same files keeps it.
RECIPE_VERSION = 3
MMDEBSTRAP_TIMEOUT_S = 900
CA_PACKAGE = "ca-certificates"
CA_BUNDLE = "etc/ssl/certs/ca-certificates.crt"

# Like debian:*-slim, leave documentation out of the image (and of packages installed later: this
# goes to /etc/dpkg/dpkg.cfg.d/, where apt-get in a Dockerfile honours it). Copyright files stay.
# And like every official Debian image, let dpkg skip its sync() after each file it unpacks: a build
# step that dies is run again from its parent layer anyway. It matters: installing gcc, git and Go
# took 28-42 s with it against 50 s without, here; buildpack-deps installs far more.
SLIM_DPKG_OPTIONS = [
    "force-unsafe-io",
    "path-exclude=/usr/share/doc/*",
    "path-include=/usr/share/doc/*/copyright",
    "path-exclude=/usr/share/man/*",
    "path-exclude=/usr/share/info/*",
    "path-exclude=/usr/share/lintian/*",
    "path-exclude=/usr/share/locale/*",
]
# Like debian:*-slim, keep no downloaded .deb files or package caches after apt runs (images are
# rebuilt, not updated), and fetch no translated package descriptions.
_APT_CLEAN = (
    "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"
)
SLIM_APT_OPTIONS = [
    f'DPkg::Post-Invoke {{ "{_APT_CLEAN}"; }}',
    f'APT::Update::Post-Invoke {{ "{_APT_CLEAN}"; }}',
    'Dir::Cache::pkgcache ""',
    'Dir::Cache::srcpkgcache ""',
    'Acquire::Languages "none"',
    # The official images' other two apt settings: package lists stay compressed on disk, and
    # `apt-get purge --auto-remove` also removes what was only kept because something suggested it.
    'Acquire::GzipIndexes "true"',
    'Apt::AutoRemove::SuggestsImportant "false"',
]
# The same documentation, left out of distroless-style images.
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

_PEM = re.compile(rb"-----BEGIN CERTIFICATE-----\s.*?-----END CERTIFICATE-----", re.DOTALL)


@dataclass
class Rootfs:
    """A root file system written to `tar`, and which state of the Debian archive it was made from."""

    tar: Path
    archive_date: str = ""  # the Date: of the suite's InRelease: which state of the archive was used


def require_mmdebstrap() -> str:
    found = shutil.which("mmdebstrap")
    if not found:
        raise ConfigError(
            "mmdebstrap is not installed: it builds the local Debian base set",
            hint="run `nox -s engine` (installs it on Debian), or `apt-get install mmdebstrap`",
        )
    if os.geteuid() != 0:
        raise ConfigError(
            "building the local base set needs root (mmdebstrap unpacks files owned by other users)",
            hint="run it as root, e.g. `sudo nox -s bases`",
        )
    return found


def minbase(suite: str, mirror: str, packages: Iterable[str], extra_ca: bytes, out: Path) -> Rootfs:
    """Debian's minbase variant plus `packages`, trusting `extra_ca`, as a tar at `out`."""
    with tempfile.TemporaryDirectory(prefix="imagelab-rootfs-") as scratch:
        root = Path(scratch) / "root"
        _mmdebstrap(
            "minbase",
            suite,
            mirror,
            list(packages),
            root,
            [f"--dpkgopt={option}" for option in SLIM_DPKG_OPTIONS]
            + [f"--aptopt={option}" for option in SLIM_APT_OPTIONS],
        )
        archive_date = _archive_date(root)
        shutil.rmtree(root / "var/lib/apt/lists", ignore_errors=True)
        (root / "var/lib/apt/lists/partial").mkdir(parents=True)
        # Docker provides /dev, /etc/resolv.conf and /etc/hostname at run time; the build host's copies
        # (mmdebstrap needs them while it works) do not belong in the image.
        for name in ("etc/resolv.conf", "etc/hostname"):
            (root / name).unlink(missing_ok=True)
        for node in (root / "dev").iterdir():
            shutil.rmtree(node) if node.is_dir() and not node.is_symlink() else node.unlink()
        extra = extra_certificates(extra_ca, _debian_certificates_in(root / "usr/share/ca-certificates"))
        if extra:
            # update-ca-certificates keeps /usr/local/share/ca-certificates in the bundle on every later
            # run (e.g. when a Dockerfile installs ca-certificates again).
            (root / "usr/local/share/ca-certificates/imagelab-extra.crt").write_bytes(extra)
        if (root / "usr/sbin/update-ca-certificates").exists():
            _run(["chroot", str(root), "update-ca-certificates", "--fresh"], "update-ca-certificates")
        with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tar:
            tar.add(root, arcname=".")
    return Rootfs(out, archive_date)


def distroless(
    suite: str,
    mirror: str,
    packages: Iterable[str],
    exclude: Iterable[str],
    extra_ca: bytes,
    out: Path,
    node_binary: Path | None = None,
) -> Rootfs:
    """Only the files of `packages` and their dependencies minus `exclude`, as a tar at `out`.

    mmdebstrap resolves and downloads the packages (its `extract` variant); the image is then written
    straight from the .deb files, so nothing else mmdebstrap sets up (apt sources, /dev) gets in.
    """
    wanted = list(packages)
    excluded = set(exclude)
    with tempfile.TemporaryDirectory(prefix="imagelab-rootfs-") as scratch:
        root = Path(scratch) / "root"
        _mmdebstrap("extract", suite, mirror, [*wanted, CA_PACKAGE], root, ["--skip=cleanup/apt/cache"])
        archive_date = _archive_date(root)
        debs = {_deb_field(deb, "Package"): deb for deb in (root / "var/cache/apt/archives").glob("*.deb")}
        depends = {
            name: ", ".join(filter(None, (_deb_field(deb, f) for f in ("Pre-Depends", "Depends"))))
            for name, deb in debs.items()
        }
        kept = {name: debs[name] for name in sorted(_closure(wanted, depends, excluded))}
        ca_deb = debs[CA_PACKAGE]
        with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tar:
            writer = _TarWriter(tar)
            for deb in kept.values():
                writer.add_deb(deb)
            writer.add_deb(ca_deb, only="usr/share/doc/ca-certificates/copyright")
            writer.merged_usr()
            bundle = ca_bundle(_debian_certificates_in_deb(ca_deb), extra_ca)
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
    return Rootfs(out, archive_date)


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


def extra_certificates(extra_ca: bytes, known: set[bytes]) -> bytes:
    """The PEM certificates in `extra_ca` that are not among `known` (Debian's own), concatenated."""
    kept = [pem for pem in _PEM.findall(extra_ca) if _normalise(pem) not in known]
    return b"".join(pem + b"\n" for pem in kept)


def ca_bundle(debian: dict[str, bytes], extra_ca: bytes) -> bytes:
    """What update-ca-certificates would write: Debian's certificates in name order, then the extras."""
    known = {_normalise(pem) for pem in debian.values()}
    ordered = b"".join(debian[name].rstrip(b"\n") + b"\n" for name in sorted(debian))
    return ordered + extra_certificates(extra_ca, known)


def _normalise(pem: bytes) -> bytes:
    return b"".join(pem.split())


def _debian_certificates_in(folder: Path) -> set[bytes]:
    return {_normalise(pem) for crt in folder.rglob("*.crt") for pem in _PEM.findall(crt.read_bytes())}


def _debian_certificates_in_deb(deb: Path) -> dict[str, bytes]:
    found = {}
    with _deb_data(deb) as data:
        for member in data:
            if member.isfile() and member.name.endswith(".crt") and "/ca-certificates/" in member.name:
                found[member.name] = data.extractfile(member).read()
    return found


class _TarWriter:
    """Appends to a tar without duplicate directories, creating missing parents as root-owned 0755."""

    def __init__(self, tar: tarfile.TarFile) -> None:
        self.tar = tar
        self.seen: set[str] = set()
        self.mtime = int(os.environ.get("SOURCE_DATE_EPOCH", time.time()))

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
    return _run(["dpkg-deb", "--field", str(deb), name], f"dpkg-deb {deb.name}").strip()


def _deb_control(deb: Path) -> bytes:
    return _run(["dpkg-deb", "--field", str(deb)], f"dpkg-deb {deb.name}").encode()


def _archive_date(root: Path) -> str:
    for release in sorted((root / "var/lib/apt/lists").glob("*_InRelease")):
        match = re.search(r"^Date: (.*)$", release.read_text(errors="replace"), re.MULTILINE)
        if match:
            return match.group(1).strip()
    return ""


def _mmdebstrap(
    variant: str, suite: str, mirror: str, packages: list[str], root: Path, options: list[str]
) -> None:
    command = [
        require_mmdebstrap(),
        f"--variant={variant}",
        "--mode=root",
        "--format=directory",
        "--skip=cleanup/apt/lists",
        *options,
    ]
    if packages:
        command.append("--include=" + ",".join(packages))
    command += [suite, str(root), mirror]
    result = process.run(
        command,
        timeout=MMDEBSTRAP_TIMEOUT_S,
        what=f"mmdebstrap {variant} {suite}",
        check=False,
        hint="is the Debian mirror reachable? set IMAGELAB_DEBIAN_MIRROR to another one",
    )
    if not result.ok:
        raise package_failure(result.stdout + result.stderr, suite, f"mmdebstrap {variant}")


def package_failure(log: str, suite: str, what: str) -> BuildError:
    """A BuildError that names the package and the suite where the log says which one failed."""
    missing = re.search(r"Unable to locate package (\S+)", log) or re.search(
        r"Package '?([^' ]+)'? has no installation candidate", log
    )
    if missing:
        return BuildError(
            f"package {missing.group(1)} is not in Debian {suite}",
            hint="check the name in dockerfiles/bases/bases.toml (https://packages.debian.org)",
            log=tail(log),
        )
    fetch = re.search(r"Failed to fetch \S*/pool/\S+/([^/_\s]+)_\S+\.deb", log)
    if fetch:
        return BuildError(
            f"downloading package {fetch.group(1)} from Debian {suite} failed",
            hint="is the Debian mirror reachable? set IMAGELAB_DEBIAN_MIRROR to another one",
            log=tail(log),
        )
    return BuildError(f"{what} for Debian {suite} failed", log=tail(log))


def _run(command: list[str], what: str) -> str:
    return process.run(command, timeout=300, what=what).stdout
