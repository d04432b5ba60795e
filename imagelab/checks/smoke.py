"""Smoke tests: start each image the way its app.toml says, check that it works, always remove it.

A service is published on 127.0.0.1 (the engine picks the host port), waited for (bounded), probed,
then stopped with `docker stop` to see whether it ends gracefully. A job runs on the host network
against its fixture, served by the harness on 127.0.0.1. Hardened variants run a second time with
`--read-only --cap-drop ALL --security-opt no-new-privileges`. Every container carries the run
label and is removed however the run ends: success, failure, timeout, Ctrl-C or SIGTERM.

Probes use the standard library's urllib: they only speak plain HTTP/1.1 to 127.0.0.1, which needs
no new dependency. They see the raw answer: no proxy from the environment, no redirect followed.
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import http.server
import ipaddress
import json
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from urllib.parse import quote

from imagelab import engine
from imagelab.apps import App, Probe, Service, Variant
from imagelab.engine import Container
from imagelab.errors import ContainerError, tail

STOP_TIMEOUT_S = 10  # docker stop's grace period, its default: SIGTERM, then SIGKILL after this
POLL_S = 0.2
ATTEMPT_TIMEOUT_S = 2.0  # one request while waiting for the first answer
PROBE_TIMEOUT_S = 10.0
BODY_LIMIT = 1 << 20
EXCERPT_CHARS = 160
#: A graceful stop: the app's own clean exit, or its death by SIGTERM itself (128 + 15). SIGKILL after
#: the grace period shows as 137 (128 + 9).
GRACEFUL_EXIT_CODES = (0, 143)
EXIT_HINTS = {
    126: "the entrypoint is not executable",
    127: "the entrypoint or a program it runs is not in the image (is the ENTRYPOINT/CMD path right?)",
    137: "it was killed with SIGKILL (out of memory?)",
}


@dataclass
class ProbeResult:
    probe: Probe
    passed: bool
    status: int | None = None  # None: no HTTP answer at all
    body: str = ""  # an excerpt of what came back
    problem: str = ""  # why it failed, one line

    def describe(self) -> str:
        answer = "no answer" if self.status is None else str(self.status)
        return f"{self.probe.describe()} -> {answer}: " + (
            "pass" if self.passed else f"FAIL ({self.problem})"
        )


@dataclass
class SmokeResult:
    """One image started once. For a hardened variant `hardened` holds its --read-only run, which is
    skipped (None) when the plain run failed already."""

    app: str
    variant: str
    base_set: str
    tag: str
    read_only: bool = False  # True for the hardened run itself
    started_ok: bool = False  # the service answered / the job exited within its bound
    seconds_to_first_answer: float | None = None
    memory_bytes: int | None = None
    probes: list[ProbeResult] = field(default_factory=list)
    job_exit_code: int | None = None
    job_output: str | None = None
    graceful_stop: bool | None = None  # services only, recorded (a report shows it), not a failure
    stop: str = ""  # how `docker stop` went, e.g. "exit 0 after 0.3 s"
    hardened: SmokeResult | None = None
    error: str = ""
    hint: str = ""
    exit_code: int | None = None  # the container's, when it ended on its own
    log_tail: list[str] = field(default_factory=list)

    @property
    def passed_itself(self) -> bool:
        """This run alone, without the hardened run it may hold."""
        return self.started_ok and not self.error and all(p.passed for p in self.probes)

    @property
    def passed(self) -> bool:
        return self.passed_itself and (self.hardened is None or self.hardened.passed)

    def problems(self) -> list[str]:
        """One line per failure, the hardened run's included."""
        found = [self.error] if self.error else []
        if self.hardened is not None:
            found += [f"hardened run: {line}" for line in self.hardened.problems()]
        return found


def new_run_id() -> str:
    """A run's label value: sortable by time, unique enough for parallel runs on one engine."""
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)


