"""The fault suite: the real engine driven into the failures users meet, through the CLI as they run it.

After each: one clear line, a non-zero exit code, nothing left behind (containers, networks, temporary
files, half-tagged images) and the previous results intact. Every wait is bounded: each CLI run by
its own timeout (fault_kit.CLI_TIMEOUT_S), each wait for a line or a state by wait_for_line/wait_until.
"""

from __future__ import annotations

import contextlib
import fcntl
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from imagelab import bases, engine
from imagelab.bases import local
from imagelab.bases.local import WORK_DIR
from tests.fault_kit import (
    BASES,
    EngineProxy,
    Outcome,
    Project,
    Results,
    job_toml,
    service_toml,
    settled,
    wait_for_line,
    wait_until,
)

pytestmark = pytest.mark.docker

HTTPD = 'COPY index.html /www/index.html\nEXPOSE 8000\nENTRYPOINT ["/bin/busybox", "httpd", "-f", "-h", "/www", "-p", "8000"]\n'


@pytest.fixture
def project(busybox_rootfs: Path, tmp_path: Path) -> Iterator[Project]:
    made = Project(tmp_path / "project", busybox_rootfs / "bin" / "busybox")
    made.tmp.mkdir(parents=True)
    yield made
    for container in made.containers():
        engine.remove_container(container["Id"])  # only after a failed test: it fails on them first
    made.remove_images()


@pytest.fixture
def results(tmp_path: Path) -> Results:
    return Results(tmp_path / "results")


def compare(project: Project, app: str, results: Results, *extra: str, **env: str):
    return project.run(
        "compare", "--app", app, "--bases", BASES, "--results", str(results.folder), *extra, **env
    )


# Bad input, refused before anything is built.


def test_a_corrupted_baseline_is_refused_before_building(project, results, tmp_path):
    app = project.add("baseline", service_toml(), HTTPD)
    for name, text in (
        ("truncated", '{"schema": 1, "images": [{"app": "x", '),
        ("garbage", "\x00\x01 not json"),
    ):
        baseline = tmp_path / f"{name}.json"
        baseline.write_text(text)
        outcome = compare(project, app, results, "--baseline", str(baseline))
        assert outcome.exit_code == 1, outcome
        assert len(outcome.errors) == 1 and str(baseline) in outcome.errors[0], outcome
        assert "Traceback" not in outcome.stderr
        assert "building" not in outcome.stderr  # refused first
        settled(outcome, project, results)


def test_a_baseline_of_another_schema_is_refused_naming_both(project, results, tmp_path):
    app = project.add("schema", service_toml(), HTTPD)
    baseline = tmp_path / "baseline.json"
    baseline.write_text('{"schema": 99, "images": []}\n')
    outcome = compare(project, app, results, "--baseline", str(baseline))
    assert outcome.exit_code == 1, outcome
    assert len(outcome.errors) == 1 and "schema" in outcome.errors[0] and "99" in outcome.errors[0], outcome
    settled(outcome, project, results)


def test_an_app_toml_naming_a_missing_fixture_is_one_line(project, results):
    app = project.add("fixture", job_toml(fixture="missing.html"), 'ENTRYPOINT ["/bin/busybox", "true"]\n')
    outcome = compare(project, app, results)
    assert outcome.exit_code == 1, outcome
    assert outcome.errors == [
        f"error: {project.root}/apps/{app}/app.toml: field 'job.fixture' names missing.html, which does not exist"
    ], outcome
    settled(outcome, project, results)


# The engine: its plugin missing, or gone in the middle of a run.


