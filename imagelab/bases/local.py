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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from imagelab import ROOT, engine
from imagelab.bases import distroless, rootfs, schedule
from imagelab.bases.golang import GoRelease, go_release
from imagelab.bases.node import NodeRelease, node_release
from imagelab.bases.recipes import BASES_DIR, LocalSet, Role, load
from imagelab.engine import registry
from imagelab.errors import BuildError, ConfigError
from imagelab.inspect import dpkg
from imagelab.terminal import terminal

WORK_DIR = ROOT / ".imagelab" / "bases"
#: One lock for the machine, not the checkout: the stand-ins' tags live in the one engine every
#: checkout builds on. A fixed path, not $TMPDIR's: two processes with different TMPDIRs must meet.
LOCK_FILE = Path("/tmp/imagelab-bases.lock")
DEFAULT_CA_FILE = Path("/etc/ssl/certs/ca-certificates.crt")
CA_ENV = "IMAGELAB_EXTRA_CA"
LOCK_WAIT_S = 1800  # a cold build of the whole set takes a few minutes

LABEL = "org.imagelab"
KEY_LABEL = f"{LABEL}.bases.key"


@dataclass
class StandIn:
    """A local stand-in after `build_local`: built now, or found up to date."""

    role: str
    tag: str
    cached: bool
    seconds: float
    size: int
    versions: dict[str, str] = field(default_factory=dict)
    image_id: str = ""
    ref: str = ""  # where it lives: <registry>/imagelab-bases/<role>:<set tag>
    digest: str = ""  # its digest in the registry
    pushed: bool = False  # pushed this time (else the registry had this very image)


def build_local(
    roles: Iterable[str] = (),
    ca_file: Path | None = None,
    rebuild: bool = False,
    sets: LocalSet | None = None,
    log: Callable[[str], None] = terminal.step,
) -> list[StandIn]:
    """Build the stand-ins of `roles` (all when empty) and the roles they build on, and push each to the
    registry before its children build on it, by digest.

    Each image carries a key of everything that went into it (recipe files, packages, suite, Node
    version, CA file, parent image) and is skipped when its tagged image has that key. A failure leaves
    every earlier image as it was: an image is tagged only once it is complete. Locally an image is
    tagged with its registry name only (<registry>/imagelab-bases/...), which nothing else builds.
    """
    sets = sets or load()
    order = _build_order(sets, [sets.role(name).name for name in roles] or list(sets.roles))
    extra_ca = read_extra_ca(ca_file)
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    registry.ensure_registry(log=log)
    # The Node.js and Go downloads run beside the first roles: only the roles that take them wait.
    with _one_builder_at_a_time(log), ThreadPoolExecutor(2, thread_name_prefix="fetch") as fetch:
        wants_node = any(sets.roles[name].node for name in order)
        node = fetch.submit(node_release, sets.debian, log) if wants_node else None
        wants_go = any(sets.roles[name].go for name in order)
        go = fetch.submit(go_release, sets.debian.go, log) if wants_go else None

        def make(name: str, parent: StandIn | None) -> StandIn:
            role = sets.roles[name]
            takes = Takes(
                node.result() if node is not None and role.node else None,
                go.result() if go is not None and role.go else None,
            )
            return _publish(_build_or_reuse(role, sets, extra_ca, takes, rebuild, log, parent))

        # On a terminal: roles done of total, the ones building now, elapsed time.
        with terminal.progress("local base set", order) as shown:
            done = schedule.in_tree_order(
                order,
                lambda name: sets.roles[name].parent,
                make,
                started=lambda name: shown.doing(
                    name, f"{image_ref(sets.roles[name])}: building if it changed"
                ),
                finished=shown.finish,
            )
    return [done[name] for name in order]


@dataclass(frozen=True)
class Takes:
    """The downloads a stand-in is made with besides Debian's packages: the official Node.js, Go."""

    node: NodeRelease | None = None
    go: GoRelease | None = None


def image_ref(role: Role) -> str:
    """The stand-in's name, locally and in the registry."""
    return f"{registry.address()}/{role.tag}"


def _publish(stand_in: StandIn) -> StandIn:
    """Push the stand-in unless the registry holds this very image already; its digest there."""
    repository = stand_in.ref.rpartition(":")[0]
    known = registry.pushed_digest(stand_in.image_id, repository)
    if known:
        with contextlib.suppress(registry.RegistryError):  # not there: another registry answers now
            if registry.remote_digest(stand_in.ref) == known:
                stand_in.digest = known
                return stand_in
    stand_in.digest, stand_in.pushed = registry.push(stand_in.image_id, stand_in.ref), True
    return stand_in


