"""Smoke tests: probe matching and result logic without an engine; then real containers.

The containers come from tiny images built here FROM scratch with Debian's static busybox (`httpd`
serves HTTP, `sh -c` misbehaves on demand), each standing in for one way an app can go wrong. They are
tagged like matrix images (Variant.tag) of apps named scratch-*, and removed when the module ends.
"""

from __future__ import annotations

import http.server
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from imagelab import ROOT, apps, bases, cli, engine
from imagelab.apps import App, Job, Probe, Service, Variant
from imagelab.checks import probes, smoke, smoke_result, sockets
from imagelab.commands import flags

BASE_SET = bases.open_set(
    "debian"
)  # the fake apps' images are tagged as if built on it, so the CLI's paths accept them
PORT = 8080

DOCKERFILE = """\
FROM scratch AS busybox
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
RUN ["/bin/busybox", "mkdir", "-m", "1777", "/tmp"]
COPY www /www
USER 65532:65532
EXPOSE 8080

# Answers on 8080 and ends on SIGTERM (the trap), as a well-behaved service does.
FROM busybox AS web
CMD ["/bin/sh", "-c", "trap 'exit 0' TERM; httpd -f -v -p 8080 -h /www & wait"]

# Dies at once with a message, like an app missing its configuration.
FROM busybox AS exits
CMD ["/bin/sh", "-c", "echo starting up; echo 'fatal: no configuration' >&2; exit 3"]

# Runs but never listens.
FROM busybox AS silent
CMD ["/bin/sh", "-c", "trap 'exit 0' TERM; echo 'waiting for nothing'; sleep 600 & wait"]

# Listens, on the wrong port.
FROM busybox AS other-port
CMD ["/bin/sh", "-c", "trap 'exit 0' TERM; httpd -f -p 9090 -h /www & wait"]

# The same, with no shell and no cat: nothing to read its sockets from inside.
FROM scratch AS other-port-bare
COPY --from=busybox /bin/busybox /bin/httpd
COPY www /www
CMD ["/bin/httpd", "-f", "-p", "9090", "-h", "/www"]

# Listens on the right port of the container's loopback only.
FROM busybox AS loopback
CMD ["/bin/sh", "-c", "trap 'exit 0' TERM; httpd -f -p 127.0.0.1:8080 -h /www & wait"]

# httpd as PID 1 has no SIGTERM handler, and the kernel ignores SIGTERM for a PID 1 without one.
FROM busybox AS deaf
CMD ["/bin/httpd", "-f", "-p", "8080", "-h", "/www"]

# Writes to /tmp before serving: needs a tmpfs in the --read-only run.
FROM busybox AS writes
CMD ["/bin/sh", "-c", "trap 'exit 0' TERM; echo started > /tmp/state || exit 1; httpd -f -p 8080 -h /www & wait"]

# A job: fetches $url and prints it.
FROM busybox AS fetch
CMD ["/bin/sh", "-c", "wget -q -O - \\"$url\\""]
"""
TARGETS = ("web", "exits", "silent", "other-port", "other-port-bare", "loopback", "deaf", "writes", "fetch")
GOOD_PROBES = (Probe("GET", "/", 200, "hello smoke"), Probe("GET", "/healthz", 200, "ok"))


def service_app(target: str, *probes: Probe, start_timeout: float = 10, tmpfs: tuple[str, ...] = ()) -> App:
    return App(
        name=f"scratch-{target}", folder=ROOT, description="a test stand-in", language="go", kind="service",
        source_file=ROOT / "noxfile.py", comment="#", tmpfs=tmpfs,
        service=Service(PORT, probes or GOOD_PROBES, start_timeout),
    )  # fmt: skip


def job_app(fixture: Path, output: str, exit_code: int = 0) -> App:
    return App(
        name="scratch-fetch", folder=ROOT, description="a test stand-in", language="go", kind="job",
        source_file=ROOT / "noxfile.py", comment="#", job=Job(fixture, "url", output, exit_code),
    )  # fmt: skip


