"""Smoke tests: start each image the way its app.toml says, check that it works, always remove it.

A service is published on 127.0.0.1 (the engine picks the host port), waited for (bounded), probed,
then stopped with `docker stop` to see whether it ends gracefully. A job runs on the host network
against its fixture, served by the harness on 127.0.0.1. Hardened variants run a second time with
`--read-only --cap-drop ALL --security-opt no-new-privileges`. Every container carries the run
label and is removed however the run ends: success, failure, timeout, Ctrl-C or SIGTERM.
The probes themselves are in probes.py; why a service never answered, in sockets.py; what a run found,
and the lines it reads as, in smoke_result.py.
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import http.server
import secrets
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

from imagelab import engine
from imagelab.apps import App, Service, Variant
from imagelab.checks.probes import excerpt, judge, send
from imagelab.checks.smoke_result import SmokeResult, StartTiming
from imagelab.checks.sockets import listening, never_answered_hint
from imagelab.engine import Container
from imagelab.errors import ContainerError, tail

#: How many times a service is started to time its start-up: one start is noise (a cold page cache, a
#: busy neighbour); the report shows the median, the spread and the count.
STARTS = 5
STOP_TIMEOUT_S = 10  # docker stop's grace period, its default: SIGTERM, then SIGKILL after this
POLL_S = 0.2
ATTEMPT_TIMEOUT_S = 2.0  # one request while waiting for the first answer
PROBE_TIMEOUT_S = 10.0
#: A graceful stop: the app's own clean exit, or its death by SIGTERM itself (128 + 15). SIGKILL after
#: the grace period shows as 137 (128 + 9).
GRACEFUL_EXIT_CODES = (0, 143)
EXIT_HINTS = {
    126: "the entrypoint is not executable",
    127: "the entrypoint or a program it runs is not in the image (is the ENTRYPOINT/CMD path right?)",
    137: "it was killed with SIGKILL (out of memory?)",
}


def new_run_id() -> str:
    """A run's label value: sortable by time, unique enough for parallel runs on one engine."""
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)


def build_command(variant: Variant) -> str:
    return (
        f"nox -s build -- --app {variant.app.name} --variant {variant.name} --bases {variant.base_set.name}"
    )


# Containers that always go away.


@contextlib.contextmanager
def container(image: str, run_id: str, **options: object) -> Iterator[Container]:
    """A started, labelled container, force-removed however the block ends.

    Named up front, so that even a Ctrl-C between create and start leaves nothing behind."""
    name = f"imagelab-{run_id}-{secrets.token_hex(3)}"
    try:
        yield engine.start_container(image, name, run_id, **options)
    finally:
        with engine.signals_held():
            engine.remove_container(name)


def hardening(app: App) -> dict[str, object]:
    """`--read-only --cap-drop ALL --security-opt no-new-privileges`, tmpfs where app.toml says it writes."""
    return {
        "read_only": True,
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges"],
        "tmpfs": dict.fromkeys(app.tmpfs, ""),
    }


# One run of a service or a job.


def _exited(box: Container, state: dict, what: str) -> ContainerError:
    code = state["ExitCode"]
    hint = "the kernel killed it: out of memory" if state.get("OOMKilled") else EXIT_HINTS.get(code, "")
    return ContainerError(
        f"{what}: the container exited with code {code}",
        hint=hint or "see the log lines below",
        log=tail(engine.container_logs(box)),
        exit_code=code,
    )


def wait_for_answer(box: Container, service: Service, started: float) -> tuple[int, float]:
    """Poll the first probe until it passes: (the host port, seconds since start). Bounded by start_timeout."""
    first = service.probes[0]
    deadline = started + service.start_timeout
    port, last = None, "no answer yet"
    while True:
        state = engine.container_state(box)
        if not state["Running"]:
            raise _exited(box, state, f"it never answered {first.describe()}")
        port = port or engine.published_port(box, service.port)
        if port is not None:
            remaining = max(deadline - time.monotonic(), 0.1)
            outcome = judge(first, send(first, port, min(ATTEMPT_TIMEOUT_S, remaining)))
            if outcome.passed:
                return port, time.monotonic() - started
            last = outcome.problem
        if time.monotonic() >= deadline:
            raise ContainerError(
                f"no good answer to {first.describe()} on 127.0.0.1:{port} (container port {service.port}) "
                f"within {service.start_timeout:g} s; last: {last}",
                hint=never_answered_hint(service.port, listening(box, state["Pid"])),
                log=tail(engine.container_logs(box)),
            )
        time.sleep(POLL_S)


def stop_gracefully(box: Container) -> tuple[bool, str]:
    """`docker stop`, then: did it end on SIGTERM within the grace period, or did it take SIGKILL?"""
    began = time.monotonic()
    engine.stop_container(box, STOP_TIMEOUT_S)
    seconds = time.monotonic() - began
    state = engine.container_state(box)
    code = state["ExitCode"]
    graceful = code in GRACEFUL_EXIT_CODES and not state.get("OOMKilled")
    how = f"exit {code} after {seconds:.1f} s"
    if code == 137:
        how += f" (SIGKILL: SIGTERM did not end it within {STOP_TIMEOUT_S} s)"
    return graceful, how


