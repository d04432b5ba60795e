"""Living with an image that has no shell: the `debug` target (a busybox shell), the language's own REPL
through --entrypoint, and a HEALTHCHECK that needs no curl (the runtime's own HTTP client, exec form)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from lessons_support import build_variant, container, run_to_end, scratch_tag, wait_until

from imagelab import engine
from imagelab.errors import ContainerError

pytestmark = pytest.mark.docker

SECOND_NS = 1_000_000_000
# What each service needs to start (microblog refuses to guess a secret key in a test).
ENVIRONMENT = {"microblog": {"SECRET_KEY": "lessons-test-only"}, "node-express": {}}
PORTS = {"microblog": 5000, "node-express": 3000}
# The language's own prompt, reached through --entrypoint: run one line, then the REPL (-i), which
# ends at the end of its input (a container's stdin is empty unless attached).
REPL = {
    "microblog": (["/usr/bin/python3"], ["-i", "-c", "import flask; print('repl has', flask.__name__)"]),
    "node-express": (["/nodejs/bin/node"], ["-i", "-e", "console.log('repl has', require('express').name)"]),
}
REPL_SAYS = {"microblog": ("repl has flask", ">>>"), "node-express": ("repl has createApplication", "> ")}


@pytest.fixture(scope="module")
def distroless() -> Iterator[dict[str, str]]:
    """The distroless image of each service, built from this checkout under throw-away tags."""
    with scratch_tag("microblog-distroless") as microblog, scratch_tag("node-distroless") as node:
        tags = {"microblog": microblog, "node-express": node}
        for app, tag in tags.items():
            build_variant(app, "distroless", tag)
        yield tags


@pytest.mark.parametrize("app", ["go-href", "microblog", "node-express"])
def test_the_debug_target_adds_a_shell_to_the_image(app: str) -> None:
    with scratch_tag(f"{app}-debug") as tag:
        build_variant(app, "distroless", tag, target="debug")
        code, output = run_to_end(tag, entrypoint=["sh", "-c", "echo ok from $(id -u)"])
        assert (code, output) == (0, "ok from 65532\n")


@pytest.mark.parametrize("app", ["microblog", "node-express"])
def test_the_image_itself_has_no_shell(app: str, distroless: dict[str, str]) -> None:
    # The control for the test above: without --target debug, the engine finds no `sh` to start.
    no_shell = pytest.raises(ContainerError, match='"sh": executable file not found')
    with no_shell, container(distroless[app], entrypoint=["sh", "-c", "echo ok"]):
        pass


@pytest.mark.parametrize("app", ["microblog", "node-express"])
def test_the_repl_is_there_through_the_entrypoint(app: str, distroless: dict[str, str]) -> None:
    entrypoint, command = REPL[app]
    code, output = run_to_end(distroless[app], entrypoint=entrypoint, command=command)
    said, prompt = REPL_SAYS[app]
    assert code == 0, output
    assert said in output and prompt in output, output


@pytest.mark.parametrize("app", ["microblog", "node-express"])
def test_the_healthcheck_reports_healthy(app: str, distroless: dict[str, str]) -> None:
    # The image's own check, run every second here instead of every 10 s, so the test is quick.
    options = {
        "environment": ENVIRONMENT[app],
        "read_only": True,
        "tmpfs": {"/tmp": ""},
        "cap_drop": ["ALL"],
        "healthcheck": {"interval": SECOND_NS, "retries": 3, "start_period": 30 * SECOND_NS},
    }
    with container(distroless[app], **options) as box:
        assert engine.image_config(distroless[app])["Healthcheck"]["Test"][0] == "CMD"  # exec form
        wait_until(f"{app} healthy", 60, lambda: _health(box) == "healthy")


# Instead of the app, the image's interpreter idles: the image's own check then finds nothing to ask.
IDLE = {
    "microblog": {"entrypoint": ["/usr/bin/python3"], "command": ["-c", "import time; time.sleep(120)"]},
    "node-express": {"command": ["-e", "setTimeout(() => {}, 120000)"]},
}


@pytest.mark.parametrize("app", ["microblog", "node-express"])
def test_the_healthcheck_reports_unhealthy_when_nothing_answers(app: str, distroless: dict[str, str]) -> None:
    options = {
        "environment": ENVIRONMENT[app],
        "healthcheck": {"interval": SECOND_NS, "retries": 2, "start_period": SECOND_NS // 1000},
        **IDLE[app],
    }
    with container(distroless[app], **options) as box:
        wait_until(f"{app} unhealthy", 60, lambda: _health(box) == "unhealthy")


def _health(box) -> str:
    return (engine.container_state(box).get("Health") or {}).get("Status", "")
