"""The registry the local base sets live in: started, reused, stopped, and a real push and pull (docker).

Each docker test starts its own registry on a free loopback port with its state in a temporary folder,
so it neither needs nor disturbs the one on 127.0.0.1:5000 that builds use.
"""

from __future__ import annotations

import http.server
import shutil
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from imagelab import engine
from imagelab.engine import registry
from imagelab.engine.registry import RegistryError, State


def free_address() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{sock.getsockname()[1]}"


@pytest.mark.parametrize(
    ("where", "insecure"),
    [
        ("127.0.0.1:5000", True),
        ("127.3.4.5:80", True),
        ("localhost:5000", True),
        ("[::1]:5000", True),
        ("registry.example.com", False),
        ("registry.example.com:443", False),
        ("10.0.0.1:5000", False),
    ],
)
def test_only_loopback_registries_speak_plain_http(where: str, insecure: bool) -> None:
    assert registry.is_insecure(where) is insecure
    assert registry.Registry(where).url.startswith("http://" if insecure else "https://")


def test_a_chosen_registry_that_does_not_answer_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    where = free_address()  # nothing listens there
    monkeypatch.setenv(registry.ADDRESS_ENV, where)
    with pytest.raises(RegistryError) as caught:
        registry.ensure_registry()
    assert caught.value.cause == f"no registry answers at IMAGELAB_REGISTRY={where}"
    assert "unset IMAGELAB_REGISTRY" in caught.value.hint


@pytest.fixture
def web_server() -> Iterator[str]:
    """An HTTP server on a loopback port that is not a registry (no distribution API header)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_a_port_taken_by_something_else_is_refused(web_server: str, tmp_path: Path) -> None:
    assert not registry.answers(web_server)
    with pytest.raises(RegistryError) as caught:
        registry.ensure_registry(web_server, State(tmp_path))
    assert "is taken by something that is not a container registry" in caught.value.cause
    assert not (tmp_path / "registry.pid").exists()


def test_stopping_with_nothing_started_says_so(tmp_path: Path) -> None:
    where = free_address()
    assert registry.stop_registry(where, State(tmp_path)) == f"no registry runs at {where}"


# --- a real registry --------------------------------------------------------------------------------


@pytest.fixture
def own_registry(tmp_path: Path) -> Iterator[tuple[str, State]]:
    if shutil.which("docker-registry") is None:
        pytest.skip("needs Debian's docker-registry (`nox -s registry` installs it)")
    where, state = free_address(), State(tmp_path / "registry")
    yield where, state
    registry.stop_registry(where, state)


@pytest.mark.docker
def test_start_reuse_and_stop(own_registry: tuple[str, State]) -> None:
    where, state = own_registry
    started = registry.ensure_registry(where, state, log=lambda _: None)
    assert started.started_here and registry.answers(where)
    pid = state.pid_file.read_text()
    assert f"addr: {where}" in state.config.read_text()

    again = registry.ensure_registry(where, state, log=lambda _: None)
    assert not again.started_here and state.pid_file.read_text() == pid  # reused, not a second one

    assert registry.stop_registry(where, state).startswith(f"stopped the registry at {where}")
    assert not registry.answers(where) and not state.pid_file.exists()


@pytest.mark.docker
def test_a_registry_another_checkout_started_is_left_running(own_registry: tuple[str, State]) -> None:
    where, state = own_registry
    registry.ensure_registry(where, state, log=lambda _: None)
    other = State(state.folder.parent / "other-checkout")
    assert "not started by this checkout" in registry.stop_registry(where, other)
    assert registry.answers(where)


@pytest.mark.docker
def test_a_pushed_image_comes_back_by_digest(own_registry: tuple[str, State], tmp_path: Path) -> None:
    where, state = own_registry
    registry.ensure_registry(where, state, log=lambda _: None)
    (tmp_path / "hello.txt").write_text(f"{uuid.uuid4()}\n")  # a new image, never in any cache
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY hello.txt /\n")
    local = f"imagelab-scratch/registry-test:{uuid.uuid4().hex[:12]}"
    remote = f"{where}/imagelab-scratch/registry-test:round-trip"
    engine.build_image(tmp_path, tmp_path / "Dockerfile", local, timeout_s=120)
    built = engine.image_id(local)
    try:
        digest = registry.push(local, remote)
        assert digest.startswith("sha256:")
        assert registry.pushed_digest(local, remote.rsplit(":", 1)[0]) == digest
        assert registry.remote_digest(remote) == digest  # skopeo reads it without pulling
        engine.client().images.remove(built, force=True)  # gone from the engine: only the registry has it
        pulled = engine.client().images.pull(f"{remote.rsplit(':', 1)[0]}@{digest}")
        assert pulled.id == built
    finally:
        engine.client().images.remove(built, force=True)


D = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    "event",
    [
        {"progressDetail": {}, "aux": {"Tag": "debian13", "Digest": D, "Size": 529}},  # classic store
        {"status": f"debian13: digest: {D} size: 855"},  # containerd image store
    ],
    ids=["classic-aux", "containerd-status"],
)
def test_a_push_digest_is_read_wherever_the_store_puts_it(event: dict) -> None:
    assert registry.pushed_digest_in(event) == D


def test_a_push_event_without_a_digest_names_none() -> None:
    assert registry.pushed_digest_in({"status": "Pushed", "id": "0123abcd"}) == ""