def _service(variant: Variant, run_id: str, options: dict, result: SmokeResult) -> None:
    app, service = variant.app, variant.app.service
    assert service is not None
    ports = {f"{service.port}/tcp": ("127.0.0.1", None)}  # None: the engine picks the host port
    began = time.monotonic()
    with container(variant.tag, run_id, environment=app.env, ports=ports, **options) as box:
        running = time.monotonic()
        port, ready = wait_for_answer(box, service, running)
        result.starts.append(StartTiming(running - began, ready))
        result.seconds_to_first_answer = result.starts[0].total_s
        result.started_ok = True
        result.probes = [judge(p, send(p, port, PROBE_TIMEOUT_S)) for p in service.probes]
        result.memory_bytes = engine.memory_usage(box)
        if not result.read_only:
            result.graceful_stop, result.stop = stop_gracefully(box)
        failed = [p for p in result.probes if not p.passed]
        if failed:
            result.error = "probe failed: " + "; ".join(f"{p.probe.describe()}: {p.problem}" for p in failed)
            result.log_tail = tail(engine.container_logs(box))


@contextlib.contextmanager
def fixture_server(fixture: Path) -> Iterator[str]:
    """Serve the fixture's folder on 127.0.0.1 (a free port) in a thread; yields the fixture's URL."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass  # the job's output is what counts; a request log would only be noise

    handler = functools.partial(Quiet, directory=str(fixture.parent))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_port}/{quote(fixture.name)}"
        finally:
            server.shutdown()
            thread.join(timeout=5)


def wait_for_exit(box: Container, timeout: float, url_env: str) -> int:
    deadline = time.monotonic() + timeout
    while True:
        state = engine.container_state(box)
        if not state["Running"]:
            return state["ExitCode"]
        if time.monotonic() >= deadline:
            raise ContainerError(
                f"the job still runs after {timeout:g} s",
                hint=f"does it wait for input, or fetch something other than ${url_env}?",
                log=tail(engine.container_logs(box)),
            )
        time.sleep(POLL_S)


def _job(variant: Variant, run_id: str, options: dict, result: SmokeResult) -> None:
    app, job = variant.app, variant.app.job
    assert job is not None
    with fixture_server(job.fixture) as url:
        environment = {**app.env, job.url_env: url}
        # The host network, so that 127.0.0.1 in the container is the host's, where the fixture is.
        with container(variant.tag, run_id, environment=environment, network_mode="host", **options) as box:
            code = wait_for_exit(box, job.timeout, job.url_env)
            output = engine.container_logs(box, stderr=False).strip()
            result.started_ok, result.job_exit_code, result.job_output = True, code, output
            problems = []
            if code != job.exit_code:
                problems.append(f"exit code {code}, expected {job.exit_code}")
            if output != job.output.strip():
                problems.append(f"printed {excerpt(output)!r}, expected {excerpt(job.output.strip())!r}")
            if problems:
                result.error, result.exit_code = "job: " + "; ".join(problems), code
                result.log_tail = tail(engine.container_logs(box, stdout=False)) or tail(output)


def time_starts(variant: Variant, run_id: str, count: int) -> list[StartTiming]:
    """Start the service `count` more times, each until its first good answer, and time each start.

    Each container is removed before the next starts (force-removed: how it stops is the smoke run's
    business), so the starts do not compete. Each wait is bounded by the app's start_timeout; a start
    that fails ends the timing with the starts measured so far (the smoke run has said why already)."""
    app, service = variant.app, variant.app.service
    assert service is not None
    ports = {f"{service.port}/tcp": ("127.0.0.1", None)}
    found: list[StartTiming] = []
    for _ in range(count):
        began = time.monotonic()
        try:
            with container(variant.tag, run_id, environment=app.env, ports=ports) as box:
                running = time.monotonic()
                _, ready = wait_for_answer(box, service, running)
        except ContainerError:
            break
        found.append(StartTiming(running - began, ready))
    return found


def run_once(variant: Variant, run_id: str, hardened: bool = False) -> SmokeResult:
    """Start the image once (hardened: read-only, no capabilities) and check it; failures land in the result."""
    app = variant.app
    result = SmokeResult(app.name, variant.name, variant.base_set.name, variant.tag, read_only=hardened)
    options = hardening(app) if hardened else {}
    try:
        (_service if app.service is not None else _job)(variant, run_id, options, result)
    except ContainerError as exc:
        result.error, result.hint, result.exit_code = exc.cause, exc.hint, exc.exit_code
        result.log_tail = exc.log
    return result


def check(variant: Variant, run_id: str, starts: int = STARTS) -> SmokeResult:
    """Smoke-test one image; hardened variants also run read-only when the plain run passed. A service
    that passed is started again until `starts` starts are timed."""
    if not engine.image_id(variant.tag):
        return SmokeResult(
            variant.app.name, variant.name, variant.base_set.name, variant.tag,
            error=f"image {variant.tag} does not exist", hint=f"build it: {build_command(variant)}",
        )  # fmt: skip
    result = run_once(variant, run_id)
    if result.passed and result.starts and starts > 1:
        result.starts += time_starts(variant, run_id, starts - 1)
    if variant.hardened and result.passed:
        result.hardened = run_once(variant, run_id, hardened=True)
    return result
