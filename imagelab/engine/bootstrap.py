"""Make sure a Docker engine with BuildKit answers, installing and starting one where we may.

Where an engine already answers this only reports its versions. On a Debian machine where we are root
and none answers (a fresh CI machine), it installs Debian's docker.io and mmdebstrap, takes the buildx
plugin from Debian 13's docker-buildx package (Debian 12 has none) and starts dockerd in the background
with published ports bound to 127.0.0.1. Anywhere else it stops with one line saying what to install.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from imagelab import aptsources, engine, process
from imagelab.errors import EngineError, tail

BUILDX_SUITE = "trixie"  # the first Debian release that packages buildx
PLUGIN_DIR = Path("/usr/libexec/docker/cli-plugins")
DEBIAN_VERSION_FILE = Path("/etc/debian_version")
DOCKERD_LOG = Path("/var/log/imagelab-dockerd.log")
START_TIMEOUT_S = 60
INSTALL_HINT = (
    "install Docker Engine with the buildx plugin (Docker Desktop on macOS and Windows) and start it"
)


@dataclass(frozen=True)
class EngineInfo:
    server: str
    api: str
    buildx: str
    buildkit: str

    def describe(self) -> str:
        return f"Docker engine {self.server} (API {self.api}), buildx {self.buildx}, BuildKit {self.buildkit}"


def ensure_engine(log=print) -> EngineInfo:
    """Return the engine's versions, installing and starting it first where that is ours to do."""
    if not engine.answers():
        if os.environ.get("DOCKER_HOST"):
            # The user chose an engine: starting another one elsewhere would not answer their question.
            raise EngineError(
                f"no Docker engine answers at DOCKER_HOST={os.environ['DOCKER_HOST']}",
                hint="start that engine, or unset DOCKER_HOST to use the local one",
            )
        _check_can_install()
        _install_packages(log)
        _start_dockerd(log)
    if buildx_version() is None:
        if (PLUGIN_DIR / "docker-buildx").is_file():
            # Installed, yet this docker CLI does not find it: a second install would not help.
            raise EngineError(
                "the docker CLI has no buildx plugin (`docker buildx version` fails)",
                hint=f"install docker-buildx where this docker looks for plugins ({PLUGIN_DIR}, "
                "or $DOCKER_CONFIG/cli-plugins), or use a docker CLI that has it",
            )
        _check_can_install()
        _install_buildx(log)
        if buildx_version() is None:
            raise EngineError(
                f"the buildx plugin was installed in {PLUGIN_DIR}, but `docker buildx version` still fails",
                hint=INSTALL_HINT,
            )
    return info()


def info() -> EngineInfo:
    version = engine.versions()
    return EngineInfo(
        server=version["Version"],
        api=version["ApiVersion"],
        buildx=buildx_version() or "missing",
        buildkit=_buildkit_version(),
    )


def buildx_version() -> str | None:
    try:
        done = process.run(
            ["docker", "buildx", "version"], timeout=30, what="docker buildx version", check=False
        )
    except process.ProcessError:  # no docker CLI, or it hangs
        return None
    if not done.ok:
        return None
    words = done.stdout.split()  # "github.com/docker/buildx 0.13.1+ds1 <revision>"
    return words[1] if len(words) > 1 else done.stdout.strip()


def _buildkit_version() -> str:
    done = process.run(["docker", "buildx", "inspect"], timeout=30, what="docker buildx inspect", check=False)
    for line in done.stdout.splitlines():
        if line.strip().startswith("BuildKit"):  # "BuildKit:" or "BuildKit version:" by buildx version
            return line.split(":", 1)[1].strip()
    return "unknown"


def _check_can_install() -> None:
    if os.uname().sysname != "Linux" or not DEBIAN_VERSION_FILE.exists():
        raise EngineError(
            "no Docker engine with buildx answers, and this is not a Debian machine", hint=INSTALL_HINT
        )
    if os.geteuid() != 0:
        raise EngineError(
            "no Docker engine with buildx answers, and installing one needs root",
            hint=f"run as root, or {INSTALL_HINT}",
        )