@contextlib.contextmanager
def _one_builder_at_a_time(log: Callable[[str], None]) -> Iterator[None]:
    """Hold LOCK_FILE while building: a second `nox -s bases` (or a compare run that needs
    the set) waits, then finds the images up to date instead of building them twice."""
    with open(LOCK_FILE, "w") as lock:
        deadline = time.monotonic() + LOCK_WAIT_S
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise BuildError(
                        f"another build of the local base set held {LOCK_FILE} for {LOCK_WAIT_S} s",
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
    sets: LocalSet,
    extra_ca: bytes,
    takes: Takes,
    rebuild: bool,
    log: Callable[[str], None],
    parent: StandIn | None,
) -> StandIn:
    started = time.monotonic()
    ref = image_ref(role)
    key = _key(role, sets, extra_ca, takes, parent)
    labels = engine.image_labels(ref)
    if not rebuild and (labels or {}).get(KEY_LABEL) != key and _in_registry(ref, key):
        # Built from the same inputs by another engine (or this one before its image store changed):
        # the registry's copy is that stand-in, and a pull costs seconds where a build costs minutes.
        log(f"pulling {ref}: the registry holds this stand-in, made from the same inputs")
        registry.pull(ref)
        labels = engine.image_labels(ref)
    if not rebuild and labels is not None and labels.get(KEY_LABEL) == key:
        versions = {k.removeprefix(f"{LABEL}.version."): v for k, v in labels.items() if ".version." in k}
        cached = True
    else:
        log(f"building {ref} (stands in for {role.official})")
        replaced = engine.image_id(ref)
        versions = _build(role, sets, key, extra_ca, takes, rebuild, parent)
        cached = False
        if replaced and replaced != engine.image_id(ref):
            engine.remove_image_if_unused(replaced)  # the old version, unless images built on it remain
    image_id = engine.image_id(ref)
    return StandIn(
        role.name,
        role.tag,
        cached,
        time.monotonic() - started,
        engine.image_size(image_id),
        versions,
        image_id,
        ref,
    )


def _in_registry(ref: str, key: str) -> bool:
    try:
        return registry.remote_labels(ref).get(KEY_LABEL) == key
    except registry.RegistryError:  # not pushed yet, or no registry: build it
        return False


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


def _build_order(sets: LocalSet, wanted: list[str]) -> list[str]:
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


