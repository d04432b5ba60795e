"""The one runner of every program the harness starts: a time limit, captured output, one error type.

`run` waits for a program and returns its output; `stream` hands over its output line by line as it
comes (the bake's progress) under the same time limit. Both stop the program when we are interrupted
(Ctrl-C, SIGTERM) or run out of time: nothing keeps running behind the harness's back.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from imagelab.errors import ImagelabError, tail

#: After SIGTERM, how long a program may take to end before SIGKILL (buildx and mmdebstrap clean up).
STOP_GRACE_S = 10


class ProcessError(ImagelabError):
    """A program failed, ran out of time, or could not start: `exit_code` is None for the last two."""

    def __init__(
        self,
        cause: str,
        *,
        command: Sequence[str],
        exit_code: int | None,
        stderr: str = "",
        hint: str = "",
    ) -> None:
        super().__init__(cause, hint=hint or f"command: {shlex.join(command)}", log=tail(stderr))
        self.command = list(command)
        self.exit_code = exit_code


#: The programs `run` waits for, in any thread. Ctrl-C and SIGTERM reach only the main thread: it stops
#: these (`stop_all`), so that a worker thread's program does not outlive the harness either.
_RUNNING: set[subprocess.Popen] = set()
_RUNNING_LOCK = threading.Lock()
#: Set by `stop_all`: the harness is stopping, and a thread between two programs starts no other.
_STOPPING = threading.Event()


@dataclass(frozen=True)
class Done:
    command: list[str]
    exit_code: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


def _signal(process: subprocess.Popen, sig: int) -> None:
    """To the program and everything it started (`docker` runs its buildx plugin as a child)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL after the grace period, to the program's whole group; always reaped."""
    if process.poll() is None:
        _signal(process, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=STOP_GRACE_S)
    _signal(process, signal.SIGKILL)  # whatever it started and left behind, too
    process.wait()


def _start(command: Sequence[str], what: str, **options: Any) -> subprocess.Popen:
    """Start a program in a process group of its own, so that stopping it stops all it started, and
    a Ctrl-C in the terminal reaches only the harness, which then stops it."""
    if _STOPPING.is_set():
        raise ProcessError(f"{what}: not started, the harness is stopping", command=command, exit_code=None)
    try:
        return subprocess.Popen(list(command), start_new_session=True, **options)
    except OSError as exc:  # not installed, not executable, a missing cwd
        raise ProcessError(
            f"{what}: cannot run {command[0]}: {exc.strerror or exc}", command=command, exit_code=None
        ) from exc


def run(
    command: Sequence[str],
    *,
    timeout: float,
    what: str,
    check: bool = True,
    hint: str = "",
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    text: bool = True,
) -> Done:
    """Run a program to its end, at most `timeout` seconds; its output captured.

    `what` names the job in the user's words ("hadolint", "building imagelab/x:y"). With `check`, a
    non-zero exit raises ProcessError; without, the caller reads `exit_code` (a missing program and a
    timeout raise either way)."""
    with _start(
        command,
        what,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cwd,
        env=None if env is None else dict(env),
        text=text,
        errors="replace" if text else None,
    ) as process:  # closes its pipes however we leave
        with _RUNNING_LOCK:
            _RUNNING.add(process)
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _stop(process)
            raise ProcessError(
                f"{what} took longer than {timeout:g} s and was stopped",
                command=command,
                exit_code=None,
                hint=hint,
            ) from None
        except BaseException:  # Ctrl-C, SIGTERM: the program must not outlive us
            _stop(process)
            raise
        finally:
            with _RUNNING_LOCK:
                _RUNNING.discard(process)
    done = Done(list(command), process.returncode, stdout, stderr)
    if check and not done.ok:
        said = stderr if isinstance(stderr, str) else stderr.decode("utf-8", "replace")
        raise ProcessError(
            f"{what} failed (exit {done.exit_code})",
            command=command,
            exit_code=done.exit_code,
            stderr=said or (stdout if isinstance(stdout, str) else ""),
            hint=hint,
        )
    return done


def stop_all() -> None:
    """Stop every program `run` waits for, whichever thread waits: SIGTERM, SIGKILL after the grace
    period. Their threads then see them end (a non-zero exit) and finish, starting no other program."""
    _STOPPING.set()
    with _RUNNING_LOCK:
        running = list(_RUNNING)
    for process in running:
        _signal(process, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_S
    while any(process.poll() is None for process in running) and time.monotonic() < deadline:
        time.sleep(0.1)
    for process in running:
        _signal(process, signal.SIGKILL)


class Stream:
    """A running program whose output is read as it comes; see `stream`."""

    def __init__(self, process: subprocess.Popen, pipe: IO, timeout: float) -> None:
        self.process = process
        self.pipe = pipe  # the output being read: lines of text, or bytes for a binary stream
        self.timed_out = False
        # Reading a pipe blocks, so the time limit is a timer that stops the program: the read then ends.
        self._timer = threading.Timer(timeout, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def _expire(self) -> None:
        self.timed_out = True
        _signal(self.process, signal.SIGTERM)

    def lines(self) -> Iterator[str]:
        yield from self.pipe

    @property
    def exit_code(self) -> int | None:
        return self.process.poll()


@contextlib.contextmanager
def stream(
    command: Sequence[str],
    *,
    timeout: float,
    what: str,
    cwd: Path | str | None = None,
    read: str = "stderr",
    text: bool = True,
) -> Iterator[Stream]:
    """Start a program and read one of its outputs (`read`: "stderr" or "stdout"; the other is discarded)
    as it comes, at most `timeout` seconds.

    However the block ends -- read to the end, an error, Ctrl-C -- the program is stopped and reaped.
    Running out of time raises ProcessError after the block; the exit code is the caller's to read."""
    pipes = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, read: subprocess.PIPE}
    process = _start(
        command,
        what,
        stdin=subprocess.DEVNULL,
        cwd=cwd,
        text=text,
        errors="replace" if text else None,
        **pipes,
    )
    running = Stream(process, getattr(process, read), timeout)
    try:
        yield running
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=STOP_GRACE_S)  # its output closed: the program is ending
    finally:
        running._timer.cancel()
        _stop(process)
        running.pipe.close()
    if running.timed_out:
        raise ProcessError(
            f"{what} took longer than {timeout:g} s and was stopped", command=command, exit_code=None
        )


def detach(command: Sequence[str], *, log: Path, what: str, env: Mapping[str, str] | None = None) -> int:
    """Start a daemon that outlives the harness (dockerd, the registry), its output appended to `log`;
    its pid. A session of its own: a Ctrl-C meant for the harness does not reach it. Spawned, not a
    Popen: nobody waits for it, and a Popen dropped while its program runs warns."""
    out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        return os.posix_spawnp(
            command[0],
            list(command),
            dict(os.environ if env is None else env),
            file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_DUP2, out, 1),
                (os.POSIX_SPAWN_DUP2, out, 2),
            ],
            setsid=True,
        )
    except OSError as exc:
        raise ProcessError(
            f"{what}: cannot run {command[0]}: {exc.strerror or exc}", command=command, exit_code=None
        ) from exc
    finally:
        os.close(out)
