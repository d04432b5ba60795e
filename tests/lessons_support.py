"""Helpers of the lesson tests (tests/test_lessons_*.py): build a variant under a throw-away tag, run a
container on 127.0.0.1, wait for something with a bound. Every image and container they make is removed."""

from __future__ import annotations

import contextlib
import re
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

from engine_needs import skip_unless_buildable

from imagelab import ROOT, bases, build, engine
from imagelab.checks import smoke
from imagelab.dockerfile import without_heredocs

BASE_SET = "debian"
DOCKERFILES = ROOT / "dockerfiles"
APPS = ("go-href", "microblog", "node-express")
POLL_S = 0.25


def dockerfile(app: str, variant: str) -> Path:
    return DOCKERFILES / app / f"{variant}.Dockerfile"


def instructions(source: str) -> list[str]:
    """Each instruction of a Dockerfile on one line (continuations joined), comments and heredoc bodies
    dropped."""
    lines = [line for line in without_heredocs(source).splitlines() if not line.lstrip().startswith("#")]
    return [i.strip() for i in re.sub(r"\\\n", " ", "\n".join(lines)).splitlines() if i.strip()]


def stages(text: str) -> list[tuple[str, str]]:
    """(base, name) of each FROM instruction in order; name is "" for an unnamed stage."""
    found = [re.match(r"FROM\s+(\S+)(?:\s+AS\s+(\S+))?\s*$", i, re.IGNORECASE) for i in instructions(text)]
    return [(m[1], (m[2] or "").lower()) for m in found if m]


def ancestors(text: str, index: int = -1) -> set[str]:
    """The stage names a stage builds on (FROM and COPY --from), transitively: what BuildKit builds for it."""
    bodies: list[list[str]] = []
    for instruction in instructions(text):
        if re.match(r"FROM\s", instruction, re.IGNORECASE):
            bodies.append([])
        if bodies:
            bodies[-1].append(instruction)
    named = {name: body for (_, name), body in zip(stages(text), bodies, strict=True) if name}
    seen: set[str] = set()
    todo = [bodies[index]]
    while todo:
        body = todo.pop()
        refs = [i.split()[1] for i in body if re.match(r"FROM\s", i, re.IGNORECASE)]
        refs += [ref for i in body for ref in re.findall(r"--from=(\S+)", i)]
        for ref in (r.lower() for r in refs):
            if ref in named and ref not in seen:
                seen.add(ref)
                todo.append(named[ref])
    return seen


@contextlib.contextmanager
def scratch_tag(name: str) -> Iterator[str]:
    """imagelab-scratch/teach-<name>:<random>, removed (with what only it used) after the block."""
    tag = f"imagelab-scratch/teach-{name}:{uuid.uuid4().hex[:10]}"
    try:
        yield tag
    finally:
        if engine.image_id(tag):
            engine.client().images.remove(tag, force=True)


def base_images() -> dict[str, str]:
    """The local base set's build arguments, every role by digest: its stand-ins are built and pushed to
    the project's registry first when they are missing (about a second when they are there)."""
    return build.ensure_bases(bases.open_set(BASE_SET)).build_args()


def build_variant(
    app: str,
    variant: str,
    tag: str,
    *,
    target: str | None = None,
    args: dict[str, str] | None = None,
    context: Path | None = None,
) -> None:
    """Build one variant on the local base set (extra build args win), through the harness's engine door.

    A Dockerfile newer than the engine skips the test with the reason (engine_needs.py)."""
    skip_unless_buildable(dockerfile(app, variant), f"{app}/{variant}")
    engine.build_image(
        context or ROOT / "apps" / app,
        dockerfile(app, variant),
        tag,
        build_args=base_images() | (args or {}),
        target=target,
        timeout_s=900,
    )


def container(image: str, **options: object):
    """A started, labelled container on this engine, force-removed however the block ends."""
    return smoke.container(image, f"lessons-{uuid.uuid4().hex[:6]}", **options)


def wait_until(what: str, timeout_s: float, check: Callable[[], object]) -> object:
    """Poll `check` until it returns something true, at most `timeout_s`; fail with `what` otherwise."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout_s} s")
        time.sleep(POLL_S)


def http_get(port: int, path: str, timeout_s: float = 2) -> tuple[int, str] | None:
    """One GET to 127.0.0.1:port; None when nothing answers yet."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout_s) as answer:
            return answer.status, answer.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")
    except (urllib.error.URLError, OSError):
        return None


def http_post_json(port: int, path: str, body: bytes, timeout_s: float = 10) -> tuple[int, str]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", data=body, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as answer:
            return answer.status, answer.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


def published(box, port: int, timeout_s: float = 10) -> int:
    """The host port the engine chose for a container port published on 127.0.0.1."""
    return int(wait_until(f"port {port} published", timeout_s, lambda: engine.published_port(box, port)))


def run_to_end(image: str, timeout_s: float = 60, **options: object) -> tuple[int, str]:
    """Run a container to its end (bounded); its exit code and its output (stdout and stderr)."""
    with container(image, **options) as box:
        wait_until(f"{image} to exit", timeout_s, lambda: engine.container_state(box)["Status"] == "exited")
        return engine.container_state(box)["ExitCode"], engine.container_logs(box)
