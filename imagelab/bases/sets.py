"""Base sets: which image each role's build argument points at, read from a small TOML file.

dockerfiles/bases/sets/<name>.toml holds the project's sets (`official`, `debian`, `debian12`); a user
passes their own with `--bases path/to/set.toml` (e.g. a company's golden images). A set maps roles to
image references, optionally pinned by digest (`ref@sha256:...`). `auto` is `official` where Docker Hub
answers, else `debian`. The command line opens the set once; the rest of the harness gets that object.

Two ways a Dockerfile asks for a role's image, and a set applies to both:
- the ARG form, `FROM ${PYTHON_SLIM_IMAGE}`: the set passes the build argument;
- a plain reference, `FROM python:3.13-slim`, `COPY --from=golang:1.24`: the set says which public
  references each of its images stands for -- the official set's reference of the role and its
  [aliases] (sets/official.toml), the set's own [aliases], and its own references -- and the build
  replaces the image by BuildKit's named contexts, pinned by digest. A reference no role stands for
  is refused before the build. The official set (`as-written = true`) lets plain references resolve
  from their registries as written.
"""

from __future__ import annotations

import functools
import re
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from imagelab import ROOT, dockerfile
from imagelab.bases.recipes import BASES_DIR, arg_of, load_recipes, read_toml
from imagelab.bases.references import IMAGE_CONTEXT, REFERENCE, context_name, matching
from imagelab.engine import registry
from imagelab.errors import ConfigError

SETS_DIR = BASES_DIR / "sets"
LOCAL_SET = "debian"
#: The set whose references and [aliases] every set stands in for.
OFFICIAL_SET = "official"
#: `{registry}` in a reference is the project's registry: 127.0.0.1:5000 or $IMAGELAB_REGISTRY.
REGISTRY_FIELD = "{registry}"
#: Where `auto` asks whether a registry answers: the Docker Hub registry API, which answers 401 with
#: this header to anyone who reaches it.
REGISTRY_URL = "https://registry-1.docker.io/v2/"
REGISTRY_TIMEOUT_S = 3
#: The ARG form of a role: ${PYTHON_SLIM_IMAGE} is the role python-slim.
ROLE_ARG = re.compile(r"\$\{?(?P<arg>\w+)_IMAGE\}?")


@dataclass(frozen=True)
class RoleImage:
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
class Replacement:
    """An image a Dockerfile names plainly, and the set's image that a named context puts in its place."""

    use: dockerfile.ImageUse
    image: RoleImage

    @property
    def name(self) -> str:
        """The named context's name: the reference as BuildKit looks it up."""
        return context_name(self.use.ref)

    @property
    def context(self) -> str:
        return IMAGE_CONTEXT + self.image.build_arg


@dataclass(frozen=True)
class BaseSet:
    """A base set: every role it fills, by reference; `name` is what reports call it."""

    name: str
    path: Path
    description: str
    images: tuple[RoleImage, ...]
    resolved: bool = False  # the roles builds use have their digests (bases.resolve)
    #: (reference as `matching` reads it, role): the public references each role's image stands for.
    references: tuple[tuple[str, str], ...] = ()
    #: Plain references resolve from their registries as written (the official set): no contexts.
    as_written: bool = False

    def image(self, role: str) -> RoleImage | None:
        return next((image for image in self.images if image.role == role), None)

    def role_for(self, ref: str) -> str | None:
        """The role whose image `ref` names, by the set's references (None: none of them)."""
        key = matching(ref)
        return next((role for known, role in self.references if known == key), None)

    def plain(self, path: Path) -> list[tuple[dockerfile.ImageUse, str | None]]:
        """Each image the Dockerfile at `path` names plainly, with the role the set reads it as (None:
        no role stands for it); nothing where the set lets plain references resolve as written."""
        if self.as_written:
            return []
        mine = set(self.build_args().values())
        found = []
        for use in dockerfile.images(dockerfile.parse_dockerfile(path.read_text()), self.build_args()):
            if "$" in use.ref or (use.arg_form and use.ref in mine):
                continue  # the ARG form: the build argument already names the set's image (or nobody's)
            found.append((use, self.role_for(use.ref)))
        return found

    def replacements(self, path: Path) -> list[Replacement]:
        """Each image `path` names plainly, with the set's image for it. Refused, before any build:
        a reference no role of the set stands for, or one whose role the set does not fill."""
        found = []
        for use, role in self.plain(path):
            image = self.image(role) if role else None
            if image is None:
                raise self._refusal(path, use, role)
            found.append(Replacement(use, image))
        return found

    def contexts(self, path: Path) -> dict[str, str]:
        """Bake's `contexts` for `path`: each plain reference to the set's image, by digest."""
        return {r.name: r.context for r in self.replacements(path)}

    def replaced(self, path: Path) -> dict[str, str]:
        """What the build puts in place of each plain reference: the reference (build arguments
        applied) -> the set's image, by digest once resolved."""
        return {r.use.ref: r.image.build_arg for r in self.replacements(path)}

    def _refusal(self, path: Path, use: dockerfile.ImageUse, role: str | None) -> ConfigError:
        where = f"{shown(path)}:{use.line}: {use.where}"
        if role:
            return ConfigError(
                f"{where} stands for role {role}, which base set {self.name!r} does not fill",
                hint=f"give {self.path.name} a {role} image, or choose a set that has one",
            )
        return ConfigError(
            f"{shown(path)}:{use.line}: base set {self.name!r} has no image for {use.where}",
            hint=f"map it: list it under its role in [aliases] of a set file of your own (--bases FILE.toml) "
            f"or of {shown(SETS_DIR / f'{OFFICIAL_SET}.toml')}; --bases {OFFICIAL_SET} builds it as written",
        )

    def build_args(self) -> dict[str, str]:
        """The build arguments that point every role's ARG at this set's image."""
        return {image.arg: image.build_arg for image in self.images}

    def missing(self, path: Path) -> list[str]:
        """The roles the Dockerfile at `path` builds on that this set does not fill. A plain reference
        that no role stands for is refused here, when the command line chooses its images."""
        unmapped = next((use for use, role in self.plain(path) if role is None), None)
        if unmapped is not None:
            raise self._refusal(path, unmapped, None)
        return [role for role in roles_of(path, self) if self.image(role) is None]

    def with_digests(self, digests: dict[str, str]) -> BaseSet:
        resolved = tuple(replace(i, digest=i.pin or digests.get(i.role, i.digest)) for i in self.images)
        return replace(self, images=resolved, resolved=True)