def build_command(variant: Variant) -> str:
    return f"nox -s build -- --app {variant.app.name} --variant {variant.name} --bases {variant.base_set}"


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


# HTTP probes.


@dataclass(frozen=True)
class Answer:
    status: int | None
    body: str = ""
    error: str = ""  # why there was no HTTP answer
    cut: bool = False  # the body was longer than BODY_LIMIT: `body` is its beginning


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # a 3xx comes back as it is, so a probe can expect it


# No ProxyHandler entry: a proxy from the environment must never see loopback probes.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects)


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    flat = re.sub(r"\s+", " ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def _answer(status: int, body: IO[bytes]) -> Answer:
    """At most BODY_LIMIT bytes of the body: a probe checks a page, not a download."""
    read = body.read(BODY_LIMIT + 1)
    return Answer(status, read[:BODY_LIMIT].decode("utf-8", "replace"), cut=len(read) > BODY_LIMIT)


def send(probe: Probe, port: int, timeout: float) -> Answer:
    """One request of a probe to 127.0.0.1:port."""
    data = None if probe.json is None else json.dumps(probe.json).encode()
    headers = {} if data is None else {"Content-Type": "application/json"}
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{probe.path}", data=data, headers=headers, method=probe.method
    )
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return _answer(response.status, response)
    except urllib.error.HTTPError as exc:  # 4xx and 5xx (and 3xx, as redirects are not followed)
        with exc:
            return _answer(exc.code, exc)
    except urllib.error.URLError as exc:
        return Answer(None, error=str(exc.reason))
    except (OSError, http.client.HTTPException) as exc:
        return Answer(None, error=str(exc) or type(exc).__name__)


def judge(probe: Probe, answer: Answer) -> ProbeResult:
    """Does the answer have the probe's status, and its body text (when one is expected)?"""
    if answer.status is None:
        return ProbeResult(probe, False, problem=f"no answer: {answer.error}")
    problems = []
    if answer.status != probe.status:
        problems.append(f"status {answer.status}, expected {probe.status}")
    if probe.body and probe.body not in answer.body:
        where = f" (in its first {BODY_LIMIT >> 20} MiB, all the harness reads)" if answer.cut else ""
        problems.append(f"body lacks {probe.body!r}{where}: {excerpt(answer.body)!r}")
    return ProbeResult(probe, not problems, answer.status, excerpt(answer.body), "; ".join(problems))


# Why a service never answered: what its network namespace listens on, read from /proc on this host.


def parse_listening(proc_net_tcp: str) -> list[tuple[str, int]]:
    """(address, port) of the LISTEN sockets in a /proc/<pid>/net/tcp or tcp6 table."""
    found = []
    for line in proc_net_tcp.splitlines()[1:]:
        fields = line.split()
        if len(fields) > 3 and fields[3] == "0A":  # 0A: TCP_LISTEN
            address, port = fields[1].rsplit(":", 1)
            raw = bytes.fromhex(address)
            # The kernel prints each 32-bit word in host byte order (little-endian on x86 and arm64).
            words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
            found.append((str(ipaddress.ip_address(words)), int(port, 16)))
    return found


def listening(box: Container, pid: int) -> list[tuple[str, int]] | None:
    """What a container's process listens on, or None when its sockets cannot be read from here.

    From /proc/<pid>/net/tcp{,6} where the engine's processes are this host's -- checked: the pid must
    be in the container's cgroup, as in another pid namespace (the harness in a container, a VM) the
    same number is another process. Else from the container itself, where the image has `cat`."""
    tables = []
    with contextlib.suppress(OSError):
        if pid and box.id in Path(f"/proc/{pid}/cgroup").read_text():
            tables = [Path(f"/proc/{pid}/net/{name}").read_text() for name in ("tcp", "tcp6")]
    if not tables:
        tables = [engine.exec_output(box, ["cat", f"/proc/net/{name}"]) for name in ("tcp", "tcp6")]
    found = {socket for table in tables if table for socket in parse_listening(table)}
    return sorted(found) if any(tables) else None


