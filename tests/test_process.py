"""The one process runner: output, the error it raises, its time limit, and nothing left running."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from imagelab import process


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purposes, but a reaped process is gone: the runner must reap it.
    return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()


def recording_pid(pid_file: Path, then: str) -> list[str]:
    """A shell that writes its pid (which `exec` hands on to `then`) before running `then`."""
    return ["sh", "-c", f"echo $$ > {pid_file}; exec {then}"]


@pytest.fixture
def ctrl_c_in() -> Iterator:
    """Call with seconds: a KeyboardInterrupt arrives then, as from Ctrl-C."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    yield lambda seconds: signal.setitimer(signal.ITIMER_REAL, seconds)
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, previous)


def test_run_returns_the_output_and_the_exit_code():
    done = process.run(["sh", "-c", "echo out; echo err >&2"], timeout=10, what="a shell")
    assert (done.ok, done.exit_code, done.stdout, done.stderr) == (True, 0, "out\n", "err\n")
    assert process.run(["sh", "-c", "exit 3"], timeout=10, what="a shell", check=False).exit_code == 3


def test_a_failure_carries_the_command_the_exit_code_and_the_end_of_stderr():
    script = "for i in $(seq 1 50); do echo line $i >&2; done; exit 2"
    with pytest.raises(process.ProcessError) as caught:
        process.run(["sh", "-c", script], timeout=10, what="counting")
    error = caught.value
    assert error.cause == "counting failed (exit 2)"
    assert error.exit_code == 2 and error.command == ["sh", "-c", script]
    assert error.log == [f"line {i}" for i in range(31, 51)]  # the last 20 lines
    assert error.hint.startswith("command: sh -c ")
    assert error.render().startswith("error: counting failed (exit 2)\nhint: command: sh -c")


def test_a_missing_program_is_one_line_not_a_traceback():
    with pytest.raises(process.ProcessError) as caught:
        process.run(["imagelab-no-such-program"], timeout=10, what="the tool")
    assert caught.value.cause == "the tool: cannot run imagelab-no-such-program: No such file or directory"
    assert caught.value.exit_code is None


def test_a_program_past_its_time_limit_is_stopped_and_reaped(tmp_path: Path):
    began = time.monotonic()
    with pytest.raises(process.ProcessError) as caught:
        process.run(recording_pid(tmp_path / "pid", "sleep 30"), timeout=0.5, what="sleeping", hint="wake up")
    assert time.monotonic() - began < 5
    assert caught.value.cause == "sleeping took longer than 0.5 s and was stopped"
    assert caught.value.hint == "wake up" and caught.value.exit_code is None
    assert not alive(int((tmp_path / "pid").read_text()))


def test_a_program_that_ignores_sigterm_is_killed_after_the_grace_period(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(process, "STOP_GRACE_S", 0.5)
    stubborn = recording_pid(tmp_path / "pid", "sh -c 'trap \"\" TERM; sleep 30 & wait'")
    began = time.monotonic()
    with pytest.raises(process.ProcessError):
        process.run(stubborn, timeout=0.5, what="a stubborn shell")
    assert time.monotonic() - began < 5
    assert not alive(int((tmp_path / "pid").read_text()))


def test_ctrl_c_stops_the_program_too(tmp_path: Path, ctrl_c_in):
    ctrl_c_in(0.5)
    with pytest.raises(KeyboardInterrupt):
        process.run(recording_pid(tmp_path / "pid", "sleep 30"), timeout=60, what="sleeping")
    assert not alive(int((tmp_path / "pid").read_text()))


def test_stream_hands_over_lines_as_they_come():
    script = "echo one >&2; sleep 0.3; echo two >&2; echo not-read"
    seen = []
    with process.stream(["sh", "-c", script], timeout=10, what="a shell") as running:
        for line in running.lines():
            seen.append((line, time.monotonic()))
    assert [line for line, _ in seen] == ["one\n", "two\n"]
    assert seen[1][1] - seen[0][1] > 0.2  # the first line came before the program ended
    assert running.exit_code == 0


def test_stream_stops_a_program_past_its_time_limit(tmp_path: Path):
    command = recording_pid(tmp_path / "pid", "sh -c 'echo started >&2; sleep 30'")
    began = time.monotonic()
    # The error comes once the block is left: the lines read before it are the caller's.
    with (
        pytest.raises(process.ProcessError) as caught,
        process.stream(command, timeout=0.5, what="docker buildx bake") as running,
    ):
        lines = list(running.lines())
    assert time.monotonic() - began < 5
    assert lines == ["started\n"]
    assert caught.value.cause == "docker buildx bake took longer than 0.5 s and was stopped"
    assert not alive(int((tmp_path / "pid").read_text()))


def test_leaving_a_stream_early_stops_the_program(tmp_path: Path, ctrl_c_in):
    command = recording_pid(tmp_path / "pid", "sh -c 'while true; do echo tick >&2; sleep 0.1; done'")
    ctrl_c_in(0.5)
    with pytest.raises(KeyboardInterrupt), process.stream(command, timeout=60, what="ticking") as running:
        for _ in running.lines():
            pass
    assert not alive(int((tmp_path / "pid").read_text()))


def test_stream_reads_stdout_as_bytes_when_asked():
    with process.stream(["printf", "a\\0b"], timeout=10, what="printf", read="stdout", text=False) as out:
        assert out.pipe.read() == b"a\0b"


def test_a_daemon_is_detached_in_a_session_of_its_own_with_its_output_logged(tmp_path: Path):
    log = tmp_path / "daemon.log"
    pid = process.detach(["sh", "-c", "echo started; sleep 0.5"], log=log, what="a daemon")
    assert os.getsid(pid) == pid  # a Ctrl-C in our terminal does not reach it
    _, status = os.waitpid(pid, 0)  # a test reaps it; a real daemon outlives the harness
    assert os.waitstatus_to_exitcode(status) == 0
    assert log.read_text() == "started\n"
    with pytest.raises(process.ProcessError) as caught:
        process.detach(["imagelab-no-such-daemon"], log=log, what="the daemon")
    assert caught.value.cause.startswith("the daemon: cannot run imagelab-no-such-daemon")
