"""A second Docker engine on this machine, beside the first one, gone when the `with` block ends.

`second_engine()` starts a `dockerd` with a data root, exec root, pid file and socket of its own, and a
Docker context naming it, and stops all of it when the block ends, however it ends (an exception,
Ctrl-C, SIGTERM, or the interpreter exiting). It is part of the product: `nox -s engines`
(engine_matrix.py) runs a compare on each engine kind and image store through it. The tests and the
benchmarks use it for an engine whose caches they may empty, and `python -m
imagelab.engine.second_engine` holds one for trying `--build-on`. It needs root on Linux, like any dockerd.

It must leave the first engine as it is: engine/second_bridge.py gives it a bridge and the iptables
rules of its own, and says why a second dockerd's defaults would break the first. The first engine is
never stopped or restarted.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import fcntl
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.errors

from imagelab import ROOT, apt
from imagelab.engine import kinds, second_bridge
from imagelab.errors import EngineError, tail

CONTEXT = "imagelab-second"
RUN_DIR = Path("/run/imagelab-second")  # short: unix socket paths end at 108 bytes
DATA_ROOT = ROOT / ".imagelab" / "second-engine"  # kept between runs: its build cache and base images
START_TIMEOUT_S = 60
STOP_TIMEOUT_S = 30
LOCK_TIMEOUT_S = 900  # another checkout's test may hold the second engine for a whole build
#: The dockerd processes this one started, by pid: reaped when they stop.
_children: dict[int, subprocess.Popen] = {}


@dataclass(frozen=True)
class SecondEngine:
    context: str
    socket: Path
    pid: int
    data_root: Path

    @property
    def host(self) -> str:
        return f"unix://{self.socket}"

    def client(self) -> docker.DockerClient:
        return docker.DockerClient(base_url=self.host, timeout=300)


@dataclass(frozen=True)
class _Paths:
    run: Path = RUN_DIR
    data_root: Path = DATA_ROOT

    @property
    def socket(self) -> Path:
        return self.run / "docker.sock"

    @property
    def exec_root(self) -> Path:
        return self.run / "exec"

    @property
    def pid_file(self) -> Path:
        return self.run / "dockerd.pid"

    @property
    def lock(self) -> Path:
        return self.run.with_name(self.run.name + ".lock")

    @property
    def log(self) -> Path:
        return self.data_root / "dockerd.log"

    @property
    def config(self) -> Path:
        return self.data_root / "daemon.json"


@contextlib.contextmanager
def second_engine(
    log=print, paths: _Paths = _Paths(), kind: str | None = None, store: str = "classic"
) -> Iterator[SecondEngine]:
    """A second engine, its bridge and its Docker context, for the duration of the block; all removed after.

    `kind` (one of kinds.KINDS) and `store` choose which engine: by default the project's default
    kind (the dockerd on PATH where the project installs nothing). Each kind and store given keeps a data
    root of its own."""
    if kind is not None:
        paths = dataclasses.replace(
            paths, data_root=paths.data_root.with_name(f"{paths.data_root.name}-{kind}-{store}")
        )
    _check_can_run()
    second_bridge.check_first_bridge("")
    with _locked(paths.lock):
        _stop(paths, log)  # whatever an earlier run killed with SIGKILL left behind
        stop = _Once(lambda: _stop(paths, log))
        atexit.register(stop)
        previous = _on_signals(stop)
        try:
            engine = _start(paths, log, kind, store)
            second_bridge.check_first_bridge("started")
            yield engine
        finally:
            _restore_signals(previous)
            stop()
            atexit.unregister(stop)
        second_bridge.check_first_bridge("stopped")


class _Once:
    def __init__(self, action) -> None:
        self.action, self.done = action, False

    def __call__(self) -> None:
        if not self.done:
            self.done = True
            self.action()


def _on_signals(stop: _Once) -> dict:
    """SIGTERM and SIGHUP end the block like Ctrl-C does, so the `finally` stops the engine."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = {}
    with contextlib.suppress(ValueError):  # not the main thread: the atexit hook still stops it
        for signum in (signal.SIGTERM, signal.SIGHUP):
            previous[signum] = signal.signal(signum, interrupt)
    return previous


def _restore_signals(previous: dict) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler)


