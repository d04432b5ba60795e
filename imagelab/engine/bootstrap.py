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
from imagelab.engine import debs, source
from imagelab.errors import EngineError, tail

PLUGIN_DIR = Path("/usr/libexec/docker/cli-plugins")
#: The engines the project starts, their programs and what they ran with: kept across runs, so the
#: second start costs nothing.
HOME = Path("/var/lib/imagelab")
STATE_FILE = HOME / "engine.json"
DOCKERD_LOG = Path("/var/log/imagelab-dockerd.log")
PID_FILE = Path("/var/run/docker.pid")
START_TIMEOUT_S = 60
STOP_TIMEOUT_S = 30
INSTALL_HINT = (
    "install Docker Engine with the buildx plugin (Docker Desktop on macOS and Windows) and start it"
)
ENGINE_ENV, STORE_ENV = "IMAGELAB_ENGINE", "IMAGELAB_STORE"
STORES = ("classic", "containerd")


@dataclass(frozen=True)
class Kind:
    """An engine the project can start, and where its programs come from."""

    name: str
    describe: str
    stores: tuple[str, ...]
    buildx_suite: str  # the Debian release whose docker-buildx plugin goes with it
    engine_suite: str = ""  # "" when the engine is the machine's own release's, installed with apt
    from_source: bool = False  # dockerd and runc built from their Go modules (engine/source.py)


KINDS = {
    "forky": Kind(
        "forky",
        "Debian forky's docker.io (28.5), containerd 2.1 and buildx 0.29, unpacked beside Debian 12",
        STORES,
        buildx_suite="forky",
        engine_suite="forky",
    ),
    "source": Kind(
        "source",
        f"Docker Engine 29 built from moby's Go module ({source.MOBY_VERSION}), with forky's containerd",
        ("containerd", "classic"),
        buildx_suite="forky",
        engine_suite="forky",
        from_source=True,
    ),
    "trixie": Kind(
        "trixie",
        "Debian 13's docker.io (26.1), containerd 1.7 and buildx 0.13, unpacked beside Debian 12",
        STORES,
        buildx_suite="trixie",
        engine_suite="trixie",
    ),
    "debian": Kind(
        "debian",
        "Debian 12's docker.io 20.10 (BuildKit 0.8, classic store) and Debian 13's buildx 0.13",
        ("classic",),
        buildx_suite="trixie",
    ),
}
DEFAULT_KIND, DEFAULT_STORE = "forky", "classic"
#: Unpacked from each engine_suite: the engine, its containerd, `docker run --init`'s tini, and buildx.
#: forky splits the static tini docker-init links to into a package of its own; trixie ships it in tini.
ENGINE_PACKAGES = {
    "forky": ["docker.io", "containerd", "tini-static", "docker-buildx"],
    "trixie": ["docker.io", "containerd", "tini", "docker-buildx"],
}


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
        _start(*(wanted or (DEFAULT_KIND, DEFAULT_STORE)), log)
    if buildx_version() is None:
        if (PLUGIN_DIR / "docker-buildx").is_file():
            # Installed, yet this docker CLI does not find it: a second install would not help.
            raise EngineError(
                "the docker CLI has no buildx plugin (`docker buildx version` fails)",
                hint=f"install docker-buildx where this docker looks for plugins ({PLUGIN_DIR}, "
                "or $DOCKER_CONFIG/cli-plugins), or use a docker CLI that has it",
            )
        _check_can_install()
        _install_buildx(KINDS[DEFAULT_KIND].buildx_suite, log)
        if buildx_version() is None:
            raise EngineError(
                f"the buildx plugin was installed in {PLUGIN_DIR}, but `docker buildx version` still fails",
                hint=INSTALL_HINT,
            )
    return info()


