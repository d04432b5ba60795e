"""What the fault tests share: tiny busybox apps in a folder of their own, the CLI run as a user runs
it, a results folder whose files must survive, and the check that nothing is left behind."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from docker import errors as docker_errors

from imagelab import ROOT, engine
from imagelab.apps import APPS_ENV

#: Tiny images: busybox alone, FROM scratch, built in seconds. The base set is "official" so that
#: nothing needs the local base set (no Dockerfile here names a base image).
HEAD = 'FROM scratch\nCOPY busybox /bin/busybox\nSHELL ["/bin/busybox", "sh", "-c"]\n'
BASES = "official"
CLI_TIMEOUT_S = 180


def service_toml(port: int = 8000, start_timeout: float = 5, probe: str = "") -> str:
    probe = probe or '{ method = "GET", path = "/", status = 200 }'
    return f"""description = "a fault"
language = "go"
kind = "service"
source_file = "index.html"
comment = "<!-- -->"
[service]
port = {port}
start_timeout = {start_timeout}
probes = [{probe}]
"""


def job_toml(fixture: str = "page.html", timeout: float = 60) -> str:
    return f"""description = "a fault"
language = "go"
kind = "job"
source_file = "index.html"
comment = "<!-- -->"
[job]
fixture = "{fixture}"
url_env = "url"
output = "done"
timeout = {timeout}
"""


@dataclass
class Outcome:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def errors(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.startswith("error:")]

    def __str__(self) -> str:  # what a failed assertion shows
        return f"exit {self.exit_code}\n--- stderr\n{self.stderr}\n--- stdout\n{self.stdout[-2000:]}"


@dataclass
class Project:
    """A folder with apps/ and dockerfiles/, as the repository has, for IMAGELAB_APPS."""

    root: Path
    busybox: Path
    apps: list[str] = field(default_factory=list)
    #: Labelled networks that were there before the test (a teammate's run on the shared engine).
    networks_before: set[str] = field(
        default_factory=lambda: {
            n["Id"] for n in engine.client().api.networks(filters={"label": engine.RUN_LABEL})
        }
    )

    def add(self, kind: str, toml: str, dockerfile: str, files: dict[str, str | bytes] | None = None) -> str:
        """A new app (its name made unique), with busybox and `files` in its folder; its name."""
        name = f"fault-{kind}-{uuid.uuid4().hex[:6]}"
        folder = self.root / "apps" / name
        folder.mkdir(parents=True)
        shutil.copy2(self.busybox, folder / "busybox")
        (folder / "index.html").write_text("<p>hello</p>\n")
        for relative, content in (files or {}).items():
            path = folder / relative
            path.write_bytes(content if isinstance(content, bytes) else content.encode())
        (folder / "app.toml").write_text(toml)
        dockerfiles = self.root / "dockerfiles" / name
        dockerfiles.mkdir(parents=True)
        (dockerfiles / "naive.Dockerfile").write_text(HEAD + dockerfile)
        self.apps.append(name)
        return name

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    def env(self, **extra: str) -> dict[str, str]:
        # TMPDIR of its own: a temporary file the harness leaves is found there.
        return {**os.environ, APPS_ENV: str(self.root / "apps"), "TMPDIR": str(self.tmp), **extra}

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "imagelab", *args]

    def run(self, *args: str, timeout: float = CLI_TIMEOUT_S, **env: str) -> Outcome:
        done = subprocess.run(
            self.command(*args),
            cwd=ROOT,
            env=self.env(**env),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return Outcome(done.returncode, done.stdout, done.stderr)

    def start(self, *args: str, **env: str) -> subprocess.Popen:
        return subprocess.Popen(
            self.command(*args),
            cwd=ROOT,
            env=self.env(**env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def containers(self) -> list[dict]:
        """Containers of our apps, running or not (an image's labels pass to its containers)."""
        found = engine.client().api.containers(all=True)
        return [c for c in found if (c.get("Labels") or {}).get("org.imagelab.app") in self.apps]

    def _images(self) -> list[dict]:
        """The engine's image list as it is (the SDK's list() inspects each image, and fails on one
        another test removes meanwhile)."""
        return engine.client().api.images(all=True)

    def tags(self) -> list[str]:
        """Every tag of our apps' images, and of any image the harness made from them (a tool's). An
        untagged image is no half-tagged one: a rebuild replaces its tag's image, as docker build does."""
        ours = {f"imagelab/{a}" for a in self.apps}
        return [
            tag
            for image in self._images()
            for tag in image.get("RepoTags") or []
            if tag != "<none>:<none>"  # how API 1.41 lists an untagged image
            and (
                tag.split(":")[0] in ours or (image.get("Labels") or {}).get("org.imagelab.app") in self.apps
            )
        ]

    def remove_images(self) -> None:
        for image in self._images():
            if (image.get("Labels") or {}).get("org.imagelab.app") in self.apps:
                # Removing one may have removed another already (a parent with its only child).
                with contextlib.suppress(docker_errors.NotFound):
                    engine.client().api.remove_image(image["Id"], force=True)


def settled(outcome: Outcome, project: Project, results: Results | None = None, built: tuple = ()) -> None:
    """Nothing left behind, the results intact; and one row of the table of faults tried (`pytest -s`
    prints it): the case, the line a user reads first, the exit code, what was left, results intact."""
    left = left_behind(project, built)
    intact = results.intact() if results else None
    lines = [line.strip() for line in outcome.stderr.splitlines()]
    first = next((line for line in lines if line.startswith(("error:", "interrupted"))), "")
    first = first or next((line for line in lines if "FAIL" in line or "NOT graceful" in line), "")
    case = os.environ.get("PYTEST_CURRENT_TEST", "").split("::")[-1].split(" ")[0]
    print(f"FAULT | {case} | {first} | {outcome.exit_code} | {len(left)} | {intact}")
    assert not left, left
    assert intact in (True, None), "the results folder changed"


def left_behind(project: Project, built: tuple[str, ...] = ()) -> list[str]:
    """What the harness left that it should not have: containers of our apps (the labels of an image
    pass to its containers), the run's networks, temporary files, and image tags beyond `built`."""
    left = [f"container {c['Names'][0]}" for c in project.containers()]
    networks = engine.client().api.networks(filters={"label": engine.RUN_LABEL})
    left += [f"network {n['Name']}" for n in networks if n["Id"] not in project.networks_before]
    left += [f"temporary file {p.name}" for p in project.tmp.iterdir()]
    left += [f"image {t}" for t in project.tags() if t not in built]
    return left


def wait_for_line(process: subprocess.Popen, text: str, timeout: float) -> list[str]:
    """Read stderr until a line holding `text` comes (bounded); the lines read so far."""
    seen: list[str] = []
    done = threading.Event()

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            seen.append(line)
            if text in line:
                done.set()
                return

    threading.Thread(target=read, daemon=True).start()
    if not done.wait(timeout):
        process.kill()
        raise AssertionError(f"no line with {text!r} within {timeout} s; stderr so far: {''.join(seen)}")
    return seen


def wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout} s")
        time.sleep(0.2)