# Probes, without an engine.


def test_a_probe_passes_on_its_status_and_body_text():
    result = probes.judge(Probe("GET", "/", 200, "ok"), probes.Answer(200, "all ok here"))
    assert result.passed and result.status == 200 and result.problem == ""


def test_a_probe_names_a_wrong_status_and_a_missing_body_text():
    result = probes.judge(
        Probe("POST", "/api/notes", 201, "smoke"), probes.Answer(500, "<h1>Internal Error</h1>")
    )
    assert not result.passed
    assert result.problem == "status 500, expected 201; body lacks 'smoke': '<h1>Internal Error</h1>'"
    assert result.describe() == "POST /api/notes -> 500: FAIL (" + result.problem + ")"


def test_an_empty_expected_body_accepts_any_body_and_no_answer_fails():
    assert probes.judge(Probe("GET", "/", 204), probes.Answer(204, "")).passed
    result = probes.judge(Probe("GET", "/", 200), probes.Answer(None, error="Connection refused"))
    assert not result.passed and result.problem == "no answer: Connection refused"


class _Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def _answer(self, status: int, body: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body.encode())))
        self.end_headers()
        self.wfile.write(body.encode())

    def do_GET(self) -> None:
        routes = {"/": (200, "hello"), "/moved": (302, "see /"), "/boom": (500, "it broke")}
        status, body = routes.get(self.path, (404, "not found"))
        self._answer(status, body, {"Location": "/"} if status == 302 else None)

    def do_POST(self) -> None:
        sent = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self._answer(201, json.dumps({"got": sent, "type": self.headers["Content-Type"]}))


@pytest.fixture
def local_server() -> Iterator[int]:
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield server.server_port
        server.shutdown()
        thread.join(timeout=5)


def test_send_sees_the_raw_answer_json_bodies_errors_and_redirects_alike(local_server: int):
    assert probes.send(Probe("GET", "/", 200), local_server, 5) == probes.Answer(200, "hello")
    assert probes.send(Probe("GET", "/boom", 200), local_server, 5) == probes.Answer(500, "it broke")
    assert probes.send(Probe("GET", "/moved", 302), local_server, 5) == probes.Answer(302, "see /")
    posted = probes.send(Probe("POST", "/notes", 201, json={"title": "smoke"}), local_server, 5)
    assert posted.status == 201
    assert json.loads(posted.body) == {"got": {"title": "smoke"}, "type": "application/json"}


def test_send_to_a_closed_port_is_no_answer():
    with http.server.HTTPServer(("127.0.0.1", 0), _Handler) as unused:
        port = unused.server_port  # bound, then closed: nothing listens there any more
    answer = probes.send(Probe("GET", "/", 200), port, 2)
    assert answer.status is None and "refused" in answer.error.lower()


PROC_NET_TCP = """\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:2382 00000000:0000 0A 00000000:00000000 00:00000000 00000000 65532        0 1 1
   1: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 65532        0 2 1
   2: 0100007F:1F90 0100007F:9C40 01 00000000:00000000 00:00000000 00000000 65532        0 3 1
"""
PROC_NET_TCP6 = """\
  sl  local_address                         remote_address                        st tx_queue rx_queue
   0: 00000000000000000000000000000000:0BB8 00000000000000000000000000000000:0000 0A 00000000:00000000
   1: 00000000000000000000000001000000:1388 00000000000000000000000000000000:0000 0A 00000000:00000000
"""


def test_listening_sockets_are_read_from_proc_net_tables():
    assert sockets.parse_listening(PROC_NET_TCP) == [("0.0.0.0", 9090), ("127.0.0.1", 8080)]
    assert sockets.parse_listening(PROC_NET_TCP6) == [("::", 3000), ("::1", 5000)]


