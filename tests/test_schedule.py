"""Building a set's stand-ins several at once (bases/schedule.py), and stopping the programs of worker
threads (process.stop_all). No engine: the jobs are Python functions and `sleep`."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time

import pytest

from imagelab.bases import schedule

#: debian-slim under everything, buildpack-deps under python and golang: the shape of a real set.
PARENTS = {
    "debian-slim": "",
    "static": "debian-slim",
    "buildpack-deps": "debian-slim",
    "python": "buildpack-deps",
    "golang": "buildpack-deps",
    "cc": "debian-slim",
}
ORDER = list(PARENTS)


def test_every_role_is_made_after_its_parent_and_gets_its_result():
    started: list[str] = []

    def make(name: str, parent: str | None) -> str:
        started.append(name)
        assert parent == (f"made {PARENTS[name]}" if PARENTS[name] else None)
        time.sleep(0.05)
        return f"made {name}"

    done = schedule.in_tree_order(ORDER, PARENTS.__getitem__, make)
    assert done == {name: f"made {name}" for name in ORDER}
    assert started[0] == "debian-slim"
    assert started.index("buildpack-deps") < started.index("python")


def test_the_longest_chain_starts_first_among_the_ready_roles():
    """Listed first, static and cc (nothing builds on them) wait for the chain under python to start."""
    order = ["static", "cc", "debian-slim", "buildpack-deps", "python", "golang"]
    parents = {"static": "", "cc": "", **{name: PARENTS[name] for name in order[2:]}}
    started: list[str] = []

    def make(name: str, parent: str | None) -> str:
        started.append(name)
        return name

    schedule.in_tree_order(order, parents.__getitem__, make, workers=1)
    # then the rest as listed: nothing builds on any of them
    assert started == ["debian-slim", "buildpack-deps", "static", "cc", "python", "golang"]


def test_no_more_roles_run_at_once_than_the_workers():
    lock = threading.Lock()
    now, most = 0, 0

    def make(name: str, parent: str | None) -> str:
        nonlocal now, most
        with lock:
            now += 1
            most = max(most, now)
        time.sleep(0.1)
        with lock:
            now -= 1
        return name

    schedule.in_tree_order(ORDER, PARENTS.__getitem__, make, workers=2)
    assert most == 2  # the set has room for more: two is the bound, and it is reached


def test_a_failure_starts_nothing_new_lets_the_running_finish_and_is_raised():
    finished: list[str] = []

    def make(name: str, parent: str | None) -> str:
        if name == "buildpack-deps":
            raise RuntimeError("apt-get install failed")
        time.sleep(0.2 if name == "static" else 0)
        finished.append(name)
        return name

    with pytest.raises(RuntimeError, match="apt-get install failed"):
        schedule.in_tree_order(ORDER, PARENTS.__getitem__, make, workers=3)
    assert "static" in finished  # it ran beside the failure, and finished
    assert not {"python", "golang"} & set(finished)  # their parent failed: never started


def test_stop_all_ends_a_worker_threads_program_and_starts_no_other():
    """In a process of its own: stop_all leaves the process unable to start programs, on purpose."""
    script = textwrap.dedent(
        """
        import threading, time
        from imagelab import process
        errors = []
        def work():
            try:
                process.run(["sleep", "60"], timeout=120, what="a long sleep")
            except process.ProcessError as exc:
                errors.append(exc.cause)
        thread = threading.Thread(target=work)
        thread.start()
        time.sleep(0.5)
        began = time.monotonic()
        process.stop_all()
        thread.join(30)
        print(round(time.monotonic() - began), errors)
        try:
            process.run(["true"], timeout=5, what="another")
        except process.ProcessError as exc:
            print(exc.cause)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    seconds, errors = done.stdout.splitlines()[0].split(" ", 1)
    assert int(seconds) < 5, done.stdout
    assert "a long sleep failed (exit -15)" in errors, done.stdout
    assert done.stdout.splitlines()[1] == "another: not started, the harness is stopping"
