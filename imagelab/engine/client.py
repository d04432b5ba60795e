"""The one place that talks to the Docker engine.

Images, containers, logs and `docker save` go through the Docker SDK for Python; builds go through
the `docker buildx bake` CLI (see build.py), because the SDK cannot drive BuildKit.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.errors
import requests.exceptions

from imagelab import process
from imagelab.errors import BuildError, EngineError, ImagelabError, tail

PING_TIMEOUT_S = 5


@functools.cache
def client() -> docker.DockerClient:
    """A client with version negotiation, so a new CLI-era SDK talks to an older engine (API 1.41)."""
    try:
        return docker.from_env(timeout=120)
    except docker.errors.DockerException as exc:
        raise EngineError("no Docker engine answers", hint="run `nox -s engine`") from exc


def as_engine_error(exc: BaseException) -> EngineError | None:
    """The SDK's exception as one line for a person, or None when it is not the engine's.

    The SDK raises requests' ConnectionError when the socket stops answering, and APIError when the
    engine refuses; neither says so in the user's words."""
    if isinstance(exc, requests.exceptions.ConnectionError | requests.exceptions.Timeout) or (
        isinstance(exc, docker.errors.DockerException) and "Connection" in str(exc)
    ):
        where = os.environ.get("DOCKER_HOST") or "the default socket"
        return EngineError(
            f"the Docker engine stopped answering ({where}): {type(exc).__name__}",
            hint="is dockerd still running (`docker info`)? once it answers, `nox -s clean` removes "
            "whatever this run could not",
        )
    if isinstance(exc, docker.errors.APIError):
        return EngineError(f"the Docker engine refused a request: {exc.explanation or exc}")
    return None


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


#: What `docker info` names the driver when the containerd snapshotter holds the images.
CONTAINERD_DRIVER = "io.containerd.snapshotter.v1"


def image_store() -> str:
    """ "containerd" when containerd's snapshotters hold the images (Docker 29's default), else "classic"."""
    status = client().info().get("DriverStatus") or []
    return "containerd" if any(CONTAINERD_DRIVER in str(value) for _, value in status) else "classic"


def describe() -> str:
    """The engine as a report names it: version, API and image store."""
    version = versions()
    return f"Docker engine {version['Version']} (API {version['ApiVersion']}, {image_store()} image store)"


def image_id(ref: str) -> str:
    """The id of a local image, or "" when there is none by that name."""
    try:
        return client().images.get(ref).id
    except docker.errors.ImageNotFound:
        return ""


def image_id_and_digest(ref: str) -> tuple[str, str]:
    """The local id of an image and its registry digest where it came from a registry ("" otherwise)."""
    try:
        image = client().images.get(ref)
    except docker.errors.ImageNotFound:
        return "", ""
    digests = image.attrs.get("RepoDigests") or []
    return image.id, digests[0].split("@", 1)[-1] if digests else ""


def layer_ids(ref: str) -> list[str]:
    """The diff_ids of a local image's layers, bottom first ([] when the engine does not have it)."""
    try:
        attrs = client().images.get(ref).attrs
    except docker.errors.ImageNotFound:
        return []
    return list((attrs.get("RootFS") or {}).get("Layers") or [])


def image_labels(ref: str) -> dict[str, str] | None:
    """The labels of a local image ({} when it has none), or None when there is no such image."""
    try:
        return client().images.get(ref).labels or {}
    except docker.errors.ImageNotFound:
        return None


def image_size(ref: str) -> int:
    """What the engine calls the image's Size (`docker image inspect`): on the classic store the bytes of
    its unpacked layers; on the containerd store the compressed content, what a pull moves."""
    return int(client().images.get(ref).attrs["Size"])


@dataclass(frozen=True)
class ListedSizes:
    """One image as `docker images` and `docker system df -v` list it, in bytes (the CLI prints them in
    decimal units). `shared` is what other images on this engine hold too, `unique` the rest: both move
    when other images come and go, so they describe this engine at this moment, not the image."""

    listed: int  # `docker images` SIZE: the image list's Size
    disk: int  # `docker system df -v` SIZE
    shared: int | None  # SHARED SIZE; None when the engine did not compute it
    unique: int | None  # UNIQUE SIZE: disk - shared

    @classmethod
    def from_lists(cls, listed: dict, disk: dict) -> ListedSizes:
        shared = disk.get("SharedSize")
        # The engine answers -1 for "not computed": a figure it did not measure is no 0.
        known = shared if isinstance(shared, int) and shared >= 0 else None
        size = int(disk["Size"])
        return cls(int(listed["Size"]), size, known, None if known is None else size - known)


