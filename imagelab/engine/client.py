"""The one place that talks to the Docker engine.

Images, containers, logs and `docker save` go through the Docker SDK for Python; builds go through
the `docker buildx bake` CLI (see build.py), because the SDK cannot drive BuildKit.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import json
import os
import secrets
import signal
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

import docker
import docker.errors
import requests.exceptions

from imagelab.engine import process
from imagelab.errors import BuildError, ContainerError, EngineError, ImagelabError, tail

#: Every container and network the harness creates carries this label, valued with the run's id,
#: so that `nox -s clean` can find what an interrupted run left behind.
RUN_LABEL = "imagelab.run"
#: A container as the SDK gives it; other modules name the type through this package.
Container = docker.models.containers.Container
PING_TIMEOUT_S = 5


@functools.cache
def client() -> docker.DockerClient:
    """A client with version negotiation, so a new CLI-era SDK talks to an older engine (API 1.41)."""
    try:
        return docker.from_env(timeout=120)
    except docker.errors.DockerException as exc:
        raise EngineError("no Docker engine answers", hint="run `nox -s engine`") from exc


def explain(exc: BaseException) -> EngineError | None:
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
    """Bytes the image takes on disk, uncompressed, as `docker images` shows it."""
    return int(client().images.get(ref).attrs["Size"])


def content_key(ref: str) -> str:
    """A digest of what the image holds and how it runs, labels left out: equal keys, equal measurements
    (the revision label changes an image's id at every commit; its content stays)."""
    attrs = client().images.get(ref).attrs
    config = attrs.get("Config") or {}
    runs = {k: config.get(k) for k in ("Entrypoint", "Cmd", "User", "Env", "ExposedPorts", "WorkingDir")}
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


def read_files(ref: str, path: str) -> dict[str, bytes]:
    """The regular files under `path` in an image, read from a container that never starts
    (so it works for images without a shell), by path relative to `path`'s parent."""
    container = client().containers.create(ref, command=["/nonexistent"], labels={RUN_LABEL: "read-files"})
    try:
        stream, _ = container.get_archive(path)
        with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
            return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
    except docker.errors.NotFound:
        return {}
    finally:
        container.remove(force=True)


def build_image(
    context: Path,
    dockerfile: Path,
    tag: str,
    *,
    build_args: dict[str, str] | None = None,
    labels: dict[str, str] | None = None,
    target: str | None = None,
    no_cache: bool = False,
    timeout_s: int = 1800,
) -> None:
    """`docker buildx build` one image into the engine's image store, tagged `tag` only on success."""
    command = ["docker", "buildx", "build", "--progress=plain", "--load", "-t", tag, "-f", str(dockerfile)]
    if no_cache:
        command.append("--no-cache")
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


# Containers. Each carries RUN_LABEL, so `nox -s clean` finds what an interrupted run left behind.


def start_container(image: str, name: str, run_id: str, **options: object) -> Container:
    """Create and start a detached container. create() never pulls, so a missing image fails here."""
    try:
        container = client().containers.create(image, name=name, labels={RUN_LABEL: run_id}, **options)
        container.start()
    except docker.errors.APIError as exc:
        said = str(exc.explanation or exc)
        missing = "no such file or directory" in said and "exec" in said
        raise ContainerError(
            f"the engine could not start {image}: {said}",
            hint="the ENTRYPOINT/CMD program is not in the image: check its path" if missing else "",
        ) from exc
    return container


def remove_container(name: str) -> None:
    """Force-remove a container and its anonymous volumes; one that is already gone is fine."""
    with contextlib.suppress(docker.errors.NotFound):
        client().api.remove_container(name, force=True, v=True)


def container_state(container: Container) -> dict:
    """The engine's view now: Status, Running, ExitCode, OOMKilled, Pid, ..."""
    container.reload()
    return container.attrs["State"]


def published_port(container: Container, port: int) -> int | None:
    """The host port the engine chose for `port`/tcp, or None while there is none (it exited)."""
    container.reload()
    bindings = container.ports.get(f"{port}/tcp") or []
    return int(bindings[0]["HostPort"]) if bindings else None


#: How much of a container's log the harness reads: its end, bounded in lines and in bytes, so that a
#: container that prints without end (or one endless line) cannot flood memory or the terminal.
LOG_LINES = 200
LOG_BYTES = 256 * 1024


def container_logs(
    container: Container, *, stdout: bool = True, stderr: bool = True, lines: int = LOG_LINES
) -> str:
    """The end of a container's log: its last `lines` lines, at most LOG_BYTES of them."""
    chunks, size = [], 0
    stream = container.logs(stdout=stdout, stderr=stderr, stream=True, follow=False, tail=lines)
    try:
        for chunk in stream:
            chunks.append(chunk)
            size += len(chunk)
            if size >= LOG_BYTES:
                break
    finally:
        stream.close()
    return b"".join(chunks)[:LOG_BYTES].decode("utf-8", "replace")


def exec_output(container: Container, command: list[str]) -> str:
    """The stdout of a program run in a running container; "" when it cannot run there (no such
    program in the image, the container gone)."""
    try:
        code, output = container.exec_run(command, stdout=True, stderr=False)
    except docker.errors.APIError:
        return ""
    return output.decode("utf-8", "replace") if code == 0 else ""


def memory_usage(container: Container) -> int | None:
    """Memory in use as `docker stats` shows it (usage less the page cache the kernel can drop),
    or None when the container no longer runs."""
    stats = container.stats(stream=False, one_shot=True).get("memory_stats") or {}
    if "usage" not in stats:
        return None
    cache = stats.get("stats", {})
    # cgroup v1 names it total_inactive_file, v2 inactive_file.
    return stats["usage"] - cache.get("total_inactive_file", cache.get("inactive_file", 0))


def stop_container(container: Container, timeout_s: int) -> None:
    """`docker stop`: the image's stop signal (SIGTERM by default), then SIGKILL after timeout_s."""
    container.stop(timeout=timeout_s)


def labelled_containers(run_id: str = "") -> list[Container]:
    """Containers, running or not, with the run label: of one run, or of any run when run_id is ""."""
    label = f"{RUN_LABEL}={run_id}" if run_id else RUN_LABEL
    return client().containers.list(all=True, filters={"label": label})


#: container-structure-test cannot label the containers it starts. It runs on an image of this
#: repository made for the one run: the image carries the run label, and so does every container
#: (and every image the tool commits) made from it.
TOOL_REPOSITORY = "imagelab-tool"


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM while cleaning up, so a second one cannot leave a container behind;
    a held signal is delivered right after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []
    previous = {
        sig: signal.signal(sig, lambda signum, _: held.append(signum))
        for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)
        if held:
            signal.raise_signal(held[0])


@contextlib.contextmanager
def tool_tag(ref: str, run_id: str) -> Iterator[str]:
    """An image for one run of an outside tool: `ref` with the run label added (no layer; the engine's
    classic builder does it in a moment). What the tool makes from it is removed however the block
    ends, Ctrl-C included: its containers, the images it committed, and the image itself."""
    tag = f"{TOOL_REPOSITORY}/{run_id}:{secrets.token_hex(4)}"
    dockerfile = io.BytesIO(f"FROM {ref}\n".encode())
    try:
        client().images.build(
            fileobj=dockerfile, tag=tag, labels={RUN_LABEL: run_id}, pull=False, rm=True, forcerm=True
        )
        yield tag
    finally:
        with signals_held():
            remove_labelled(run_id)


def remove_labelled(run_id: str = "") -> tuple[list[str], list[str]]:
    """Remove the containers, then the networks, then the tool images (see TOOL_REPOSITORY) that one
    run (any run when run_id is "") left; the names of the containers and networks."""
    label = f"{RUN_LABEL}={run_id}" if run_id else RUN_LABEL
    containers = labelled_containers(run_id)
    for container in containers:
        remove_container(container.id)
    networks = client().networks.list(filters={"label": label})
    for network in networks:
        with contextlib.suppress(docker.errors.NotFound):
            network.remove()
    # Newest first: an image a tool committed goes before the one it was made from.
    images = client().images.list(all=True, filters={"label": label})
    for image in sorted(images, key=lambda i: i.attrs.get("Created", ""), reverse=True):
        for name in [t for t in image.tags if t.startswith(f"{TOOL_REPOSITORY}/")] or [image.id]:
            with contextlib.suppress(docker.errors.ImageNotFound, docker.errors.APIError):
                client().images.remove(name, noprune=False)
    return [c.name for c in containers], [n.name for n in networks]


def prune_build_cache() -> None:
    """Empty BuildKit's cache (images stay), so that the next build is cold."""
    client().api.prune_builds(all=True)
