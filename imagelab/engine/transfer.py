"""Images handed from one Docker engine to another through the registry, by digest.

`nox -s compare -- --build-on CONTEXT` builds on the engine a Docker context names and checks and
measures here. Nothing is copied engine to engine: the builder pushes each image to the project's
registry (engine/registry.py) and this engine pulls it by the digest the push reported -- exactly what a
CI runner does with an image another runner built. The base images go the same way the other direction:
a base the build engine lacks is pushed from here and pulled there by digest (a base a set pins by
digest needs nothing: BuildKit resolves it from the registry itself).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from dataclasses import dataclass

import docker
import docker.errors

from imagelab import process
from imagelab.engine import registry
from imagelab.engine.client import client
from imagelab.errors import EngineError, tail

#: Repository prefix of what goes through the registry between engines, apart from the base sets' own.
HANDOVER = "imagelab-handover"
CONTEXT_TIMEOUT_S = 30


@dataclass(frozen=True)
class HandedOver:
    """One image pulled here from the registry: under which name and digest, and whether it was new."""

    local_tag: str
    pulled: str  # host:port/repository@sha256:...
    image_id: str
    was_here_before: bool  # False: the image reached this engine only through the registry


def context_host(context: str) -> str:
    """The engine endpoint (unix:///... or tcp://...) a Docker context names; one line when none does."""
    command = ["docker", "context", "inspect", context]
    done = process.run(command, timeout=CONTEXT_TIMEOUT_S, what="docker context inspect", check=False)
    if not done.ok:
        raise EngineError(
            f"no Docker context named {context!r}",
            hint="`docker context ls` lists them; `docker context create NAME --docker host=...` makes one",
            log=tail(done.stderr, 3),
        )
    return json.loads(done.stdout)[0]["Endpoints"]["docker"]["Host"]


@functools.cache
def builder_client(context: str) -> docker.DockerClient:
    """The Docker SDK's client of the engine a context names."""
    try:
        found = docker.DockerClient(base_url=context_host(context), timeout=600)
        found.ping()
    except docker.errors.DockerException as exc:
        raise EngineError(f"the engine of context {context!r} does not answer: {exc}") from exc
    return found


def _local_id(ref: str, of: docker.DockerClient) -> str:
    try:
        return of.images.get(ref).id
    except docker.errors.ImageNotFound:
        return ""


def send_bases(context: str, refs: Iterable[str]) -> list[str]:
    """Make the build engine hold every base image `refs` names, as this engine has it; the refs sent.

    A ref pinned by digest is left to the build engine's BuildKit, which pulls it itself."""
    other, sent = builder_client(context), []
    for ref in dict.fromkeys(refs):
        here = _local_id(ref, client())
        if "@sha256:" in ref or not here or _local_id(ref, other) == here:
            continue
        name, _, tag = ref.rpartition(":") if ":" in ref.rsplit("/", 1)[-1] else (ref, "", "latest")
        remote = f"{registry.address()}/{HANDOVER}/{name}"
        digest = registry.push(ref, f"{remote}:{tag}")
        _pull(other, f"{remote}@{digest}", context).tag(name, tag)
        sent.append(ref)
    return sent


def bring_back(context: str, tag: str) -> HandedOver:
    """Push the image `tag` from the build engine to the registry, pull it here by digest, tag it `tag`."""
    other = builder_client(context)
    repository, _, version = tag.rpartition(":")
    remote = f"{registry.address()}/{HANDOVER}/{repository}"
    try:
        built = other.images.get(tag)
    except docker.errors.ImageNotFound as exc:
        raise EngineError(f"the engine of context {context!r} has no image {tag} after the build") from exc
    built.tag(remote, version)
    digest = _push(other, remote, version, context)
    was_here = bool(_local_id(built.id, client()))
    pulled = f"{remote}@{digest}"
    image = _pull(client(), pulled, "this engine")
    image.tag(repository, version)
    return HandedOver(tag, pulled, image.id, was_here)


def _push(of: docker.DockerClient, repository: str, tag: str, where: str) -> str:
    digest, errors = "", []
    for event in of.images.push(repository, tag, stream=True, decode=True):
        digest = (event.get("aux") or {}).get("Digest", digest)
        if event.get("error"):
            errors.append(event["error"])
    if errors or not digest:
        raise EngineError(
            f"pushing {repository}:{tag} from {where} failed: {errors[-1] if errors else 'no digest came back'}",
            hint="does the registry answer? `nox -s registry` starts it",
        )
    return digest


def _pull(into: docker.DockerClient, ref: str, where: str):
    try:
        return into.images.pull(ref)
    except docker.errors.APIError as exc:
        raise EngineError(f"{where} could not pull {ref}: {exc.explanation or exc}") from exc
