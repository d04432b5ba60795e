"""Building the local stand-ins of a base set, each keyed on its inputs so a warm build takes a second."""

from __future__ import annotations

import contextlib
import fcntl
import graphlib
import hashlib
import json
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from imagelab import ROOT, engine
from imagelab.bases import rootfs
from imagelab.bases.node import NodeRelease, node_release
from imagelab.bases.recipes import BASES_DIR, BaseSets, Role, load
from imagelab.bases.sets import LOCAL_SET
from imagelab.errors import BuildError, ConfigError
from imagelab.inspect import dpkg
from imagelab.terminal import terminal

WORK_DIR = ROOT / ".imagelab" / "bases"
DEFAULT_CA_FILE = Path("/etc/ssl/certs/ca-certificates.crt")
CA_ENV = "IMAGELAB_EXTRA_CA"
LOCK_WAIT_S = 1800  # a cold build of the whole set takes a few minutes

LABEL = "org.imagelab"
KEY_LABEL = f"{LABEL}.bases.key"


@dataclass
class Built:
    """What `build_local` did for one role."""

    role: str
    tag: str
    cached: bool
    seconds: float
    size: int
    versions: dict[str, str] = field(default_factory=dict)


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
        node = node_release(sets.debian, log) if any(sets.roles[name].node for name in order) else None
        built = []
        # On a terminal: roles done of total, the one building now, elapsed time.
        with terminal.progress("local base set", order) as shown:
            for name in order:
                shown.doing(name, f"{sets.roles[name].debian}: checking its key, building if it changed")
                built.append(_build_or_reuse(sets.roles[name], sets, extra_ca, node, rebuild, log))
                shown.finish(name)
        return built


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
    if role.node:
        recipe_files.append(BASES_DIR / "docker-entrypoint.sh")
    inputs = {
        "role": role.__dict__,
        # What rootfs.py writes, by version: a refactor of the module keeps the images, a change to what
        # it writes (bump the number) rebuilds them. Hashing its source made every checkout at another
        # revision rebuild the whole set.
        "rootfs": rootfs.RECIPE_VERSION if role.recipe != "dockerfile" else None,
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
    # Unique: two checkouts building the same role at once must not untag each other's half-built image.
    scratch_tag = f"imagelab-scratch/bases-{role.name}:build-{uuid.uuid4().hex[:12]}"
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
    installed = dpkg.installed(
        engine.read_files(image, dpkg.STATUS) or engine.read_files(image, dpkg.STATUS_D)
    )
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
