"""The container registry the local base sets live in: started by the project, reached by digest.

Debian packages the CNCF distribution registry (`docker-registry`) and `skopeo`. `ensure_registry`
starts one on 127.0.0.1:5000 with a generated config and storage under .imagelab/registry/ (installing
both where we are root on Debian, like the engine), or reuses whatever registry already answers there:
another checkout on this machine may have started it. `IMAGELAB_REGISTRY=host:port` points at another
registry instead, which is then only checked, never started or stopped.

The engine treats 127.0.0.0/8 as an insecure registry, so pushes and BuildKit's `FROM
127.0.0.1:5000/...@sha256:...` speak plain HTTP to it with no daemon setting.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import docker.errors

from imagelab import ROOT, apt, process
from imagelab.engine.client import client
from imagelab.errors import ConfigError, ImagelabError, tail

ADDRESS_ENV = "IMAGELAB_REGISTRY"
DEFAULT_ADDRESS = "127.0.0.1:5000"
STATE_DIR = ROOT / ".imagelab" / "registry"
START_TIMEOUT_S = 20  # it answers within a second here; apt and a cold disk get the rest
STOP_TIMEOUT_S = 10
PROBE_TIMEOUT_S = 3
SKOPEO_TIMEOUT_S = 30
#: Every registry of the distribution API answers /v2/ with this header, whether 200 or 401.
API_HEADER = "Docker-Distribution-Api-Version"
PROGRAMS = {"docker-registry": "docker-registry", "skopeo": "skopeo"}  # program -> Debian package

CONFIG = """\
# Written by imagelab (imagelab/engine/registry.py) for the local base sets; rewritten at every start.
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: {storage}
  delete:
    enabled: true
http:
  addr: {address}
"""


class RegistryError(ImagelabError):
    """No registry answers where one should, or one cannot be started here."""


@dataclass(frozen=True)
class Registry:
    """A registry the harness pushes to and resolves from: where it is and whether we started it."""

    address: str
    started_here: bool = False

    @property
    def url(self) -> str:
        return f"{'http' if is_insecure(self.address) else 'https'}://{self.address}/v2/"


@dataclass(frozen=True)
class State:
    """The files of a registry this checkout starts (git ignores .imagelab/)."""

    folder: Path = STATE_DIR

    @property
    def config(self) -> Path:
        return self.folder / "config.yml"

    @property
    def storage(self) -> Path:
        return self.folder / "storage"

    @property
    def pid_file(self) -> Path:
        return self.folder / "registry.pid"

    @property
    def log(self) -> Path:
        return self.folder / "registry.log"


def address() -> str:
    """host:port of the registry the local base sets live in."""
    return os.environ.get(ADDRESS_ENV) or DEFAULT_ADDRESS


def is_insecure(where: str) -> bool:
    """Loopback registries speak plain HTTP (the engine allows it for 127.0.0.0/8 without settings)."""
    host = where.rsplit(":", 1)[0] if where.count(":") == 1 or "]" in where else where
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def answers(where: str, timeout_s: float = PROBE_TIMEOUT_S) -> bool:
    """True when a registry (anything speaking the distribution API) answers /v2/ at `where`."""
    request = urllib.request.Request(Registry(where).url, method="GET")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            headers = response.headers
    except urllib.error.HTTPError as exc:  # 401: a registry that wants credentials is still one
        headers = exc.headers
    except (urllib.error.URLError, OSError, ValueError):
        return False
    return API_HEADER in headers


def ensure_registry(
    where: str | None = None, state: State | None = None, log: Callable[[str], None] = print
) -> Registry:
    """A registry that answers at `where` (default: address()): reused if one does, else started."""
    where = where or address()
    if answers(where):
        return Registry(where)
    if os.environ.get(ADDRESS_ENV) and where == os.environ[ADDRESS_ENV]:
        raise RegistryError(
            f"no registry answers at {ADDRESS_ENV}={where}",
            hint=f"start that registry, or unset {ADDRESS_ENV} to let imagelab start one on {DEFAULT_ADDRESS}",
        )
    if not is_insecure(where):
        raise RegistryError(
            f"no registry answers at {where}, and imagelab starts registries on loopback only"
        )
    if _port_taken(where):
        raise RegistryError(
            f"{where} is taken by something that is not a container registry",
            hint=f"free the port, or set {ADDRESS_ENV}=127.0.0.1:<another port>",
        )
    state = state or State()
    try:
        apt.install_missing(PROGRAMS, log, "the registry of the local base sets")
    except ConfigError as exc:
        raise RegistryError(
            exc.cause, hint=f"{exc.hint}; or set {ADDRESS_ENV}=host:port to a registry that runs"
        ) from exc
    _start(where, state, log)
    return Registry(where, started_here=True)


def stop_registry(where: str | None = None, state: State | None = None) -> str:
    """Stop the registry this checkout started; one line saying what happened."""
    where = where or address()
    state = state or State()
    pid = _our_pid(state)
    if pid is None:
        if answers(where):
            return f"the registry at {where} was not started by this checkout: left running"
        return f"no registry runs at {where}"
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)
    state.pid_file.unlink(missing_ok=True)
    return f"stopped the registry at {where} (pid {pid}); its images stay in {state.storage}"


def push(local: str, remote: str) -> str:
    """Tag the local image `local` as `remote` (host:port/repo:tag), push it and return its digest."""
    repository, _, tag = remote.rpartition(":")
    images = client().images
    images.get(local).tag(repository, tag)
    digest, errors = "", []
    for event in images.push(repository, tag, stream=True, decode=True):
        digest = pushed_digest_in(event) or digest
        if event.get("error"):
            errors.append(event["error"])
    if errors or not digest:
        raise RegistryError(
            f"pushing {remote} failed: {errors[-1] if errors else 'the registry sent no digest'}",
            hint=f"does the registry at {repository.split('/')[0]} answer? `nox -s registry` starts it",
        )
    return digest


#: "latest: digest: sha256:... size: 1234", the status line of a push's last event.
DIGEST_IN_STATUS = re.compile(r"\bdigest: (sha256:[0-9a-f]{64})\b")


def pushed_digest_in(event: dict) -> str:
    """The digest one event of a push stream names, "" if none: the classic image store sends it in
    `aux`, the containerd image store only in the status line."""
    digest = (event.get("aux") or {}).get("Digest")
    if digest:
        return digest
    found = DIGEST_IN_STATUS.search(event.get("status") or "")
    return found[1] if found else ""


def pushed_digest(local: str, repository: str) -> str:
    """The digest under which the local image was last pushed to `repository` ("" if never)."""
    try:
        digests = client().images.get(local).attrs.get("RepoDigests") or []
    except docker.errors.ImageNotFound:
        return ""
    return next((d.split("@", 1)[1] for d in digests if d.split("@", 1)[0] == repository), "")


def remote_digest(ref: str, timeout_s: float = SKOPEO_TIMEOUT_S) -> str:
    """The manifest digest `ref` resolves to in its registry, read without pulling (skopeo inspect).

    For a multi-platform image that is the index's digest, the one `docker pull` prints."""
    return _inspect(ref, "{{.Digest}}", timeout_s)