def _check_can_run() -> None:
    if os.uname().sysname != "Linux" or os.geteuid() != 0:
        raise EngineError("a second engine needs root on Linux", hint="run as root, or use a remote context")
    missing = [tool for tool in ("ip", "iptables") if shutil.which(tool) is None]
    if missing:
        raise EngineError(f"{', '.join(missing)} not found", hint="`nox -s engine` installs Docker on Debian")


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One second engine at a time on this machine: its bridge, subnet and socket are fixed."""
    with path.open("w") as handle:
        deadline = time.monotonic() + LOCK_TIMEOUT_S
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise EngineError(
                        f"another process has held the second engine for {LOCK_TIMEOUT_S} s ({path})"
                    ) from None
                time.sleep(1)
        yield


def _dockerd(kind: str | None, store: str, log) -> tuple[str, dict[str, str], dict]:
    """The dockerd to start, its environment and its daemon.json settings."""
    if kind is None:
        if not apt.can_install():  # not ours to install: the dockerd the machine has
            return shutil.which("dockerd") or "dockerd", dict(os.environ), {}
        # The project's default engine, not whatever dockerd is on PATH: an earlier run may have
        # installed Debian 12's 20.10 (the oldest kind), which builds none of the newer Dockerfiles.
        kind = kinds.DEFAULT_KIND
    ready = kinds.programs(kind, log)
    return ready.dockerd, ready.env, kinds.store_settings(kinds.KINDS[kind], store)


def _start(paths: _Paths, log, kind: str | None = None, store: str = "classic") -> SecondEngine:
    for folder in (paths.run, paths.exec_root, paths.data_root):
        folder.mkdir(parents=True, exist_ok=True)
    second_bridge.create()
    program, env, settings = _dockerd(kind, store, log)
    # Its own daemon.json: settings meant for the first engine, default-address-pools above all, must
    # not reach it; only the image store is chosen.
    paths.config.write_text(json.dumps(settings) + "\n")
    command = [
        program,
        f"--config-file={paths.config}",
        f"--data-root={paths.data_root}",
        f"--exec-root={paths.exec_root}",
        f"--pidfile={paths.pid_file}",
        f"--host=unix://{paths.socket}",
        f"--bridge={second_bridge.BRIDGE}",
        "--iptables=false",  # see second_bridge.py: it would remove the first engine's chains
        "--ip-forward=false",  # leave the host's setting alone (the first engine turned it on)
        "--ip=127.0.0.1",
    ]
    log(
        f"starting a second engine on {paths.socket} (bridge {second_bridge.BRIDGE}, {second_bridge.SUBNET}; log in {paths.log})"
    )
    with paths.log.open("ab") as out:
        # Not process.detach: this daemon does not outlive us, and we reap it. Its own session: a Ctrl-C
        # meant for us reaches it only through our clean-up, in order.
        dockerd = subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env=env,
        )
    _children[dockerd.pid] = dockerd
    engine = SecondEngine(CONTEXT, paths.socket, dockerd.pid, paths.data_root)
    deadline = time.monotonic() + START_TIMEOUT_S
    while not _answers(engine):
        if dockerd.poll() is not None or time.monotonic() > deadline:
            how = f"exited ({dockerd.returncode})" if dockerd.poll() is not None else "did not answer"
            raise EngineError(
                f"the second engine {how} within {START_TIMEOUT_S} s",
                hint=f"see {paths.log}",
                log=tail(paths.log.read_text(errors="replace")),
            )
        time.sleep(0.5)
    second_bridge.run(["docker", "context", "rm", "--force", CONTEXT], check=False)
    second_bridge.run(["docker", "context", "create", CONTEXT, "--docker", f"host={engine.host}"])
    return engine


def _answers(engine: SecondEngine) -> bool:
    if not engine.socket.exists():
        return False
    try:
        with contextlib.closing(docker.DockerClient(base_url=engine.host, timeout=5)) as probe:
            return bool(probe.ping())
    except (docker.errors.DockerException, OSError):
        return False


def _stop(paths: _Paths, log) -> None:
    """Stop our dockerd (and the containerd it started), remove its context, rules and bridge. Idempotent."""
    second_bridge.run(["docker", "context", "rm", "--force", CONTEXT], check=False)
    pid = _our_dockerd(paths)
    if pid is not None:
        log(f"stopping the second engine (pid {pid})")
        os.kill(pid, signal.SIGTERM)  # dockerd stops its containers and its containerd, then exits
        if not _wait_gone(pid, STOP_TIMEOUT_S):
            os.kill(pid, signal.SIGKILL)
            _wait_gone(pid, 5)
    containerd = _pid_of(paths.exec_root / "containerd" / "containerd.pid", b"containerd")
    if containerd is not None:  # left when dockerd had to be killed
        os.kill(containerd, signal.SIGKILL)
        _wait_gone(containerd, 5)
    second_bridge.remove()  # only once dockerd is gone: it uses the bridge until it exits
    paths.pid_file.unlink(missing_ok=True)
    paths.socket.unlink(missing_ok=True)


def _our_dockerd(paths: _Paths) -> int | None:
    """The pid in our pid file, if it is a dockerd started with that pid file: never the first engine."""
    pid = _pid_of(paths.pid_file, b"dockerd")
    if pid is None:
        return None
    command = Path(f"/proc/{pid}/cmdline").read_bytes()
    return pid if f"--pidfile={paths.pid_file}".encode() in command else None


def _pid_of(pid_file: Path, program: bytes) -> int | None:
    try:
        pid = int(pid_file.read_text().strip())
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return None
    return pid if program in command.split(b"\0", 1)[0] else None


def _wait_gone(pid: int, timeout_s: float) -> bool:
    if pid in _children:
        try:
            _children[pid].wait(timeout_s)
        except subprocess.TimeoutExpired:
            return False
        del _children[pid]
        return True
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
        except OSError:
            return True
        if state == "Z":  # exited; its parent reaps it
            return True
        time.sleep(0.2)
    return False


def main(argv: list[str] | None = None) -> int:
    """`python -m imagelab.engine.second_engine [SECONDS]`: hold a second engine until Ctrl-C (or SECONDS)."""
    import sys

    hold_s = float((argv if argv is not None else sys.argv[1:] or ["3600"])[0])
    try:
        with second_engine() as engine:
            print(
                f"context {engine.context} ({engine.host}): Ctrl-C stops it; it stops by itself in {hold_s:.0f} s"
            )
            time.sleep(hold_s)
    except KeyboardInterrupt:
        pass
    except EngineError as exc:
        print(exc.render(), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