def _wanted(kind: str | None, store: str | None) -> tuple[str, str]:
    name = kind or DEFAULT_KIND
    if name not in KINDS:
        raise EngineError(f"unknown engine {name!r}", hint=f"choose one of: {', '.join(KINDS)}")
    if store is not None and store not in STORES:
        raise EngineError(f"unknown image store {store!r}", hint=f"choose one of: {', '.join(STORES)}")
    chosen = store or (DEFAULT_STORE if name == DEFAULT_KIND else KINDS[name].stores[0])
    if chosen not in KINDS[name].stores:
        raise EngineError(
            f"--engine {name} has no {chosen} image store", hint=f"it has: {', '.join(KINDS[name].stores)}"
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


def _unpacked(suite: str, packages: list[str], log) -> Path:
    """The folder holding `packages` from Debian `suite`, unpacked once and kept."""
    root = HOME / "debs" / suite
    record = root / "versions.json"
    if record.exists() and set(json.loads(record.read_text())) >= set(packages):
        return root
    log(f"fetching {', '.join(packages)} from Debian {suite}")
    # Unpacked beside it and swapped in whole: a failed download leaves the folder there was (another
    # engine's buildx plugin may come from it), and a half-unpacked one is never taken as complete.
    fresh = root.with_name(f".{suite}-{os.getpid()}")
    shutil.rmtree(fresh, ignore_errors=True)
    fresh.mkdir(parents=True)
    try:
        (fresh / record.name).write_text(json.dumps(debs.unpack(suite, packages, fresh), indent=2) + "\n")
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise
    shutil.rmtree(root, ignore_errors=True)
    fresh.rename(root)
    return root


def _install_buildx(suite: str, log) -> None:
    """Put `suite`'s buildx plugin where the docker CLI finds it, unless one the user put there is."""
    ours = PLUGIN_DIR / ".imagelab-buildx"  # says the plugin there is the one this project put
    plugin = PLUGIN_DIR / "docker-buildx"
    if plugin.exists() and not ours.exists():
        return
    if ours.exists() and ours.read_text().strip() == suite:
        return
    PLUGIN_DIR.mkdir(parents=True, exist_ok=True)
    shutil.copy2(buildx_plugin(suite, log), plugin)
    ours.write_text(suite + "\n")


def buildx_plugin(suite: str, log) -> Path:
    """`suite`'s docker-buildx plugin, unpacked once and kept (e.g. for a DOCKER_CONFIG of its own)."""
    # A suite some kind's engine comes from is unpacked whole at once, so its folder is fetched once.
    packages = ENGINE_PACKAGES.get(suite, ["docker-buildx"])
    return _unpacked(suite, packages, log) / "usr/libexec/docker/cli-plugins/docker-buildx"


@dataclass(frozen=True)
class Programs:
    """A kind's dockerd, and the environment it starts in (its PATH finds its containerd and runc)."""

    dockerd: str
    env: dict[str, str]


def store_settings(kind: Kind, store: str) -> dict:
    """daemon.json settings that choose the image store of an engine of `kind`."""
    if not kind.engine_suite:  # 20.10 knows no such feature, and would refuse to start
        return {}
    return {"features": {"containerd-snapshotter": store == "containerd"}}


def programs(kind_name: str, log) -> Programs:
    """Make a kind's programs ready (installed, unpacked or built, each once) and say how to start it."""
    kind = KINDS[kind_name]
    # runc: Debian 12's (forky's needs glibc 2.38); mmdebstrap builds the local base sets.
    needs = {"runc": "runc", "iptables": "iptables", "mmdebstrap": "mmdebstrap"}
    if not kind.engine_suite:
        needs["/usr/sbin/dockerd"] = "docker.io"
    apt.install_missing(needs, log, f"--engine {kind.name}")
    env = dict(os.environ)
    if not kind.engine_suite:
        return Programs("/usr/sbin/dockerd", env)
    root = _unpacked(kind.engine_suite, ENGINE_PACKAGES[kind.engine_suite], log)
    # Its dockerd starts the containerd, shim, proxy and init it finds first on PATH: the unpacked ones.
    env["PATH"] = f"{root / 'usr/bin'}:{root / 'usr/sbin'}:{env.get('PATH', '/usr/bin:/bin')}"
    dockerd = str(root / "usr/sbin/dockerd")
    if kind.from_source:
        built = source.built(HOME, log)
        env["PATH"] = f"{built}:{env['PATH']}"  # its runc before Debian 12's
        dockerd = str(built / "dockerd")
    if shutil.which("docker") is None:
        raise EngineError("no docker command on PATH", hint="install docker-cli (or docker.io)")
    return Programs(dockerd, env)


def _start(kind_name: str, store: str, log) -> None:
    kind = KINDS[kind_name]
    ready = programs(kind_name, log)
    _install_buildx(kind.buildx_suite, log)
    data_root = HOME / "engines" / f"{kind.name}-{store}"
    data_root.mkdir(parents=True, exist_ok=True)
    config = HOME / "engines" / f"{kind.name}-{store}.json"
    settings = {"ip": "127.0.0.1", "data-root": str(data_root), **store_settings(kind, store)}
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