def test_a_docker_cli_without_buildx_is_one_line_and_installs_nothing(project, results, tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    real = subprocess.run(
        ["sh", "-c", "command -v docker"], capture_output=True, text=True, check=True
    ).stdout
    # What the docker CLI says when it finds no buildx plugin; everything else goes to the real one.
    (bin_dir / "docker").write_text(
        '#!/bin/sh\nif [ "$1" = buildx ]; then\n'
        "  echo \"docker: 'buildx' is not a docker command.\" >&2; exit 1\nfi\n"
        f'exec {real.strip()} "$@"\n'
    )
    (bin_dir / "docker").chmod(0o755)
    app = project.add("buildx", service_toml(), HTTPD)
    began = time.monotonic()
    outcome = compare(project, app, results, PATH=f"{bin_dir}:/usr/bin:/bin")
    assert time.monotonic() - began < 30  # no download of the plugin was tried
    assert outcome.exit_code == 1, outcome
    assert outcome.errors == ["error: the docker CLI has no buildx plugin (`docker buildx version` fails)"], (
        outcome
    )
    settled(outcome, project, results)


def test_an_engine_that_stops_answering_during_the_build(project, results, tmp_path):
    app = project.add("gone", service_toml(), 'RUN ["/bin/busybox", "sleep", "47"]\n' + HTTPD)
    proxy = EngineProxy(tmp_path / "engine.sock")
    running = project.start(
        "compare", "--app", app, "--bases", BASES, "--results", str(results.folder), DOCKER_HOST=proxy.host
    )
    seen = wait_for_line(running, "building 1 images", timeout=60)
    time.sleep(3)  # into the RUN step
    proxy.cut()
    _, rest = running.communicate(timeout=120)
    stderr = "".join(seen) + rest
    outcome = Outcome(running.returncode, "", stderr)
    errors = outcome.errors
    assert running.returncode == 1, stderr
    assert errors and errors[0].startswith("error: the Docker engine stopped answering"), stderr
    assert "Traceback" not in stderr
    wait_until(lambda: not _sleeping(47), 30, "BuildKit's RUN step to end")
    settled(outcome, project, results)


def test_an_engine_that_stops_answering_during_smoke_leaves_what_clean_removes(project, tmp_path):
    app = project.add("lost", service_toml(start_timeout=60), 'ENTRYPOINT ["/bin/busybox", "sleep", "999"]\n')
    image = built(project, app)
    proxy = EngineProxy(tmp_path / "engine.sock")
    running = project.start("smoke", "--app", app, "--bases", BASES, DOCKER_HOST=proxy.host)
    wait_until(project.containers, 30, "the container to start")
    proxy.cut()
    _, stderr = running.communicate(timeout=60)
    assert running.returncode == 1, stderr
    assert stderr.splitlines()[0].startswith(f"==> imagelab/{app}"), stderr
    errors = Outcome(1, "", stderr).errors
    assert errors and errors[0].startswith(
        f"error: the Docker engine stopped answering (unix://{proxy.path})"
    )
    assert "hint: is dockerd still running (`docker info`)? once it answers, `nox -s clean`" in stderr
    assert "Traceback" not in stderr
    # The engine the harness lost still holds the container: `clean` of that run removes it.
    (left,) = project.containers()
    outcome = project.run("clean", "--run", left["Labels"][engine.RUN_LABEL])
    assert outcome.exit_code == 0 and "removed 1 containers" in outcome.stderr, outcome
    settled(Outcome(running.returncode, "", stderr), project, built=image)


def _sleeping(seconds: int) -> bool:
    """Whether a `sleep <seconds>` runs on this host (in a build container, for one)."""
    found = subprocess.run(["pgrep", "-f", f"sleep {seconds}$"], capture_output=True, check=False)
    return found.returncode == 0


# Results that cannot be written.


@pytest.mark.parametrize("state", ["read-only", "full"])
def test_a_results_folder_that_cannot_be_written_is_one_line_and_keeps_its_files(project, tmp_path, state):
    # Root writes through permissions: a read-only or full file system is what stops it.
    mount = tmp_path / "mount"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], check=False).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        results = Results(mount / "results")
        if state == "read-only":
            subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        else:  # beside the results, so that their folder holds only what it held
            with contextlib.suppress(OSError), (mount / "filler").open("wb") as filler:
                while True:
                    filler.write(b"\0" * 4096)
                    filler.flush()
        app = project.add("unwritable", service_toml(), HTTPD)
        outcome = compare(project, app, results)
        assert outcome.exit_code == 1, outcome
        assert len(outcome.errors) == 1 and str(results.folder) in outcome.errors[0], outcome
        assert "Traceback" not in outcome.stderr
        settled(outcome, project, results, built=(f"imagelab/{app}:naive-{BASES}",))
    finally:
        subprocess.run(["umount", str(mount)], check=False)


# Containers that misbehave. `smoke` builds nothing: each image is built first, and stays built.


