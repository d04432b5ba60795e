"""The one place that talks to the Docker engine.

Images, containers, logs and `docker save` go through the Docker SDK for Python; builds go through
the `docker buildx bake` CLI (see build.py), because the SDK cannot drive BuildKit.
"""

from __future__ import annotations

import functools

import docker
import docker.errors

from imagelab.errors import EngineError

#: Every container and network the harness creates carries this label, valued with the run's id,
#: so that `nox -s clean` can find what an interrupted run left behind.
RUN_LABEL = "imagelab.run"
PING_TIMEOUT_S = 5


@functools.cache
def client() -> docker.DockerClient:
    """A client with version negotiation, so a new CLI-era SDK talks to an older engine (API 1.41)."""
    try:
        return docker.from_env(timeout=120)
    except docker.errors.DockerException as exc:
        raise EngineError("no Docker engine answers", hint="run `nox -s engine`") from exc


def answers() -> bool:
    """True when an engine answers a ping within a few seconds."""
    try:
        probe = docker.from_env(timeout=PING_TIMEOUT_S)
        try:
            return bool(probe.ping())
        finally:
            probe.close()
    except (docker.errors.DockerException, OSError):
        return False


def versions() -> dict:
    return client().version()


def image_id(ref: str) -> str:
    """The id of a local image, or "" when there is none by that name."""
    try:
        return client().images.get(ref).id
    except docker.errors.ImageNotFound:
        return ""