def _run(cmd: list[str], what: str, timeout: int = 600, cwd: Path | None = None) -> process.Done:
    return process.run(
        cmd,
        timeout=timeout,
        what=what,
        hint="check the network and the Debian mirror",
        cwd=cwd,
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
    )


def _install_packages(log) -> None:
    missing = [
        pkg
        for pkg, cmd in (("docker.io", "dockerd"), ("mmdebstrap", "mmdebstrap"))
        if shutil.which(cmd) is None
    ]
    if not missing:
        return
    log(f"installing {', '.join(missing)} from Debian")
    _run(["apt-get", "update", "-q"], "apt-get update")
    _run(
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing],
        f"apt-get install {' '.join(missing)}",
    )


def _install_buildx(log) -> None:
    """Unpack docker-buildx from Debian 13 with a private apt configuration: the system's is untouched."""
    log(f"installing the buildx plugin from Debian {BUILDX_SUITE}'s docker-buildx package")
    with tempfile.TemporaryDirectory(prefix="imagelab-buildx-") as tmp:
        work = Path(tmp)
        (work / "lists" / "partial").mkdir(parents=True)
        sources = work / "sources.list"
        mirror = aptsources.debian_mirror()
        if not mirror:
            raise EngineError(
                "no Debian mirror in this machine's apt sources to fetch docker-buildx from",
                hint=f"set {aptsources.MIRROR_ENV} to a Debian mirror's URL",
            )
        sources.write_text(
            f"deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] {mirror} {BUILDX_SUITE} main\n"
        )
        apt = [
            "apt-get",
            "-o",
            f"Dir::Etc::SourceList={sources}",
            "-o",
            "Dir::Etc::SourceParts=/dev/null",
            "-o",
            f"Dir::State::Lists={work / 'lists'}",
            "-o",
            f"Dir::Cache={work / 'cache'}",
        ]
        _run([*apt, "update", "-q"], f"apt-get update for Debian {BUILDX_SUITE}")
        try:
            _run([*apt, "download", "docker-buildx"], "apt-get download docker-buildx", timeout=300, cwd=work)
        except process.ProcessError as exc:
            raise EngineError(
                f"could not download docker-buildx from Debian {BUILDX_SUITE}",
                hint="check that the Debian archive answers",
                log=exc.log[-5:],
            ) from exc
        debs = sorted(work.glob("docker-buildx_*.deb"))
        if not debs:
            raise EngineError(
                f"apt-get download left no docker-buildx package from Debian {BUILDX_SUITE}",
                hint="check that the Debian archive answers",
            )
        _run(["dpkg-deb", "-x", str(debs[0]), str(work / "root")], "unpacking docker-buildx")
        PLUGIN_DIR.mkdir(parents=True, exist_ok=True)
        shutil.copy2(work / "root" / "usr/libexec/docker/cli-plugins/docker-buildx", PLUGIN_DIR)


def _start_dockerd(log) -> None:
    if not _dockerd_running():
        log(f"starting dockerd (published ports on 127.0.0.1, log in {DOCKERD_LOG})")
        DOCKERD_LOG.parent.mkdir(parents=True, exist_ok=True)
        process.detach(["dockerd", "--ip", "127.0.0.1"], log=DOCKERD_LOG, what="dockerd")
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if engine.answers():
            return
        time.sleep(1)
    text = DOCKERD_LOG.read_text(errors="replace") if DOCKERD_LOG.exists() else ""
    raise EngineError(
        f"dockerd did not answer within {START_TIMEOUT_S} s", hint=f"see {DOCKERD_LOG}", log=tail(text)
    )


def _dockerd_running() -> bool:
    pid_file = Path("/var/run/docker.pid")
    try:
        os.kill(int(pid_file.read_text().strip()), 0)
    except (OSError, ValueError):
        return False
    return True