def built(project: Project, app: str) -> tuple[str, ...]:
    outcome = project.run("build", "--app", app, "--bases", BASES)
    assert outcome.exit_code == 0, outcome
    return (f"imagelab/{app}:naive-{BASES}",)


def smoke(project: Project, app: str, **env: str):
    return project.run("smoke", "--app", app, "--bases", BASES, **env)


def test_a_container_that_prints_without_end_gets_a_bounded_log_tail(project):
    endless = 'ENTRYPOINT ["/bin/busybox", "sh", "-c", "yes spam & tr \\"\\\\000\\" x < /dev/zero"]\n'
    app = project.add("noisy", service_toml(start_timeout=3), endless)
    image = built(project, app)
    began = time.monotonic()
    outcome = smoke(project, app)
    assert time.monotonic() - began < 60
    assert outcome.exit_code == 1, outcome
    assert "error: no good answer to GET /" in outcome.stdout + outcome.stderr, outcome
    log = [line for line in outcome.stderr.splitlines() if line.lstrip().startswith("|")]
    assert 0 < len(log) <= 20 and all(len(line) < 400 for line in log), outcome
    assert len(outcome.stderr) < 20_000
    settled(outcome, project, built=image)


def test_a_service_that_ignores_sigterm_is_killed_after_the_grace_period_and_recorded(project):
    # busybox httpd as PID 1 sets no SIGTERM handler, and PID 1 ignores signals it does not handle.
    app = project.add("deaf", service_toml(), HTTPD)
    image = built(project, app)
    outcome = smoke(project, app)
    assert outcome.exit_code == 0, outcome  # recorded, not a failure
    assert "NOT graceful: exit 137 after 1" in outcome.stderr, outcome
    assert "(SIGKILL: SIGTERM did not end it within 10 s)" in outcome.stderr
    settled(outcome, project, built=image)


def test_a_job_that_never_exits_is_stopped_at_its_time_limit(project):
    app = project.add(
        "endless", job_toml(timeout=3), 'ENTRYPOINT ["/bin/busybox", "sleep", "999"]\n', {"page.html": "<a/>"}
    )
    image = built(project, app)
    began = time.monotonic()
    outcome = smoke(project, app)
    assert time.monotonic() - began < 60
    assert outcome.exit_code == 1, outcome
    assert "error: the job still runs after 3 s" in outcome.stderr, outcome
    settled(outcome, project, built=image)


def test_a_probe_body_larger_than_the_harness_reads_says_so(project):
    probe = '{ method = "GET", path = "/big.html", status = 200, body = "END-MARK" }'
    big = b"x" * (3 << 20) + b"END-MARK\n"
    dockerfile = "COPY big.html /www/big.html\n" + HTTPD
    app = project.add("big", service_toml(probe=probe), dockerfile, {"big.html": big})
    image = built(project, app)
    outcome = smoke(project, app)
    assert outcome.exit_code == 1, outcome
    assert "body lacks 'END-MARK' (in its first 1 MiB, all the harness reads)" in outcome.stderr, outcome
    assert len(outcome.stderr) < 5_000
    settled(outcome, project, built=image)


def test_an_image_whose_entrypoint_is_missing_is_told_so(project):
    app = project.add("noentry", service_toml(), 'ENTRYPOINT ["/app/server"]\n')
    image = built(project, app)
    outcome = smoke(project, app)
    assert outcome.exit_code == 1, outcome
    assert "error: the engine could not start" in outcome.stderr, outcome
    assert "hint: the ENTRYPOINT/CMD program is not in the image: check its path" in outcome.stderr, outcome
    settled(outcome, project, built=image)


@pytest.mark.parametrize(
    ("listen", "hint"),
    [
        (
            "9000",
            "hint: it listens on [::]:9000, not on 8000: fix the app's port or [service] port in app.toml",
        ),
        (
            "127.0.0.1:8000",
            "hint: it listens on 127.0.0.1:8000 only, inside the container: bind 0.0.0.0:8000",
        ),
    ],
    ids=["another-port", "loopback-only"],
)
def test_a_service_on_another_port_or_on_loopback_is_told_where_it_listens(project, listen, hint):
    dockerfile = HTTPD.replace('"-p", "8000"', f'"-p", "{listen}"')
    app = project.add("port", service_toml(start_timeout=3), dockerfile)
    image = built(project, app)
    outcome = smoke(project, app)
    assert outcome.exit_code == 1, outcome
    assert hint in outcome.stderr, outcome
    settled(outcome, project, built=image)


