"""A second Docker engine on this machine, beside the first, for building on one engine and checking on another.

`second_engine()` starts a `dockerd` with a data root, exec root, pid file and socket of its own, and a
Docker context naming it, and stops all of it when the `with` block ends, however it ends (an exception,
Ctrl-C, SIGTERM, or the interpreter exiting). It is for tests and for whoever wants a second engine to
try `--build-on` with; it needs root on Linux, like any dockerd.

Two things a second dockerd does by default would break the first one, so it does neither:
- `--bridge=none` deletes the first engine's docker0 at start-up. It gets a bridge of its own instead,
  created here beforehand on a private subnet nothing else on the machine uses.
- With iptables enabled, dockerd starts by removing the DOCKER chains it finds -- the first engine's,
  holding every published port of every running container -- before making its own. So it runs with
  `--iptables=false`, and this module adds the two rules its build steps need to reach the network
  (forward its bridge, masquerade its subnet), marked with a comment, and removes exactly those.
- With `--default-address-pool` (or default-address-pools in daemon.json), a dockerd that finds its
  default bridge network from a previous start deletes the interface named docker0 -- whatever bridge
  it was told to use (moby's configureNetworking; seen here on the second start of a kept data root).
  So it gets no address pool: the build steps it runs need none, and no networks are created on it.
The first engine is never stopped or restarted; docker0 is checked after the second starts and after it
stops.
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

from imagelab import ROOT, apt, process
from imagelab.engine import bootstrap
from imagelab.errors import EngineError, tail

CONTEXT = "imagelab-second"
BRIDGE = "imagelab-e2"  # at most 15 characters: a Linux interface name
#: Its bridge's address and subnet: 10.213.0.0/24 is used by nothing here (Docker's own pools are
#: 172.17-31.0.0/16 and 192.168.0.0/16).
BRIDGE_ADDRESS = "10.213.0.1/24"
#: A fixed, locally administered MAC for the bridge (02:42 like Docker's, then its IPv4 address). Without
#: one, Linux gives a bridge the lowest MAC of its ports, so it changes whenever a container starts or
#: stops; the others keep the old one for the gateway in their ARP cache and their connections stall
#: (seen here: 3 in 60 module downloads from five concurrent containers, none with this fixed).
BRIDGE_MAC = "02:42:0a:d5:00:01"
SUBNET = "10.213.0.0/24"
FIRST_BRIDGE = "docker0"
RUN_DIR = Path("/run/imagelab-second")  # short: unix socket paths end at 108 bytes
DATA_ROOT = ROOT / ".imagelab" / "second-engine"  # kept between runs: its build cache and base images
RULE_COMMENT = "imagelab second engine"
START_TIMEOUT_S = 60
STOP_TIMEOUT_S = 30
LOCK_TIMEOUT_S = 900  # another checkout's test may hold the second engine for a whole build
COMMAND_TIMEOUT_S = 30
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

    `kind` (one of bootstrap.KINDS) and `store` choose which engine: by default the project's default
    kind (the dockerd on PATH where the project installs nothing). Each kind and store given keeps a data
    root of its own."""
    if kind is not None:
        paths = dataclasses.replace(
            paths, data_root=paths.data_root.with_name(f"{paths.data_root.name}-{kind}-{store}")
        )
    _check_can_run()
    if not _link_exists(FIRST_BRIDGE):
        raise EngineError(f"the first engine has no {FIRST_BRIDGE}", hint="start it with `nox -s engine`")
    with _locked(paths.lock):
        _stop(paths, log)  # whatever an earlier run killed with SIGKILL left behind
        stop = _Once(lambda: _stop(paths, log))
        atexit.register(stop)
        previous = _on_signals(stop)
        try:
            engine = _start(paths, log, kind, store)
            _check_first_bridge("started")
            yield engine
        finally:
            _restore_signals(previous)
            stop()
            atexit.unregister(stop)
        _check_first_bridge("stopped")


def _check_first_bridge(when: str) -> None:
    if not _link_exists(FIRST_BRIDGE):
        raise EngineError(
            f"the first engine's {FIRST_BRIDGE} is gone since the second engine {when}",
            hint="the first engine cannot start containers until it is restarted",
        )


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
        kind = bootstrap.DEFAULT_KIND
    ready = bootstrap.programs(kind, log)
    return ready.dockerd, ready.env, bootstrap.store_settings(bootstrap.KINDS[kind], store)


def _start(paths: _Paths, log, kind: str | None = None, store: str = "classic") -> SecondEngine:
    for folder in (paths.run, paths.exec_root, paths.data_root):
        folder.mkdir(parents=True, exist_ok=True)
    _run(["ip", "link", "add", BRIDGE, "address", BRIDGE_MAC, "type", "bridge"])
    _run(["ip", "addr", "add", BRIDGE_ADDRESS, "dev", BRIDGE])
    _run(["ip", "link", "set", BRIDGE, "up"])
    for table, rule in _rules():
        _run(["iptables", "-t", table, "-I", *rule])
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
        f"--bridge={BRIDGE}",
        "--iptables=false",  # see the module's note: it would remove the first engine's chains
        "--ip-forward=false",  # leave the host's setting alone (the first engine turned it on)
        "--ip=127.0.0.1",
    ]
    log(f"starting a second engine on {paths.socket} (bridge {BRIDGE}, {SUBNET}; log in {paths.log})")
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
    _run(["docker", "context", "rm", "--force", CONTEXT], check=False)
    _run(["docker", "context", "create", CONTEXT, "--docker", f"host={engine.host}"])
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
    _run(["docker", "context", "rm", "--force", CONTEXT], check=False)
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
    for table, rule in _rules():
        while _run(["iptables", "-t", table, "-C", *rule], check=False) == 0:
            _run(["iptables", "-t", table, "-D", *rule], check=False)
    if _link_exists(BRIDGE):
        _run(["ip", "link", "delete", BRIDGE, "type", "bridge"], check=False)
    paths.pid_file.unlink(missing_ok=True)
    paths.socket.unlink(missing_ok=True)


def _rules() -> list[tuple[str, list[str]]]:
    """What its build steps need to reach the network, since it does not touch iptables itself."""
    mark = ["-m", "comment", "--comment", RULE_COMMENT]
    return [
        ("filter", ["FORWARD", "-i", BRIDGE, "-j", "ACCEPT", *mark]),
        (
            "filter",
            [
                "FORWARD",
                "-o",
                BRIDGE,
                "-m",
                "conntrack",
                "--ctstate",
                "RELATED,ESTABLISHED",
                "-j",
                "ACCEPT",
                *mark,
            ],
        ),
        ("nat", ["POSTROUTING", "-s", SUBNET, "!", "-o", BRIDGE, "-j", "MASQUERADE", *mark]),
    ]


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


def _link_exists(name: str) -> bool:
    return Path("/sys/class/net", name).exists()


def _run(command: list[str], check: bool = True) -> int:
    return process.run(command, timeout=COMMAND_TIMEOUT_S, what=" ".join(command[:3]), check=check).exit_code


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