def remote_labels(ref: str, timeout_s: float = SKOPEO_TIMEOUT_S) -> dict[str, str]:
    """The labels of the image `ref` names in its registry, read without pulling ({} when none)."""
    # The whole answer, not a `{{json .Labels}}` template: Debian 12's skopeo (1.9) has no `json` function
    # in its templates, and every call failed, read as "no labels".
    return json.loads(_inspect(ref, "", timeout_s) or "{}").get("Labels") or {}


def pull(ref: str) -> None:
    """Pull `ref` (host:port/repository:tag) into the engine."""
    repository, _, tag = ref.rpartition(":")
    client().images.pull(repository, tag)


def _inspect(ref: str, template: str, timeout_s: float) -> str:
    skopeo = shutil.which("skopeo")
    if skopeo is None:
        raise RegistryError(
            "skopeo is not installed: it reads digests without pulling",
            hint="`nox -s registry` installs it on Debian; elsewhere install skopeo",
        )
    where = ref.split("/", 1)[0] if "/" in ref else ""
    command = [skopeo, "inspect", "--no-tags", *(["--format", template] if template else [])]
    if where and is_insecure(where):
        command.append("--tls-verify=false")
    try:
        done = process.run(
            [*command, f"docker://{ref}"], timeout=timeout_s, what="skopeo inspect", check=False
        )
    except process.ProcessError as exc:
        raise RegistryError(f"its registry gave no answer within {timeout_s:.0f} s") from exc
    if not done.ok:
        reason = (tail(done.stderr, 1) or ["skopeo failed"])[0]
        # skopeo logs as 'time="..." level=fatal msg="..."': the message is what a person reads
        message = reason.split('msg="', 1)[-1].rstrip('"')
        raise RegistryError(f"cannot resolve it: {message}")
    return done.stdout.strip()


def _start(where: str, state: State, log: Callable[[str], None]) -> None:
    state.storage.mkdir(parents=True, exist_ok=True)
    state.config.write_text(CONFIG.format(storage=state.storage.resolve(), address=where))
    log(f"starting a registry on {where} (storage and log in {state.folder})")
    command = [shutil.which("docker-registry") or "docker-registry", "serve", str(state.config)]
    # The registry outlives the command that started it, and a Ctrl-C meant for that command.
    pid = process.detach(command, log=state.log, what="docker-registry")
    state.pid_file.write_text(f"{pid}\n")
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline and _alive(pid):
        if answers(where, timeout_s=1):
            return
        time.sleep(0.2)
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)
    state.pid_file.unlink(missing_ok=True)
    raise RegistryError(
        f"the registry on {where} did not answer /v2/ within {START_TIMEOUT_S} s",
        hint=f"see {state.log}",
        log=tail(state.log.read_text(errors="replace")),
    )


def _port_taken(where: str) -> bool:
    host, _, port = where.rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=1):
            return True
    except (OSError, ValueError):
        return False


def _our_pid(state: State) -> int | None:
    """The pid in our pid file, if that process is still a docker-registry (pids get reused)."""
    try:
        pid = int(state.pid_file.read_text().strip())
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        state.pid_file.unlink(missing_ok=True)
        return None
    return pid if b"docker-registry" in command and str(state.config).encode() in command else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    # A child of ours that exited stays a zombie until reaped; it is gone all the same.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False