def test_a_dockerfile_naming_a_base_role_no_set_defines_is_one_line(project, results):
    app = project.add("role", service_toml(), "")
    (project.root / "dockerfiles" / app / "naive.Dockerfile").write_text(
        "ARG RUBY_IMAGE\nFROM ${RUBY_IMAGE}\nCOPY index.html /www/\n"
    )
    outcome = compare(project, app, results)
    assert outcome.exit_code == 1, outcome
    dockerfile = project.root / "dockerfiles" / app / "naive.Dockerfile"
    assert outcome.errors == [
        f"error: {dockerfile}: FROM ${{RUBY_IMAGE}} asks for a base role that no base set defines"
    ], outcome
    assert "hint: roles: BASE_IMAGE, " in outcome.stderr
    settled(outcome, project, results)


# Ctrl-C (SIGINT to the harness: its programs run in sessions of their own) and SIGTERM.


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_an_interrupted_bake_stops_building_and_tags_nothing(project, results, sig):
    # A step of its own (ENV with a fresh value), never cached: a run that was not interrupted (a suite
    # started with SIGINT ignored) would otherwise leave the sleep cached for the next one.
    step = f'ENV FAULT={uuid.uuid4().hex}\nRUN ["/bin/busybox", "sleep", "{51 + sig}"]\n'
    app = project.add("bake", service_toml(), step + HTTPD)
    running = project.start("compare", "--app", app, "--bases", BASES, "--results", str(results.folder))
    seen = wait_for_line(running, "building 1 images", timeout=60)
    wait_until(lambda: _sleeping(51 + sig), 30, "the RUN step to start")
    running.send_signal(sig)
    _, rest = running.communicate(timeout=60)
    stderr = "".join(seen) + rest
    outcome = Outcome(running.returncode, "", stderr)
    assert running.returncode == 130, stderr
    assert stderr.splitlines()[-1] == "interrupted: containers this run started were removed", stderr
    wait_until(lambda: not _sleeping(51 + sig), 30, "BuildKit's RUN step to end")
    settled(outcome, project, results)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_an_interrupted_smoke_removes_its_container(project, sig):
    app = project.add("wait", service_toml(start_timeout=60), 'ENTRYPOINT ["/bin/busybox", "sleep", "999"]\n')
    image = built(project, app)
    running = project.start("smoke", "--app", app, "--bases", BASES)
    label = {"label": f"org.imagelab.app={app}", "status": "running"}
    wait_until(lambda: engine.client().containers.list(filters=label), 30, "the container to start")
    running.send_signal(sig)
    _, stderr = running.communicate(timeout=60)
    outcome = Outcome(running.returncode, "", stderr)
    assert running.returncode == 130, stderr
    assert stderr.splitlines()[-1] == "interrupted: containers this run started were removed", stderr
    settled(outcome, project, built=image)


def _running(program: str, argument: str) -> bool:
    found = subprocess.run(["pgrep", "-f", f"{program}.*{argument}"], capture_output=True, check=False)
    return found.returncode == 0


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_an_interrupted_base_set_build_tags_nothing_and_frees_the_lock(project, sig):
    """Interrupted in its first step (mmdebstrap, seconds before any image is built): the shared
    imagelab-bases/static tag must stay on the image it had."""
    if shutil.which("mmdebstrap") is None:
        pytest.skip("needs mmdebstrap")
    tag = local.image_ref(bases.load().roles["static"])
    before = engine.image_id(tag)
    running = project.start("bases", "--role", "static", "--rebuild")
    wait_until(lambda: _running("mmdebstrap", str(project.tmp)), 120, "mmdebstrap to start")
    running.send_signal(sig)
    _, stderr = running.communicate(timeout=60)
    outcome = Outcome(running.returncode, "", stderr)
    assert running.returncode == 130, stderr
    assert stderr.splitlines()[-1] == "interrupted: containers this run started were removed", stderr
    assert engine.image_id(tag) == before
    assert not engine.image_id("imagelab-scratch/bases-static:build")
    assert not _running("mmdebstrap", str(project.tmp))
    assert not list(WORK_DIR.glob("context-*"))
    with local.LOCK_FILE.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises when the lock is still held
    settled(outcome, project)
