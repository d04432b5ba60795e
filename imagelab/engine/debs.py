"""Debian packages from another release, fetched with apt and unpacked into a folder, never installed.

The engine's programs and the buildx plugin come from Debian releases newer than the machine's (their
binaries need glibc 2.34 and run on Debian 12's 2.36). Installing them with dpkg would mix releases, so
apt runs with a configuration of its own (its own sources, lists and cache in a temporary folder): the
machine's apt sources and package state stay as they were.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from imagelab import aptsources, process
from imagelab.errors import EngineError

KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"


def _apt(work: Path) -> list[str]:
    return [
        "apt-get",
        "-o",
        f"Dir::Etc::SourceList={work / 'sources.list'}",
        "-o",
        "Dir::Etc::SourceParts=/dev/null",
        "-o",
        f"Dir::State::Lists={work / 'lists'}",
        "-o",
        f"Dir::Cache={work / 'cache'}",
    ]


def _run(cmd: list[str], what: str, cwd: Path | None = None) -> process.Done:
    return process.run(
        cmd,
        timeout=300,
        what=what,
        hint="check the network and the Debian mirror",
        cwd=cwd,
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
    )


def unpack(suite: str, packages: list[str], dest: Path) -> dict[str, str]:
    """Download `packages` from Debian `suite` and unpack them all into `dest`; their versions by name.

    A testing suite moves, so the versions are whatever its index serves today: the caller records them.
    """
    mirror = aptsources.debian_mirror()
    if not mirror:
        raise EngineError(
            f"no Debian mirror in this machine's apt sources to fetch {', '.join(packages)} from",
            hint=f"set {aptsources.MIRROR_ENV} to a Debian mirror's URL",
        )
    with tempfile.TemporaryDirectory(prefix="imagelab-debs-") as tmp:
        work = Path(tmp)
        (work / "lists" / "partial").mkdir(parents=True)
        (work / "sources.list").write_text(f"deb [signed-by={KEYRING}] {mirror} {suite} main\n")
        _run([*_apt(work), "update", "-q"], f"apt-get update for Debian {suite}")
        try:
            _run([*_apt(work), "download", *packages], f"apt-get download {' '.join(packages)}", cwd=work)
        except process.ProcessError as exc:
            raise EngineError(
                f"could not download {', '.join(packages)} from Debian {suite}",
                hint="check that the Debian archive answers",
                log=exc.log[-5:],
            ) from exc
        versions: dict[str, str] = {}
        for package in packages:
            debs = sorted(work.glob(f"{package}_*.deb"))
            if not debs:
                raise EngineError(
                    f"apt-get download left no {package} package from Debian {suite}",
                    hint="check that the Debian archive answers",
                )
            # "docker.io_28.5.2+dfsg4-5_amd64.deb": apt writes an epoch's colon as %3a
            versions[package] = debs[0].name.split("_")[1].replace("%3a", ":")
            _run(["dpkg-deb", "-x", str(debs[0]), str(dest)], f"unpacking {package}")
    return versions