def test_the_never_answered_hint_says_what_the_app_listens_on_instead():
    assert sockets.never_answered_hint(8080, None).startswith("is the app listening on 0.0.0.0:8080? (its")
    assert sockets.never_answered_hint(8080, []).startswith("it listens on no TCP port at all")
    assert sockets.never_answered_hint(8080, [("0.0.0.0", 9090)]).startswith(
        "it listens on 0.0.0.0:9090, not on 8080: fix"
    )
    assert "on [::]:3000, 127.0.0.1:5000, not on 8080" in sockets.never_answered_hint(
        8080, [("::", 3000), ("127.0.0.1", 5000)]
    )
    for loopback in ("127.0.0.1", "::1", "::ffff:127.0.0.1"):
        hint = sockets.never_answered_hint(8080, [(loopback, 8080)])
        assert hint.endswith(":8080 only, inside the container: bind 0.0.0.0:8080"), hint
    assert "so the answer itself is wrong or late" in sockets.never_answered_hint(8080, [("0.0.0.0", 8080)])


def test_a_result_passes_only_when_its_hardened_run_passes_too():
    probe = probes.ProbeResult(GOOD_PROBES[0], True, 200, "hello smoke")
    result = smoke_result.SmokeResult(
        "a", "minimal", "debian", "t", started_ok=True, probes=[probe], graceful_stop=False
    )
    assert result.passed  # a stop that needed SIGKILL is recorded, not a failure
    result.hardened = smoke_result.SmokeResult(
        "a", "minimal", "debian", "t", read_only=True, error="it exited"
    )
    assert not result.passed
    assert result.problems() == ["hardened run: it exited"]
    result.hardened = None
    result.probes.append(probes.ProbeResult(GOOD_PROBES[1], False, 500, "", "status 500, expected 200"))
    assert not result.passed


def test_the_fixture_server_serves_the_fixture_on_loopback(tmp_path: Path):
    fixture = tmp_path / "page one.html"
    fixture.write_text("<a href='x'>x</a>")
    with smoke.fixture_server(fixture) as url:
        assert url.startswith("http://127.0.0.1:") and url.endswith("/page%20one.html")
        port = int(url.split(":")[2].split("/")[0])
        assert probes.send(Probe("GET", "/page%20one.html", 200), port, 5) == probes.Answer(
            200, "<a href='x'>x</a>"
        )


@pytest.fixture
def ctrl_c_raises() -> Iterator[None]:
    """Ctrl-C raises KeyboardInterrupt, as in a terminal, even when the suite runs as a background job
    (a non-interactive shell starts those with SIGINT ignored, and Python then leaves it ignored)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_signals_held_during_cleanup_are_delivered_after_it(ctrl_c_raises):
    reached_the_end = False
    with pytest.raises(KeyboardInterrupt), engine.signals_held():
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)
        reached_the_end = True
    assert reached_the_end


def test_an_unknown_app_or_variant_is_one_line_with_the_valid_names(capsys: pytest.CaptureFixture[str]):
    assert cli.main(["smoke", "--app", "no-such-app"]) == 1
    err = capsys.readouterr().err
    assert "error: unknown app 'no-such-app'" in err and "hint: valid apps:" in err
    assert cli.main(["smoke", "--variant", "tiny"]) == 1
    err = capsys.readouterr().err
    assert "error: unknown variant 'tiny'" in err and "naive, slim, multistage, distroless, minimal" in err


# Real containers.


@pytest.fixture(scope="module")
def images(busybox_rootfs: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The stand-in images by target, tagged as every variant of the app scratch-<target>."""
    context = tmp_path_factory.mktemp("smoke-images")
    shutil.copy2(busybox_rootfs / "bin" / "busybox", context / "busybox")
    (context / "www").mkdir()
    (context / "www" / "index.html").write_text("hello smoke\n")
    (context / "www" / "healthz").write_text("ok\n")
    (context / "Dockerfile").write_text(DOCKERFILE)
    tags = {t: Variant(service_app(t), "naive", BASE_SET).tag for t in TARGETS}
    for target, tag in tags.items():
        engine.build_image(context, context / "Dockerfile", tag, target=target)
        for variant in apps.VARIANTS[1:]:
            engine.client().images.get(tag).tag(Variant(service_app(target), variant, BASE_SET).tag)
    yield tags
    for target, tag in tags.items():
        assert not engine.client().containers.list(all=True, filters={"ancestor": tag}), (
            f"{tag} left a container"
        )
        for variant in apps.VARIANTS:
            engine.remove_image(Variant(service_app(target), variant, BASE_SET).tag)