def _key(role: Role, sets: LocalSet, extra_ca: bytes, takes: Takes, parent: StandIn | None = None) -> str:
    """A digest of everything the image is made from; equal keys mean there is nothing to rebuild."""
    recipe_files = [BASES_DIR / role.dockerfile, BASES_DIR / "label.Dockerfile"]
    if role.node:
        recipe_files.append(BASES_DIR / "docker-entrypoint.sh")
    inputs = {
        # A field at its default is left out, so that a new field keeps the other roles' keys (and images).
        "role": {name: value for name, value in role.__dict__.items() if name != "go" or value},
        # What rootfs.py and distroless.py write, by version: a refactor keeps the images, a change to
        # what they write (bump the number) rebuilds them. Hashing its source made every checkout at another
        # revision rebuild the whole set.
        "rootfs": rootfs.RECIPE_VERSION if role.recipe != "dockerfile" else None,
        "suite": sets.debian.suite,
        "mirror": sets.debian.mirror,
        "files": {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in recipe_files},
        "extra_ca": hashlib.sha256(extra_ca).hexdigest(),
        "node": [takes.node.version, takes.node.npm_version] if role.node and takes.node else None,
        # The parent's content, not its id: an image's id differs between the classic and the containerd
        # image store, its layers and run settings do not.
        "parent": engine.content_key(parent.image_id) if parent else None,
    }
    if sets.debian.pockets:  # only then: a set of the release alone keeps the key (and images) it had
        inputs["sources"] = sets.debian.sources()
    if role.go and takes.go:  # only then: the other roles keep the keys (and images) they had
        inputs["go"] = takes.go.version
    if role.recipe == "rootfs" and sets.debian.usr_is_merged:  # likewise
        inputs["usr_is_merged"] = True
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def _build(
    role: Role,
    sets: LocalSet,
    key: str,
    extra_ca: bytes,
    takes: Takes,
    rebuild: bool,
    parent: StandIn | None,
) -> dict[str, str]:
    node = takes.node
    suite = sets.debian.suite
    context = Path(tempfile.mkdtemp(prefix=f"context-{role.name}-", dir=WORK_DIR))
    # Unique: two checkouts building the same role at once must not untag each other's half-built image.
    scratch_tag = f"imagelab-scratch/bases-{role.name}:build-{uuid.uuid4().hex[:12]}"
    build_args: dict[str, str] = {}
    archive_date = ""
    try:
        if role.recipe == "rootfs":
            made = rootfs.minbase(
                suite,
                sets.debian.sources(),
                role.packages,
                extra_ca,
                context / "rootfs.tar",
                usr_is_merged=sets.debian.usr_is_merged,
            )
            archive_date = made.archive_date
        elif role.recipe == "distroless":
            made = distroless.rootfs(
                suite,
                sets.debian.sources(),
                role.packages,
                role.exclude,
                extra_ca,
                context / "rootfs.tar",
                node_binary=node.node_dir / "bin" / "node" if role.node and node else None,
            )
            archive_date = made.archive_date
        else:
            build_args = {
                # by digest from the registry, as the apps' builds take their bases
                "PARENT": f"{parent.ref.rpartition(':')[0]}@{parent.digest}" if parent else "",
                "PACKAGES": " ".join(role.packages),
                "PYTHON_VERSION": sets.debian.python,
            }
        if role.node and node and role.recipe == "dockerfile":
            shutil.copytree(node.node_dir, context / "node", symlinks=True)
            shutil.copytree(node.npm_dir, context / "npm", symlinks=True)
            shutil.copy2(BASES_DIR / "docker-entrypoint.sh", context)
            build_args["NODE_VERSION"] = node.version
        if role.go and takes.go:
            shutil.copytree(takes.go.goroot, context / "go", symlinks=True)
            build_args["GOLANG_VERSION"] = takes.go.version
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
            raise rootfs.package_failure("\n".join(exc.log), suite, f"building {image_ref(role)}") from exc
        versions = _versions(role, sets, scratch_tag, takes)
        parent_labels = engine.image_labels(parent.image_id) if parent else {}
        archive_date = archive_date or (parent_labels or {}).get(f"{LABEL}.debian.archive-date", "")
        engine.build_image(
            context,
            BASES_DIR / "label.Dockerfile",
            image_ref(role),
            build_args={"IMAGE": scratch_tag},
            labels=_labels(role, sets, key, versions, archive_date, parent),
        )
    finally:
        engine.remove_image(scratch_tag)
        shutil.rmtree(context, ignore_errors=True)
    return versions


#: The package versions worth a label: the ones a user of the role cares about ({python}: the set's).
VERSION_PACKAGES = (
    "python{python}",
    "libc6",
    "libssl3t64",
    "libssl3",
    "ca-certificates",
    "tzdata",
)


def _versions(role: Role, sets: LocalSet, image: str, takes: Takes) -> dict[str, str]:
    """Versions of the packages that matter, read from the image's dpkg records (works without a shell)."""
    installed = dpkg.installed(
        engine.read_files(image, dpkg.STATUS) or engine.read_files(image, dpkg.STATUS_D)
    )
    wanted = [name.format(python=sets.debian.python) for name in VERSION_PACKAGES]
    versions = {name: installed[name] for name in wanted if name in installed}
    versions["packages"] = str(len(installed))
    if role.node and takes.node:
        versions["node"] = takes.node.version
        if role.recipe == "dockerfile":
            versions["npm"] = takes.node.npm_version
    if role.go and takes.go:
        versions["go"] = takes.go.version
    return versions


def _labels(
    role: Role, sets: LocalSet, key: str, versions: dict[str, str], archive_date: str, parent: StandIn | None
) -> dict[str, str]:
    labels = {
        f"{LABEL}.stands-in-for": role.official,
        f"{LABEL}.base-set": sets.name,
        f"{LABEL}.role": role.name,
        f"{LABEL}.debian.suite": sets.debian.suite,
        f"{LABEL}.debian.suites": " ".join(sets.debian.suites()),
        f"{LABEL}.debian.mirror": sets.debian.mirror,
        f"{LABEL}.debian.archive-date": archive_date,
        KEY_LABEL: key,
        "org.opencontainers.image.title": f"{role.tag}: local stand-in for {role.official}",
        "org.opencontainers.image.description": (
            f"Built locally by imagelab from Debian {sets.debian.suite} packages; not the official "
            f"{role.official} image, but with its interface (dockerfiles/bases/README.md)."
        ),
        "org.opencontainers.image.created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "org.opencontainers.image.base.name": parent.ref if parent else "scratch",
        "org.opencontainers.image.base.digest": parent.digest if parent else "",
        "org.opencontainers.image.vendor": "imagelab (local build)",
    }
    labels.update({f"{LABEL}.version.{name}": value for name, value in versions.items()})
    return labels
