"""Containers: started with the run label, read, stopped, and always removed.

Each container (and network) the harness creates carries RUN_LABEL, valued with the run's id, so
that `nox -s clean` finds what an interrupted run left behind.
"""

from __future__ import annotations

import contextlib
import io
import secrets
import signal
import tarfile
import threading
from collections.abc import Iterator

import docker
import docker.errors
from docker.models.containers import Container  # other modules name the SDK's type through this package

from imagelab.engine.client import client
from imagelab.errors import ContainerError

#: Every container and network the harness creates carries this label, valued with the run's id,
#: so that `nox -s clean` can find what an interrupted run left behind.
RUN_LABEL = "imagelab.run"


def read_files(ref: str, path: str) -> dict[str, bytes]:
    """The regular files under `path` in an image, read from a container that never starts
    (so it works for images without a shell), by path relative to `path`'s parent."""
    container = client().containers.create(ref, command=["/nonexistent"], labels={RUN_LABEL: "read-files"})
    try:
        stream, _ = container.get_archive(path)
        with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
            files = ((m.name, tar.extractfile(m)) for m in tar.getmembers() if m.isfile())
            return {name: data.read() for name, data in files if data is not None}
    except docker.errors.NotFound:
        return {}
    finally:
        container.remove(force=True)


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
