"""The engines the project can start (forky, source, trixie, debian), and their programs made ready.

Each kind's programs come from somewhere else: Debian packages of another release unpacked into a
folder of the project's own (engine/debs.py), the machine's own release installed with apt, or built
from Go modules (engine/source.py). bootstrap.py starts one as the machine's engine; second_engine.py
starts one beside it.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from imagelab import apt
from imagelab.engine import debs, source
from imagelab.errors import EngineError

#: The engines the project starts, their programs and what they ran with: kept across runs, so the
#: second start costs nothing.
HOME = Path("/var/lib/imagelab")
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


def unpacked(suite: str, packages: list[str], log) -> Path:
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


def buildx_plugin(suite: str, log) -> Path:
    """`suite`'s docker-buildx plugin, unpacked once and kept (e.g. for a DOCKER_CONFIG of its own)."""
    # A suite some kind's engine comes from is unpacked whole at once, so its folder is fetched once.
    packages = ENGINE_PACKAGES.get(suite, ["docker-buildx"])
    return unpacked(suite, packages, log) / "usr/libexec/docker/cli-plugins/docker-buildx"


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
    root = unpacked(kind.engine_suite, ENGINE_PACKAGES[kind.engine_suite], log)
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
