"""Make sure a Docker engine with BuildKit answers, installing and starting one where we may.

Where an engine already answers this only reports its versions: a user's own Docker is used as it is.
On a Debian machine where we are root and none answers (a fresh CI machine), it starts one of the
engines below, published ports bound to 127.0.0.1. Anywhere else it stops with one line saying what to
install.

- forky (the default): Debian's current packages, docker.io 28.5 with containerd 2.1 and buildx 0.29,
  from Debian's testing suite. Unpacked into a folder of the project's own, never installed over the
  machine's release; they run on Debian 12 with its runc. A few seconds cold, and the same binary runs
  either image store (`--store classic|containerd`).
- source: Docker Engine 29 (containerd image store by default, as on a new install), built from its Go
  module with the runc it needs (engine/source.py; about 3.5 minutes once, then kept), with forky's
  containerd and buildx.
- trixie: Debian 13's docker.io 26.1 with containerd 1.7 and buildx 0.13, unpacked like forky's, with
  Debian 12's runc: the engine a Debian 13 machine installs, on either store.
- debian: Debian 12's own docker.io 20.10 (upstream end of life, BuildKit 0.8, classic store only),
  installed with apt, and Debian 13's buildx 0.13: the oldest engine the project still runs on.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from imagelab import apt, engine, process
from imagelab.engine import kinds
from imagelab.errors import EngineError, tail

PLUGIN_DIR = Path("/usr/libexec/docker/cli-plugins")
#: What the engine this project started runs as (kind, store, pid): read before starting another.
STATE_FILE = kinds.HOME / "engine.json"
DOCKERD_LOG = Path("/var/log/imagelab-dockerd.log")
PID_FILE = Path("/var/run/docker.pid")
START_TIMEOUT_S = 60
STOP_TIMEOUT_S = 30
INSTALL_HINT = (
    "install Docker Engine with the buildx plugin (Docker Desktop on macOS and Windows) and start it"
)
ENGINE_ENV, STORE_ENV = "IMAGELAB_ENGINE", "IMAGELAB_STORE"


@dataclass(frozen=True)
class EngineInfo:
    server: str
    api: str
    buildx: str
    buildkit: str
    store: str = "classic"
    started_as: str = ""  # the kind this project started, "" for an engine it found

    def describe(self) -> str:
        where = f"started by imagelab as --engine {self.started_as}" if self.started_as else "found running"
        return (
            f"Docker engine {self.server} (API {self.api}, {self.store} image store, {where}), "
            f"buildx {self.buildx}, BuildKit {self.buildkit}"
        )


def ensure_engine(log=print, kind: str | None = None, store: str | None = None) -> EngineInfo:
    """Return the engine's versions, installing and starting it first where that is ours to do.

    `kind` and `store` (else $IMAGELAB_ENGINE and $IMAGELAB_STORE) ask for one engine in particular: an
    engine this project started as another kind is stopped and the asked one started in its place.
    """
    kind = kind or os.environ.get(ENGINE_ENV) or None
    store = store or os.environ.get(STORE_ENV) or None
    wanted = _wanted(kind, store) if kind or store else None
    if engine.answers():
        started = _started()
        if wanted is not None and started != wanted:
            if started is None:
                found = info()
                # Only a store was asked for, and the user's engine has it: use it. Otherwise say why not.
                if kind is not None or found.store != wanted[1]:
                    raise EngineError(
                        f"asked for --engine {wanted[0]} --store {wanted[1]}, but an engine imagelab did "
                        f"not start answers ({found.server}, {found.store} store)",
                        hint="leave out --engine and --store to use it, or stop it and run again",
                    )
            else:
                log(f"stopping the engine started as --engine {started[0]} --store {started[1]}")
                _stop_dockerd()
    elif os.environ.get("DOCKER_HOST"):
        # The user chose an engine: starting another one elsewhere would not answer their question.
        raise EngineError(
            f"no Docker engine answers at DOCKER_HOST={os.environ['DOCKER_HOST']}",
            hint="start that engine, or unset DOCKER_HOST to use the local one",
        )
    if not engine.answers():
        _check_can_install()
        _start(*(wanted or (kinds.DEFAULT_KIND, kinds.DEFAULT_STORE)), log)
    if buildx_version() is None:
        if (PLUGIN_DIR / "docker-buildx").is_file():
            # Installed, yet this docker CLI does not find it: a second install would not help.
            raise EngineError(
                "the docker CLI has no buildx plugin (`docker buildx version` fails)",
                hint=f"install docker-buildx where this docker looks for plugins ({PLUGIN_DIR}, "
                "or $DOCKER_CONFIG/cli-plugins), or use a docker CLI that has it",
            )
        _check_can_install()
        _install_buildx(kinds.KINDS[kinds.DEFAULT_KIND].buildx_suite, log)
        if buildx_version() is None:
            raise EngineError(
                f"the buildx plugin was installed in {PLUGIN_DIR}, but `docker buildx version` still fails",
                hint=INSTALL_HINT,
            )
    return info()


def _wanted(kind: str | None, store: str | None) -> tuple[str, str]:
    name = kind or kinds.DEFAULT_KIND
    if name not in kinds.KINDS:
        raise EngineError(f"unknown engine {name!r}", hint=f"choose one of: {', '.join(kinds.KINDS)}")
    if store is not None and store not in kinds.STORES:
        raise EngineError(f"unknown image store {store!r}", hint=f"choose one of: {', '.join(kinds.STORES)}")
    chosen = store or (kinds.DEFAULT_STORE if name == kinds.DEFAULT_KIND else kinds.KINDS[name].stores[0])
    if chosen not in kinds.KINDS[name].stores:
        raise EngineError(
            f"--engine {name} has no {chosen} image store",
            hint=f"it has: {', '.join(kinds.KINDS[name].stores)}",
        )
    return name, chosen


def info() -> EngineInfo:
    version = engine.versions()
    started = _started()
    return EngineInfo(
        server=version["Version"],
        api=version["ApiVersion"],
        buildx=buildx_version() or "missing",
        buildkit=_buildkit_version(),
        store=engine.image_store(),
        started_as=started[0] if started else "",
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
            found = line.split(":", 1)[1].strip()
            # Debian builds the engine without BuildKit's version stamp: say so rather than "v0.0.0".
            return "built in, version not stamped" if found.startswith("v0.0.0") else found
    return "unknown"


def _check_can_install() -> None:
    if os.uname().sysname != "Linux" or not apt.DEBIAN_VERSION_FILE.exists():
        raise EngineError(
            "no Docker engine with buildx answers, and this is not a Debian machine", hint=INSTALL_HINT
        )
    if os.geteuid() != 0:
        raise EngineError(
            "no Docker engine with buildx answers, and installing one needs root",
            hint=f"run as root, or {INSTALL_HINT}",
        )


def _install_buildx(suite: str, log) -> None:
    """Put `suite`'s buildx plugin where the docker CLI finds it, unless one the user put there is."""
    ours = PLUGIN_DIR / ".imagelab-buildx"  # says the plugin there is the one this project put
    plugin = PLUGIN_DIR / "docker-buildx"
    if plugin.exists() and not ours.exists():
        return
    # The marker alone proves nothing: a plugin removed by hand (or by a package) leaves it behind.
    if plugin.is_file() and ours.exists() and ours.read_text().strip() == suite:
        return
    PLUGIN_DIR.mkdir(parents=True, exist_ok=True)
    shutil.copy2(kinds.buildx_plugin(suite, log), plugin)
    ours.write_text(suite + "\n")