@pytest.fixture
def run_id() -> Iterator[str]:
    run = f"test-{smoke.new_run_id()}"
    yield run
    assert engine.labelled_containers(run) == []


@pytest.mark.docker
def test_a_good_service_passes_with_timing_memory_graceful_stop_and_a_hardened_run(images, run_id):
    result = smoke.check(Variant(service_app("web"), "distroless", BASE_SET), run_id)
    assert result.passed, smoke_result.summary(result)
    assert [p.status for p in result.probes] == [200, 200]
    assert 0 < result.seconds_to_first_answer < 10
    assert result.memory_bytes and 0 < result.memory_bytes < 64 * 2**20
    assert result.graceful_stop is True and result.stop.startswith("exit 0 after")
    assert result.hardened is not None and result.hardened.read_only and result.hardened.passed
    assert result.hardened.graceful_stop is None  # stopped once, in the plain run
    assert smoke_result.summary(result)[0].startswith("smoke: pass (first answer")


@pytest.mark.docker
def test_start_up_is_timed_over_several_starts_split_into_the_engines_part_and_the_apps(images, run_id):
    variant = Variant(service_app("web"), "slim", BASE_SET)
    result = smoke.check(variant, run_id, starts=3)
    assert result.passed, smoke_result.summary(result)
    assert len(result.starts) == 3, "the smoke run's start, then two more"
    for start in result.starts:
        assert 0 < start.container_s < 10 and 0 <= start.readiness_s < 10
        assert start.total_s == start.container_s + start.readiness_s
    assert result.seconds_to_first_answer == result.starts[0].total_s
    assert "median of 3 starts" in smoke_result.summary(result)[0]
    # every timing container is gone (run_id's teardown checks the label), and a failing service is not
    # started again: its one failure is the result
    silent = smoke.check(Variant(service_app("silent", start_timeout=1), "slim", BASE_SET), run_id, starts=3)
    assert not silent.passed and silent.starts == []


@pytest.mark.docker
def test_a_container_that_exits_at_once_gives_its_exit_code_and_log(images, run_id):
    result = smoke.check(Variant(service_app("exits"), "naive", BASE_SET), run_id)
    assert not result.passed and not result.started_ok
    assert result.error == "it never answered GET /: the container exited with code 3"
    assert result.exit_code == 3
    # stdout and stderr are two streams: the log keeps each one's order, not their interleaving
    assert sorted(result.log_tail) == ["fatal: no configuration", "starting up"]


@pytest.mark.docker
def test_a_container_that_never_listens_times_out_with_a_hint_and_its_log(images, run_id):
    began = time.monotonic()
    result = smoke.check(Variant(service_app("silent", start_timeout=2), "naive", BASE_SET), run_id)
    assert time.monotonic() - began < 10
    assert result.error.startswith("no good answer to GET / on 127.0.0.1:")
    assert "(container port 8080) within 2 s" in result.error
    assert result.hint == "it listens on no TCP port at all: is the app listening on 0.0.0.0:8080?"
    assert result.log_tail == ["waiting for nothing"]


@pytest.mark.docker
def test_a_container_listening_on_another_port_is_told_which(images, run_id):
    result = smoke.check(Variant(service_app("other-port", start_timeout=2), "naive", BASE_SET), run_id)
    assert result.error.startswith("no good answer")
    assert result.hint.startswith("it listens on [::]:9090, not on 8080")  # busybox binds IPv6 any


