"""Debian root file systems as tar files, made with mmdebstrap, for `FROM scratch` + `ADD rootfs.tar /`.

Two kinds:
- `minbase` (here): a small but complete Debian (dpkg, apt, bash), what debian:trixie-slim is.
- distroless.py: only the files of named packages, unpacked from their .deb files.
"""

from __future__ import annotations

import email.utils
import os
import re
import shutil
import tarfile
import tempfile
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from imagelab import apt, process
from imagelab.bases import certificates, inputs
from imagelab.errors import BuildError, ConfigError, tail
from imagelab.terminal import terminal

#: The version of what this module and distroless.py write into a root file system. Raise it with any
#: change to the files an image gets (paths, users, CA bundle, excluded documentation...): the local base
#: images are keyed on it, and rebuilt when it moves. A change that writes the same files keeps it.
RECIPE_VERSION = 4  # 4: files clamped to SOURCE_DATE_EPOCH, numeric owners (reproducible)
MMDEBSTRAP_TIMEOUT_S = 900
RELEASE_TIMEOUT_S = 30  # one InRelease file, read before mmdebstrap runs

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
#: mmdebstrap's hooks that make /usr merged by symlinks and install usr-is-merged, as debuerreotype (which
#: makes the official debian images) does; part of the mmdebstrap package.
MERGED_USR_HOOKS = "/usr/share/mmdebstrap/hooks/merged-usr"
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


@dataclass
class Rootfs:
    """A root file system written to `tar`, and which state of the Debian archive it was made from."""

    tar: Path
    archive_date: str = ""  # the Date: of the suite's InRelease: which state of the archive was used
    archive: str = ""  # every suite's Date and Valid-Until (inputs.describe)


def require_mmdebstrap() -> str:
    # On a user's own engine too (nox -s engine may never have run): installed as the registry is.
    apt.install_missing({"mmdebstrap": "mmdebstrap"}, terminal.step, "building the local Debian base set")
    if os.geteuid() != 0:
        raise ConfigError(
            "building the local base set needs root (mmdebstrap unpacks files owned by other users)",
            hint="run it as root, e.g. `sudo nox -s bases`",
        )
    return shutil.which("mmdebstrap") or "mmdebstrap"


def minbase(
    suite: str,
    mirrors: list[str],
    packages: Iterable[str],
    extra_ca: bytes,
    out: Path,
    epoch: int | None = None,
    usr_is_merged: bool = False,
) -> Rootfs:
    """Debian's minbase variant plus `packages`, trusting `extra_ca`, as a tar at `out`. `mirrors`: a
    mirror URL, or `deb` lines (the release and its pockets), which stay in the image's apt sources as
    the official images keep theirs. `epoch` (SOURCE_DATE_EPOCH, see `archive_epoch`): the time every
    file is clamped to, so that the same packages make the same tar. `usr_is_merged`: merge /usr before
    the packages go in, with mmdebstrap's own hook, so that nothing installs usrmerge (and perl with it)
    to do it."""
    hooks = [f"--hook-dir={MERGED_USR_HOOKS}"] if usr_is_merged else []
    with tempfile.TemporaryDirectory(prefix="imagelab-rootfs-") as scratch:
        root = Path(scratch) / "root"
        mmdebstrap(
            "minbase",
            suite,
            mirrors,
            list(packages),
            root,
            [f"--dpkgopt={option}" for option in SLIM_DPKG_OPTIONS]
            + [f"--aptopt={option}" for option in SLIM_APT_OPTIONS]
            + hooks,
            epoch,
        )
        made_from = archive_date(root)
        states = inputs.describe(inputs.release_states(root / "var/lib/apt/lists"))
        shutil.rmtree(root / "var/lib/apt/lists", ignore_errors=True)
        (root / "var/lib/apt/lists/partial").mkdir(parents=True)
        # Docker provides /dev, /etc/resolv.conf and /etc/hostname at run time; the build host's copies
        # (mmdebstrap needs them while it works) do not belong in the image.
        for name in ("etc/resolv.conf", "etc/hostname"):
            (root / name).unlink(missing_ok=True)
        for node in (root / "dev").iterdir():
            shutil.rmtree(node) if node.is_dir() and not node.is_symlink() else node.unlink()
        extra = certificates.extra_certificates(
            extra_ca, certificates.debian_certificates_in(root / "usr/share/ca-certificates")
        )
        if extra:
            # update-ca-certificates keeps /usr/local/share/ca-certificates in the bundle on every later
            # run (e.g. when a Dockerfile installs ca-certificates again).
            (root / "usr/local/share/ca-certificates/imagelab-extra.crt").write_bytes(extra)
        if (root / "usr/sbin/update-ca-certificates").exists():
            _run(["chroot", str(root), "update-ca-certificates", "--fresh"], "update-ca-certificates")
        with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tar:
            tar.add(root, arcname=".", filter=lambda member: reproducible(member, epoch))
    return Rootfs(out, made_from, states)