def _loopback(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    mapped = getattr(ip, "ipv4_mapped", None)  # ::ffff:127.0.0.1 is IPv4's loopback
    return (mapped or ip).is_loopback


def never_answered_hint(port: int, sockets: list[tuple[str, int]] | None) -> str:
    """Why nothing answered on `port`, from what the app listens on instead."""
    if sockets is None:
        return f"is the app listening on 0.0.0.0:{port}? (its sockets cannot be read from here)"
    on_port = [address for address, p in sockets if p == port]
    if on_port and all(_loopback(a) for a in on_port):
        return f"it listens on {_show(on_port[0], port)} only, inside the container: bind 0.0.0.0:{port}"
    if on_port:
        return (
            f"it listens on {_show(on_port[0], port)}, so the answer itself is wrong or late: see 'last'; "
            "raise [service] start_timeout in app.toml if it starts slowly"
        )
    if sockets:
        listed = ", ".join(_show(a, p) for a, p in sockets)
        return f"it listens on {listed}, not on {port}: fix the app's port or [service] port in app.toml"
    return f"it listens on no TCP port at all: is the app listening on 0.0.0.0:{port}?"


def _show(address: str, port: int) -> str:
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


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
    with container(variant.tag, run_id, environment=app.env, ports=ports, **options) as box:
        port, result.seconds_to_first_answer = wait_for_answer(box, service, time.monotonic())
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


def run_once(variant: Variant, run_id: str, hardened: bool = False) -> SmokeResult:
    """Start the image once (hardened: read-only, no capabilities) and check it; failures land in the result."""
    app = variant.app
    result = SmokeResult(app.name, variant.name, variant.base_set, variant.tag, read_only=hardened)
    options = hardening(app) if hardened else {}
    try:
        (_service if app.service is not None else _job)(variant, run_id, options, result)
    except ContainerError as exc:
        result.error, result.hint, result.exit_code = exc.cause, exc.hint, exc.exit_code
        result.log_tail = exc.log
    return result


def check(variant: Variant, run_id: str) -> SmokeResult:
    """Smoke-test one image; hardened variants also run read-only when the plain run passed."""
    if not engine.image_id(variant.tag):
        return SmokeResult(
            variant.app.name, variant.name, variant.base_set, variant.tag,
            error=f"image {variant.tag} does not exist", hint=f"build it: {build_command(variant)}",
        )  # fmt: skip
    result = run_once(variant, run_id)
    if variant.hardened and result.passed:
        result.hardened = run_once(variant, run_id, hardened=True)
    return result


def summary(result: SmokeResult) -> list[str]:
    """Plain lines for the CLI: the verdict, then what went wrong, with the hint and the log tail."""
    lines = []
    for run in (result, result.hardened):
        if run is None:
            continue
        name = "hardened" if run.read_only else "smoke"
        facts = []
        if run.seconds_to_first_answer is not None:
            facts.append(f"first answer {run.seconds_to_first_answer:.2f} s")
        if run.probes:
            facts.append(f"{sum(p.passed for p in run.probes)}/{len(run.probes)} probes")
        if run.memory_bytes is not None:
            facts.append(f"{run.memory_bytes / 2**20:.1f} MiB")
        if run.job_exit_code is not None:
            facts.append(f"exit {run.job_exit_code}")
        if run.stop:
            facts.append(("stopped gracefully: " if run.graceful_stop else "NOT graceful: ") + run.stop)
        verdict = "pass" if run.started_ok and not run.error else "FAIL"
        lines.append(f"{name}: {verdict}" + (f" ({', '.join(facts)})" if facts else ""))
        if run.error:
            lines.append(f"  error: {run.error}")
            if run.hint:
                lines.append(f"  hint: {run.hint}")
            lines += [f"  | {line}" for line in run.log_tail]
    return lines