@pytest.mark.docker
def test_a_container_listening_on_its_loopback_only_is_told_so(images, run_id):
    result = smoke.check(Variant(service_app("loopback", start_timeout=2), "naive", BASE_SET), run_id)
    assert result.hint.startswith("it listens on 127.0.0.1:8080 only, inside the container")


def listening_soon(box: engine.Container) -> list[tuple[str, int]] | None:
    """What a just-started container listens on, once it listens (10 s at most)."""
    deadline = time.monotonic() + 10
    while (
        not (found := sockets.listening(box, engine.container_state(box)["Pid"]))
        and time.monotonic() < deadline
    ):
        time.sleep(0.2)
    return found


@pytest.mark.docker
def test_sockets_are_read_from_proc_only_for_the_containers_own_pid_else_from_inside_it(images, run_id):
    """Where the harness and the engine see different pid namespaces, the container's pid names another
    process (here: the test's own). /proc must not be trusted then: the container's `cat` answers."""
    with smoke.container(images["other-port"], run_id) as box:
        assert listening_soon(box) == [("::", 9090)]
        assert sockets.listening(box, os.getpid()) == [("::", 9090)]  # not the test's own sockets
        assert sockets.listening(box, 0) == [("::", 9090)]


@pytest.mark.docker
def test_without_proc_or_cat_the_hint_says_the_sockets_cannot_be_read(images, run_id):
    with smoke.container(images["other-port-bare"], run_id) as box:
        assert listening_soon(box) == [("::", 9090)]
        assert sockets.listening(box, os.getpid()) is None
    assert sockets.never_answered_hint(8080, None).endswith("(its sockets cannot be read from here)")


@pytest.mark.docker
def test_probes_with_the_wrong_status_or_body_fail_each_with_what_came_back(images, run_id):
    app = service_app("web", GOOD_PROBES[0], Probe("GET", "/missing", 200), Probe("GET", "/", 200, "goodbye"))
    result = smoke.check(Variant(app, "naive", BASE_SET), run_id)
    assert result.started_ok and not result.passed
    assert [p.passed for p in result.probes] == [True, False, False]
    assert result.probes[1].problem == "status 404, expected 200"
    assert result.probes[2].problem == "body lacks 'goodbye': 'hello smoke'"
    assert result.error == (
        "probe failed: GET /missing: status 404, expected 200; GET /: body lacks 'goodbye': 'hello smoke'"
    )
    assert any("response:404" in line for line in result.log_tail)  # httpd -v logs each request