def listed_sizes(ref: str) -> ListedSizes | None:
    """What `docker images` and `docker system df -v` print for the image `ref` (None: no such image).

    Both read the engine's API, as the CLI does: the image list (GET /images/json) and the disk usage
    (GET /system/df, images only, so the engine does not size every container's writable layer)."""
    found = image_id(ref)
    if not found:
        return None
    api = client().api
    listed = next((i for i in api.images(all=False) if i["Id"] == found), None)
    usage = api._result(api._get(api._url("/system/df"), params={"type": "image"}), json=True)
    disk = next((i for i in usage.get("Images") or [] if i["Id"] == found), None)
    return None if listed is None or disk is None else ListedSizes.from_lists(listed, disk)


#: The image config fields that say how an image runs, each with what API 1.51 and older answer when it is
#: unset. API 1.52 (Docker 29) leaves unset fields out (moby issue 50134), so the same image pulled on
#: Docker 28 and 29 had two keys, and a store switch rebuilt every stand-in made on a pulled parent.
RUN_FIELDS: dict[str, object] = {
    "Entrypoint": None,
    "Cmd": None,
    "User": "",
    "Env": None,
    "ExposedPorts": None,
    "WorkingDir": "",
}


def content_key(ref: str) -> str:
    """A digest of what the image holds and how it runs, labels left out: equal keys, equal measurements
    (the revision label changes an image's id at every commit; its content stays)."""
    return content_key_of(client().images.get(ref).attrs)


def content_key_of(attrs: dict) -> str:
    """content_key from an image's inspect answer, read the same whichever API version gave it."""
    config = attrs.get("Config") or {}
    runs = {field: config.get(field, unset) for field, unset in RUN_FIELDS.items()}
    text = json.dumps({"layers": attrs["RootFS"]["Layers"], "config": runs}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def remove_image(ref: str) -> None:
    """Untag (and remove, when nothing else uses it) a local image; a missing one is fine."""
    with contextlib.suppress(docker.errors.ImageNotFound):
        client().images.remove(ref, noprune=False)


def remove_image_if_unused(image_id: str) -> bool:
    """Remove an image by id unless a tag, a container or another image still uses it; True if removed."""
    try:
        client().images.remove(image_id, noprune=False)
    except (docker.errors.ImageNotFound, docker.errors.APIError):
        return False
    return True


def save_image(ref: str, dest: Path) -> Path:
    """`docker save` one image into the file `dest` (docker-archive, or OCI layout on engines >= 25).

    Streamed in chunks: a 1 GB image never sits in memory."""
    try:
        image = client().images.get(ref)
    except docker.errors.ImageNotFound as exc:
        raise ImagelabError(f"no image {ref} in the engine", hint="build it first (nox -s build)") from exc
    with dest.open("wb") as out:
        for chunk in image.save(named=True):
            out.write(chunk)
    return dest


def build_image(
    context: Path,
    dockerfile: Path,
    tag: str,
    *,
    build_args: dict[str, str] | None = None,
    labels: dict[str, str] | None = None,
    target: str | None = None,
    no_cache: bool = False,
    provenance: bool = True,
    timeout_s: int = 1800,
) -> None:
    """`docker buildx build` one image into the engine's image store, tagged `tag` only on success.

    provenance=False: no attestation beside the image. On the containerd store BuildKit's provenance
    (with its build's start time) goes into the image index a push sends, so the same image built twice
    had two digests there."""
    command = ["docker", "buildx", "build", "--progress=plain", "--load", "-t", tag, "-f", str(dockerfile)]
    if no_cache:
        command.append("--no-cache")
    if not provenance:
        command.append("--provenance=false")
    for key, value in (build_args or {}).items():
        command += ["--build-arg", f"{key}={value}"]
    for key, value in (labels or {}).items():
        command += ["--label", f"{key}={value}"]
    if target:
        command += ["--target", target]
    done = process.run([*command, str(context)], timeout=timeout_s, what=f"building {tag}", check=False)
    if not done.ok:
        raise BuildError(f"building {tag} from {dockerfile.name} failed", log=tail(done.stderr))


def image_config(ref: str) -> dict | None:
    """The run settings an image carries (User, Entrypoint, Cmd, ExposedPorts, ...), or None when missing."""
    try:
        return client().images.get(ref).attrs["Config"] or {}
    except docker.errors.ImageNotFound:
        return None


def prune_build_cache() -> None:
    """Empty BuildKit's cache (images stay), so that the next build is cold."""
    client().api.prune_builds(all=True)
