"""Base sets: which image each role's build argument points at, read from a small TOML file.

dockerfiles/bases/sets/<name>.toml holds the project's sets (`official`, `debian`, `debian12`); a user
passes their own with `--bases path/to/set.toml` (e.g. a company's golden images). A set maps roles to
image references, optionally pinned by digest (`ref@sha256:...`). `auto` is `official` where Docker Hub
answers, else `debian`. The command line opens the set once; the rest of the harness gets that object.
"""

from __future__ import annotations

import functools
import re
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from imagelab.bases.recipes import BASES_DIR, arg_of, load_recipes, read_toml
from imagelab.engine import registry
from imagelab.errors import ConfigError
from imagelab.inspect import layers

SETS_DIR = BASES_DIR / "sets"
LOCAL_SET = "debian"
#: `{registry}` in a reference is the project's registry: 127.0.0.1:5000 or $IMAGELAB_REGISTRY.
REGISTRY_FIELD = "{registry}"
#: Where `auto` asks whether a registry answers: the Docker Hub registry API, which answers 401 with
#: this header to anyone who reaches it.
REGISTRY_URL = "https://registry-1.docker.io/v2/"
REGISTRY_TIMEOUT_S = 3
#: An image reference as Docker reads one: [host[:port]/]path[:tag][@sha256:hex].
COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
REFERENCE = re.compile(
    rf"^(?P<name>(?:[A-Za-z0-9.-]+(?::\d+)?/)?{COMPONENT}(?:/{COMPONENT})*)"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?(?:@(?P<digest>sha256:[0-9a-f]{64}))?$"
)
STAGE_BASE = re.compile(
    r"^\s*FROM\s+(?:--platform=\S+\s+)?\$\{?(?P<arg>\w+)_IMAGE\}?", re.IGNORECASE | re.MULTILINE
)


@dataclass(frozen=True)
class BaseImage:
    """One role of a set: the reference builds ask for, and the digest it resolved to."""

    role: str
    ref: str  # as the set file says, {registry} filled in, without a digest
    pin: str = ""  # the digest the set file pins, if any
    digest: str = ""  # the pin, or what the registry resolved `ref` to

    @property
    def arg(self) -> str:
        return arg_of(self.role)

    @property
    def build_arg(self) -> str:
        """What the bake passes: by digest once resolved, as a user's build resolves `python:3.13`."""
        return f"{self.name}@{self.digest}" if self.digest else self.ref

    @property
    def name(self) -> str:
        """The reference without its tag (a digest names the image alone)."""
        match = REFERENCE.match(self.ref)
        return match["name"] if match else self.ref

    @property
    def local_repository(self) -> str:
        """The repository of the project's registry this stand-in is pushed to ("" for any other image)."""
        prefix = f"{registry.address()}/imagelab-bases/"
        return self.ref.rpartition(":")[0] if self.ref.startswith(prefix) else ""


@dataclass(frozen=True)
class BaseSet:
    """A base set: every role it fills, by reference; `name` is what reports call it."""

    name: str
    path: Path
    description: str
    images: tuple[BaseImage, ...]
    resolved: bool = False  # the roles builds use have their digests (bases.resolve)

    def image(self, role: str) -> BaseImage | None:
        return next((image for image in self.images if image.role == role), None)

    def build_args(self) -> dict[str, str]:
        """The build arguments that point every role's ARG at this set's image."""
        return {image.arg: image.build_arg for image in self.images}

    def missing(self, dockerfile: Path) -> list[str]:
        """The roles `dockerfile` builds on that this set does not fill."""
        return [role for role in roles_of(dockerfile) if self.image(role) is None]

    def with_digests(self, digests: dict[str, str]) -> BaseSet:
        resolved = tuple(replace(i, digest=i.pin or digests.get(i.role, i.digest)) for i in self.images)
        return replace(self, images=resolved, resolved=True)