@pytest.mark.docker
def test_a_service_deaf_to_sigterm_is_recorded_as_killed(images, run_id, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(smoke, "STOP_TIMEOUT_S", 1)
    result = smoke.check(Variant(service_app("deaf"), "naive", BASE_SET), run_id)
    assert result.passed and result.graceful_stop is False
    assert result.stop.startswith("exit 137 after") and "SIGKILL" in result.stop


@pytest.mark.docker
def test_the_hardened_run_is_read_only_and_tmpfs_from_app_toml_fixes_it(images, run_id):
    without = smoke.check(Variant(service_app("writes"), "minimal", BASE_SET), run_id)
    assert without.started_ok and without.hardened is not None and not without.passed
    assert without.hardened.exit_code == 1
    assert any("Read-only file system" in line for line in without.hardened.log_tail)
    with_tmpfs = smoke.check(Variant(service_app("writes", tmpfs=("/tmp",)), "minimal", BASE_SET), run_id)
    assert with_tmpfs.passed, smoke_result.summary(with_tmpfs)


@pytest.fixture
def fixture_page(tmp_path: Path) -> Path:
    page = tmp_path / "page.html"
    page.write_text('<a href="/one">one</a>\n')
    return page


@pytest.mark.docker
def test_a_job_fetches_its_fixture_on_the_host_network_and_matches_its_output(images, run_id, fixture_page):
    result = smoke.check(
        Variant(job_app(fixture_page, '<a href="/one">one</a>'), "minimal", BASE_SET), run_id
    )
    assert result.passed, smoke_result.summary(result)
    assert (result.job_exit_code, result.job_output) == (0, '<a href="/one">one</a>')
    assert result.hardened is not None and result.hardened.passed


@pytest.mark.docker
def test_a_job_with_the_wrong_output_or_exit_code_fails_with_both(images, run_id, fixture_page):
    result = smoke.check(
        Variant(job_app(fixture_page, '{"links": 1}', exit_code=2), "naive", BASE_SET), run_id
    )
    assert not result.passed and result.started_ok
    assert result.error == (
        "job: exit code 0, expected 2; printed '<a href=\"/one\">one</a>', expected '{\"links\": 1}'"
    )
    fixture_page.unlink()  # now the fetch fails: wget's complaint is the log
    result = smoke.check(Variant(job_app(fixture_page, "", exit_code=0), "naive", BASE_SET), run_id)
    assert result.exit_code == 1 and any("404" in line for line in result.log_tail)


@pytest.mark.docker
def test_the_cli_names_a_missing_image_with_the_build_command_and_checks_the_others(
    images, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    cells = [
        Variant(service_app("absent"), "slim", BASE_SET),
        Variant(service_app("deaf"), "naive", BASE_SET),
    ]
    monkeypatch.setattr(flags, "selected", lambda args: cells)
    monkeypatch.setattr(smoke, "STOP_TIMEOUT_S", 1)
    assert cli.main(["smoke"]) == 1
    err = capsys.readouterr().err
    assert (
        "missing image imagelab/scratch-absent:slim-debian: build it with "
        "`nox -s build -- --app scratch-absent --variant slim --bases debian`"
    ) in err
    assert "smoke: pass" in err and "structure: pass" in err and "1 of 2 images passed" in err


SCRIPT = """
import signal
import sys
from imagelab import bases, cli
from imagelab.commands import flags
signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal, however the suite was started
from imagelab.apps import App, Probe, Service, Variant
from imagelab import ROOT
app = App(name="scratch-silent", folder=ROOT, description="", language="go", kind="service",
          source_file=ROOT / "noxfile.py", comment="#", service=Service(8080, (Probe("GET", "/", 200),), 60))
flags.selected = lambda args: [Variant(app, "distroless", bases.open_set("debian"))]
sys.exit(cli.main(["smoke"]))
"""


@pytest.mark.docker
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_an_interrupt_during_the_wait_removes_the_container(images, sig: signal.Signals):
    """The real thing: a CLI process that waits on a silent container gets Ctrl-C (or `kill`)."""
    process = subprocess.Popen(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    running = {"ancestor": images["silent"], "label": engine.RUN_LABEL, "status": "running"}
    try:
        deadline = time.monotonic() + 30
        while not engine.client().containers.list(filters=running):
            assert time.monotonic() < deadline and process.poll() is None, "the container never started"
            time.sleep(0.1)
        time.sleep(0.5)  # well into the wait loop
        process.send_signal(sig)
        _, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 130
    assert "interrupted: containers this run started were removed" in err
    assert not engine.client().containers.list(all=True, filters={"ancestor": images["silent"]})


# The debian base set: every image the matrix has, built through the harness.


MATRIX = apps.select(apps.discover(), (), (), BASE_SET)


@pytest.mark.docker
@pytest.mark.parametrize("variant", MATRIX, ids=lambda v: v.target)
def test_every_debian_image_passes_its_smoke_test(debian_images, variant: Variant, run_id):
    built = debian_images[variant.tag]
    assert built.result.ok, built.result.describe_failure()
    result = smoke.check(variant, run_id)
    assert result.passed, "\n".join(smoke_result.summary(result))
    assert (result.hardened is not None) == variant.hardened