class Results:
    """A --results folder holding a previous run's files: they must come out of a failure unchanged."""

    FILES: ClassVar[dict[str, str]] = {
        "compare.md": "# the previous report\n",
        "compare.json": '{"schema": 1, "previous": true}\n',
        "sizes.svg": "<svg/>\n",
    }

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in self.FILES.items():
            (folder / name).write_text(text)

    def intact(self) -> bool:
        found = {p.name: p.read_text() for p in self.folder.iterdir()}
        return found == self.FILES


class EngineProxy:
    """A socket of our own that forwards to the real engine's, and can be cut: the engine "stops
    answering" for the harness alone, while the real dockerd runs on for everyone else."""

    def __init__(self, path: Path, target: str = "/var/run/docker.sock") -> None:
        self.path, self.target = path, target
        self.listener = socket.socket(socket.AF_UNIX)
        self.listener.bind(str(path))
        self.listener.listen(64)
        self.open: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def host(self) -> str:
        return f"unix://{self.path}"

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # cut
            upstream = socket.socket(socket.AF_UNIX)
            upstream.connect(self.target)
            with self.lock:
                self.open += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
            sink.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def cut(self) -> None:
        self.listener.close()
        self.path.unlink(missing_ok=True)
        with self.lock:
            for sock in self.open:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