def final_role(dockerfile: Path) -> str:
    """The role the final stage starts from, following stage names ("scratch" or "" where none)."""
    stages: dict[str, str] = {}
    last = ""
    for ref, stage in layers.froms(layers.parse_dockerfile(dockerfile.read_text())):
        last = stages.get(ref.lower(), ref)
        if stage:
            stages[stage.lower()] = last
    arg = re.fullmatch(r"\$\{?(\w+)_IMAGE\}?", last)
    return arg[1].lower().replace("_", "-") if arg else ("scratch" if last == "scratch" else "")


def roles_of(dockerfile: Path) -> list[str]:
    """The roles a Dockerfile's stages start from: FROM ${PYTHON_SLIM_IMAGE} is python-slim."""
    found = [m["arg"].lower().replace("_", "-") for m in STAGE_BASE.finditer(dockerfile.read_text())]
    return list(dict.fromkeys(found))


def set_path(name_or_path: str) -> Path:
    """A set's file: a name of dockerfiles/bases/sets/, or a path to a .toml file."""
    if name_or_path.endswith(".toml") or "/" in name_or_path:
        return Path(name_or_path)
    return SETS_DIR / f"{name_or_path}.toml"


def known_sets() -> list[str]:
    return [*sorted(p.stem for p in SETS_DIR.glob("*.toml")), "auto"]


def open_set(name_or_path: str | BaseSet, registry_answers: Callable[[], bool] | None = None) -> BaseSet:
    """The base set a command line names: a set name, `auto`, or a path to a set file."""
    if isinstance(name_or_path, BaseSet):
        return name_or_path
    if name_or_path == "auto":
        name_or_path = "official" if (registry_answers or docker_hub_answers)() else LOCAL_SET
    path = set_path(name_or_path)
    if not path.is_file():
        raise ConfigError(
            f"unknown base set {name_or_path!r}" if path.parent == SETS_DIR else f"no base set file {path}",
            hint=f"valid base sets: {', '.join(known_sets())}, or a path to a set file (.toml)",
        )
    return _load(path.resolve(), registry.address())


@functools.cache
def _load(path: Path, registry_address: str) -> BaseSet:
    data = read_toml(path)
    roles = data.get("roles")
    if not isinstance(roles, dict) or not roles:
        raise ConfigError(f'{path}: missing table [roles] (role = "image reference")')
    known = load_recipes().roles
    images = []
    for role, ref in roles.items():
        if role not in known:
            raise ConfigError(
                f"{path}: role {role!r} ({ref}) is not a role Dockerfiles ask for",
                hint=f"valid roles: {', '.join(known)}",
            )
        filled = ref.replace(REGISTRY_FIELD, registry_address) if isinstance(ref, str) else ""
        match = REFERENCE.match(filled)
        if not match:
            raise ConfigError(
                f"{path}: role {role} has a malformed image reference {ref!r}",
                hint="write [host[:port]/]name[:tag][@sha256:<64 hex>], e.g. python:3.13-trixie",
            )
        pin = match["digest"] or ""
        images.append(BaseImage(role, filled.removesuffix(f"@{pin}") if pin else filled, pin, pin))
    description = data.get("description", "")
    return BaseSet(path.stem, path, description if isinstance(description, str) else "", tuple(images))


def where(base_set: BaseSet, image: BaseImage) -> str:
    """How an error names a role of a set: the file, the role and the reference."""
    return f"{base_set.path.name}: role {image.role} ({image.ref})"


def roles_used(base_set: BaseSet, dockerfiles: Iterable[Path]) -> set[str]:
    return {role for path in dockerfiles for role in roles_of(path) if base_set.image(role)}


def docker_hub_answers(url: str = REGISTRY_URL, timeout_s: float = REGISTRY_TIMEOUT_S) -> bool:
    """True when the Docker Hub registry API answers within `timeout_s` (a bounded HEAD request)."""
    request = urllib.request.Request(url, method="HEAD")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            headers = response.headers
    except urllib.error.HTTPError as exc:  # 401 is the normal answer of a registry
        headers = exc.headers
    except (urllib.error.URLError, OSError, ValueError):
        return False
    return registry.API_HEADER in headers