def _start(kind_name: str, store: str, log) -> None:
    kind = kinds.KINDS[kind_name]
    ready = kinds.programs(kind_name, log)
    _install_buildx(kind.buildx_suite, log)
    data_root = kinds.HOME / "engines" / f"{kind.name}-{store}"
    data_root.mkdir(parents=True, exist_ok=True)
    config = kinds.HOME / "engines" / f"{kind.name}-{store}.json"
    settings = {"ip": "127.0.0.1", "data-root": str(data_root), **kinds.store_settings(kind, store)}
    config.write_text(json.dumps(settings, indent=2) + "\n")
    log(f"starting {kind.describe}, {store} image store (published ports on 127.0.0.1, log in {DOCKERD_LOG})")
    DOCKERD_LOG.parent.mkdir(parents=True, exist_ok=True)
    pid = process.detach(
        [ready.dockerd, "--config-file", str(config)], log=DOCKERD_LOG, what="dockerd", env=ready.env
    )
    STATE_FILE.write_text(json.dumps({"engine": kind.name, "store": store, "pid": pid}) + "\n")
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if engine.answers():
            return
        if not _alive(pid):
            break
        time.sleep(0.5)
    text = DOCKERD_LOG.read_text(errors="replace") if DOCKERD_LOG.exists() else ""
    raise EngineError(
        f"dockerd did not answer within {START_TIMEOUT_S} s", hint=f"see {DOCKERD_LOG}", log=tail(text)
    )


def _started() -> tuple[str, str] | None:
    """(kind, store) of the engine this project started, if that engine still runs."""
    try:
        state = json.loads(STATE_FILE.read_text())
        pid = int(PID_FILE.read_text().strip())
    except (OSError, ValueError):
        return None
    if pid != state.get("pid") or not _alive(pid):
        return None
    return state["engine"], state["store"]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    # A zombie child (a dockerd this process spawned and that died) still takes signal 0.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return True


def _stop_dockerd() -> None:
    """Stop the engine this project started (its containers stop with it) and wait until it is gone."""
    state = json.loads(STATE_FILE.read_text())
    os.kill(state["pid"], signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while _alive(state["pid"]) and time.monotonic() < deadline:
        time.sleep(0.2)
    if _alive(state["pid"]):
        os.kill(state["pid"], signal.SIGKILL)
    STATE_FILE.unlink(missing_ok=True)
    engine.client.cache_clear()
