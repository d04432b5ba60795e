"""Programs the harness needs from the machine's own Debian release, installed with apt when missing.

Used on a Debian machine where we are root (a fresh CI machine, a user's build host): the engine's
runc, the registry, skopeo and mmdebstrap come as Debian packages. Anywhere else the missing program
is named in one line, with the command that brings it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path

from imagelab import process
from imagelab.errors import ConfigError, tail

DEBIAN_VERSION_FILE = Path("/etc/debian_version")
INSTALL_TIMEOUT_S = 600


def missing(programs: Mapping[str, str]) -> list[str]:
    """The packages, of `programs` ({program: package}), whose program is not on PATH; a key that is an
    absolute path (a header, a library) is looked for as that file."""
    return list(dict.fromkeys(pkg for program, pkg in programs.items() if not _present(program)))


def _present(program: str) -> bool:
    return Path(program).exists() if program.startswith("/") else shutil.which(program) is not None


def can_install() -> bool:
    return DEBIAN_VERSION_FILE.exists() and os.geteuid() == 0


def install_missing(programs: Mapping[str, str], log: Callable[[str], None], needed_for: str) -> None:
    """Install the Debian packages of the `programs` not on PATH; where apt is not ours to run, one
    line names them and the command that installs them."""
    packages = missing(programs)
    if not packages:
        return
    if not can_install():
        names = " and ".join(packages)
        raise ConfigError(
            f"{names} {'is' if len(packages) == 1 else 'are'} not installed: {needed_for} needs "
            f"{'it' if len(packages) == 1 else 'them'}",
            hint=f"on Debian or Ubuntu: `sudo apt-get install {' '.join(packages)}`",
        )
    log(f"installing {', '.join(packages)} from Debian")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        ["apt-get", "update", "-q"],
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages],
    ):
        done = process.run(command, timeout=INSTALL_TIMEOUT_S, what=" ".join(command), check=False, env=env)
        if not done.ok:
            raise ConfigError(
                f"{' '.join(command)} failed",
                hint="check the network and the Debian mirror",
                log=tail(done.stdout + done.stderr),
            )
