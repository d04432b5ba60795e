"""PID 1 and signals, as measured on today's images: what `npm start` does with docker stop's SIGTERM,
what `docker run --init` changes, and an entrypoint script that ends in `exec`.

The figures in dockerfiles/node-express/naive.Dockerfile and apps/node-express/README.md are these."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from lessons_support import build_variant, container, scratch_tag, wait_until

from imagelab import engine

pytestmark = pytest.mark.docker

GRACE_S = 4  # docker stop's grace period in these tests: SIGTERM, then SIGKILL after this long
LISTENING = "node-express listening"
NODE_SAW_IT = "SIGTERM received"
# A PID 1 with no SIGTERM handler of its own: node keeping itself alive, nothing else.
NO_HANDLER = ["-e", "setInterval(() => {}, 1000); console.log('idle')"]


@pytest.fixture(scope="module")
def images() -> Iterator[dict[str, str]]:
    with (
        scratch_tag("node-naive") as naive,
        scratch_tag("node-slim") as slim,
        scratch_tag("node-distroless") as distroless,
    ):
        tags = {"naive": naive, "slim": slim, "distroless": distroless}
        for variant, tag in tags.items():
            build_variant("node-express", variant, tag)
        yield tags


def stop(box) -> tuple[int, float, str]:
    """docker stop with GRACE_S: the exit code, the seconds it took, and the container's output."""
    began = time.monotonic()
    engine.stop_container(box, GRACE_S)
    took = time.monotonic() - began
    return engine.container_state(box)["ExitCode"], took, engine.container_logs(box)


def commands(box) -> list[str]:
    """The command lines of the container's processes, first started first (`docker top`)."""
    return [row[-1] for row in box.top(ps_args="-eo pid,args")["Processes"]]


def started(box, text: str) -> None:
    wait_until(f"{text!r} in the log", 30, lambda: text in engine.container_logs(box))


def test_npm_start_passes_sigterm_to_a_shell_and_node_never_sees_it(images: dict[str, str]) -> None:
    with container(images["naive"]) as box:
        started(box, LISTENING)
        processes = commands(box)
        assert processes[:3] == ["npm start", "sh -c node src/server.js", "node src/server.js"], processes
        code, took, log = stop(box)
    # npm ends on its own, quickly: no SIGKILL (older courses: ignored, 10 s, exit 137) ...
    assert took < GRACE_S - 1, took
    # ... but it reports a failure, and node's own shutdown never ran.
    assert code == 1
    assert "npm error signal SIGTERM" in log
    assert NODE_SAW_IT not in log


def test_node_itself_in_exec_form_shuts_down_cleanly(images: dict[str, str]) -> None:
    # slim: CMD ["node", "src/server.js"] through the image's entrypoint script, which ends in
    # `exec "$@"`: the script is replaced by node, so node is the container's one process.
    with container(images["slim"]) as box:
        started(box, LISTENING)
        processes = commands(box)
        assert processes == ["node src/server.js"], processes
        code, took, log = stop(box)
    assert (code, NODE_SAW_IT in log) == (0, True), log
    assert took < GRACE_S - 1


def test_a_pid_1_without_a_handler_ignores_sigterm_until_the_kill(images: dict[str, str]) -> None:
    # The kernel gives PID 1 no default action for SIGTERM: without a handler, nothing happens.
    with container(images["distroless"], command=NO_HANDLER) as box:
        started(box, "idle")
        code, took, _ = stop(box)
    assert code == 137  # SIGKILL
    assert took >= GRACE_S - 0.5


def test_docker_run_init_ends_it_on_sigterm(images: dict[str, str]) -> None:
    # --init: docker-init (tini) is PID 1 and passes SIGTERM on; node, no longer PID 1, gets the
    # default action and ends at once.
    with container(images["distroless"], command=NO_HANDLER, init=True) as box:
        started(box, "idle")
        code, took, _ = stop(box)
    assert code == 143  # 128 + SIGTERM
    assert took < GRACE_S - 1