def reproducible(member: tarfile.TarInfo, epoch: int | None) -> tarfile.TarInfo:
    """A tar entry that says the same whenever the same files are written: no time after `epoch` (files
    written by maintainer scripts and by us carry the time they ran), numeric owners only (the names
    come from the build host's passwd). tarfile already adds a folder's entries in sorted order."""
    if epoch is not None:
        member.mtime = min(int(member.mtime), epoch)
    member.uname = member.gname = ""
    return member


def archive_epoch(suite: str, mirrors: list[str]) -> int | None:
    """SOURCE_DATE_EPOCH for a root file system of `suite` from `mirrors` (as `minbase` takes them): the
    newest Date of the suites' InRelease files now, the same for as long as the archive holds the same
    state, as debuerreotype takes a snapshot's time. None when no index answers (mmdebstrap will then
    say why), and the image is not reproducible."""
    states = []
    for uri, dist in _release_sources(suite, mirrors):
        if not uri.startswith(("http://", "https://")):
            continue
        url = f"{uri.rstrip('/')}/dists/{dist}/InRelease"
        try:
            with urllib.request.urlopen(url, timeout=RELEASE_TIMEOUT_S) as response:
                state = inputs.parse_release(response.read().decode("utf-8", "replace"))
        except (OSError, ValueError):  # URLError is an OSError
            return None
        if state is not None:
            states.append(state)
    newest = inputs.newest(states)
    return int(newest.timestamp()) if newest else None


def _release_sources(suite: str, mirrors: list[str]) -> list[tuple[str, str]]:
    """(URI, suite) of each source: a bare mirror URL is the release itself."""
    found = []
    for entry in mirrors:
        words = entry.split()
        if len(words) >= 3 and words[0] == "deb":
            found.append((words[1], words[2]))
        elif len(words) == 1:
            found.append((words[0], suite))
    return found


def archive_date(root: Path) -> str:
    """The newest Date: of the suites' InRelease files: the state of the archive the files come from."""
    dates = []
    for release in sorted((root / "var/lib/apt/lists").glob("*_InRelease")):
        match = re.search(r"^Date: (.*)$", release.read_text(errors="replace"), re.MULTILINE)
        if match:
            dates.append(match.group(1).strip())
    return max(dates, key=_when, default="")


def _when(date: str) -> float:
    try:
        return email.utils.parsedate_to_datetime(date).timestamp()
    except (TypeError, ValueError):
        return 0.0


def mmdebstrap(
    variant: str,
    suite: str,
    mirrors: list[str],
    packages: list[str],
    root: Path,
    options: list[str],
    epoch: int | None = None,
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
    command += [suite, str(root), *mirrors]
    # A TMPDIR of its own, removed afterwards: mmdebstrap stopped mid-way (Ctrl-C) leaves its gpghome
    # there, and the runner has reaped it before the folder goes.
    with tempfile.TemporaryDirectory(prefix="imagelab-mmdebstrap-") as scratch:
        env = {**os.environ, "TMPDIR": scratch}
        if epoch is not None:
            # mmdebstrap then removes its logs and ldconfig's aux-cache, and dpkg and the maintainer
            # scripts write this time (e.g. /etc/shadow's last-change day) instead of today's.
            env["SOURCE_DATE_EPOCH"] = str(epoch)
        else:
            env.pop("SOURCE_DATE_EPOCH", None)
        result = process.run(
            command,
            timeout=MMDEBSTRAP_TIMEOUT_S,
            what=f"mmdebstrap {variant} {suite}",
            check=False,
            hint="is the Debian mirror reachable? set IMAGELAB_DEBIAN_MIRROR to another one",
            env=env,
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