def final_role(path: Path, base_set: BaseSet | None = None) -> str:
    """The role the final stage starts from, following stage names ("scratch" or "" where none); a
    plain reference counts by `base_set`'s references, when it replaces them."""
    stages: dict[str, str] = {}
    last = ""
    for ref, stage in dockerfile.froms(dockerfile.parse_dockerfile(path.read_text())):
        last = stages.get(ref.lower(), ref)
        if stage:
            stages[stage.lower()] = last
    arg = ROLE_ARG.fullmatch(last)
    if arg:
        return arg["arg"].lower().replace("_", "-")
    if last == "scratch":
        return "scratch"
    if base_set is None or base_set.as_written or "$" in last:
        return ""
    return base_set.role_for(last) or ""


def roles_of(path: Path, base_set: BaseSet | None = None) -> list[str]:
    """The roles a Dockerfile's images are: FROM ${PYTHON_SLIM_IMAGE} is python-slim, and where
    `base_set` replaces plain references, FROM python:3.13-slim is too (by the set's references)."""
    found = []
    for use in dockerfile.images(dockerfile.parse_dockerfile(path.read_text())):
        arg = ROLE_ARG.fullmatch(use.written)
        if arg:
            found.append(arg["arg"].lower().replace("_", "-"))
    if base_set is not None:
        found.extend(role for _, role in base_set.plain(path) if role)
    return list(dict.fromkeys(found))


def shown(path: Path) -> str:
    """A path as messages name it: relative to the checkout when inside it."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def set_path(name_or_path: str) -> Path:
    """A set's file: a name of dockerfiles/bases/sets/, or a path to a .toml file."""
    if name_or_path.endswith(".toml") or "/" in name_or_path:
        return Path(name_or_path)
    return SETS_DIR / f"{name_or_path}.toml"


def known_sets() -> list[str]:
    return [*sorted(p.stem for p in SETS_DIR.glob("*.toml")), "auto"]


def open_set(name_or_path: str, registry_answers: Callable[[], bool] | None = None) -> BaseSet:
    """The base set a command line names: a set name, `auto`, or a path to a set file. Opened once, at
    the edge; everything below takes the BaseSet this returns."""
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
        images.append(RoleImage(role, filled.removesuffix(f"@{pin}") if pin else filled, pin, pin))
    description = data.get("description", "")
    as_written = data.get("as-written", False)
    if not isinstance(as_written, bool):
        raise ConfigError(f"{path}: as-written must be true or false")
    return BaseSet(
        path.stem,
        path,
        description if isinstance(description, str) else "",
        tuple(images),
        references=_references(path, data, images, registry_address),
        as_written=as_written,
    )


def _references(path: Path, data: dict, images: list[RoleImage], registry_address: str) -> tuple:
    """What each role's image stands for: the official set's reference and [aliases] of the role, then
    this set's [aliases], then its own references. One reference standing for two roles is refused."""
    official = SETS_DIR / f"{OFFICIAL_SET}.toml"
    shared = read_toml(official) if path != official else data
    listed: list[tuple[Path, str, object]] = [
        *((official, role, [ref]) for role, ref in (shared.get("roles") or {}).items()),
        *((official, role, refs) for role, refs in (shared.get("aliases") or {}).items()),
    ]
    if path != official:
        own = data.get("aliases", {})
        if not isinstance(own, dict):
            raise ConfigError(f'{path}: [aliases] must be a table (role = ["image reference", ...])')
        listed.extend((path, role, refs) for role, refs in own.items())
    known = load_recipes().roles
    found: dict[str, str] = {}
    for where, role, refs in listed:
        if role not in known:
            raise ConfigError(
                f"{where}: [aliases] names {role!r}, not a role", hint=f"valid roles: {', '.join(known)}"
            )
        if not isinstance(refs, list) or not all(isinstance(ref, str) for ref in refs):
            raise ConfigError(
                f'{where}: aliases of {role} must be a list of image references ["python:3.13"]'
            )
        for ref in refs:
            filled = ref.replace(REGISTRY_FIELD, registry_address)
            if not REFERENCE.match(filled):
                raise ConfigError(f"{where}: alias {ref!r} of {role} is not an image reference")
            other = found.setdefault(matching(filled), role)
            if other != role:
                raise ConfigError(
                    f"{where}: {ref} stands for both {other} and {role}", hint="keep it under one role"
                )
    for image in images:  # a Dockerfile may name the set's own image plainly too
        found.setdefault(matching(image.ref), image.role)
    return tuple(found.items())


def where(base_set: BaseSet, image: RoleImage) -> str:
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
