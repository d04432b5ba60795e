"""Building the local stand-ins of a base set, each keyed on its inputs so a warm build takes a second."""

from __future__ import annotations

import contextlib
import fcntl
import graphlib
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from imagelab import ROOT, engine
from imagelab.bases import distroless, inputs, provenance, rootfs, schedule
from imagelab.bases.golang import go_release
from imagelab.bases.node import node_release
from imagelab.bases.provenance import Takes
from imagelab.bases.recipes import BASES_DIR, LocalSet, Role, load
from imagelab.engine import registry
from imagelab.errors import BuildError, ConfigError
from imagelab.terminal import terminal

WORK_DIR = ROOT / ".imagelab" / "bases"
#: One lock for the machine, not the checkout: the stand-ins' tags live in the one engine every
#: checkout builds on. A fixed path, not $TMPDIR's: two processes with different TMPDIRs must meet.
LOCK_FILE = Path("/tmp/imagelab-bases.lock")
DEFAULT_CA_FILE = Path("/etc/ssl/certs/ca-certificates.crt")
CA_ENV = "IMAGELAB_EXTRA_CA"
LOCK_WAIT_S = 1800  # a cold build of the whole set takes a few minutes


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
    key = provenance.key(role, sets, extra_ca, takes, parent.image_id if parent else "")
    labels = engine.image_labels(ref)
    if not rebuild and (labels or {}).get(provenance.KEY_LABEL) != key and _in_registry(ref, key):
        # Built from the same inputs by another engine (or this one before its image store changed):
        # the registry's copy is that stand-in, and a pull costs seconds where a build costs minutes.
        log(f"pulling {ref}: the registry holds this stand-in, made from the same inputs")
        registry.pull(ref)
        labels = engine.image_labels(ref)
    if not rebuild and labels is not None and labels.get(provenance.KEY_LABEL) == key:
        versions = {
            k.removeprefix(provenance.VERSION_LABEL): v for k, v in labels.items() if ".version." in k
        }
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
        return registry.remote_labels(ref).get(provenance.KEY_LABEL) == key
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
    archive_date = archive = ""
    # The root file systems are made reproducible (same archive state, same image); the "dockerfile"
    # recipes run apt-get in a build step, whose files carry the time it ran, and are not.
    epoch = rootfs.archive_epoch(suite, sets.debian.sources()) if role.recipe != "dockerfile" else None
    try:
        if role.recipe == "rootfs":
            made = rootfs.minbase(
                suite,
                sets.debian.sources(),
                role.packages,
                extra_ca,
                context / "rootfs.tar",
                epoch,
                usr_is_merged=sets.debian.usr_is_merged,
            )
            archive_date, archive = made.archive_date, made.archive
        elif role.recipe == "distroless":
            made = distroless.rootfs(
                suite,
                sets.debian.sources(),
                role.packages,
                role.exclude,
                extra_ca,
                context / "rootfs.tar",
                node_binary=node.node_dir / "bin" / "node" if role.node and node else None,
                epoch=epoch,
            )
            archive_date, archive = made.archive_date, made.archive
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
        if epoch is not None:
            # BuildKit dates the image config and its history with it instead of now.
            build_args["SOURCE_DATE_EPOCH"] = str(epoch)
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
        installed = provenance.installed(scratch_tag)
        versions = provenance.versions(role, sets, installed, takes)
        parent_labels = (engine.image_labels(parent.image_id) if parent else None) or {}
        archive_date = archive_date or parent_labels.get(provenance.ARCHIVE_DATE_LABEL, "")
        made_from = {
            inputs.PACKAGES: inputs.packages_digest(installed),
            inputs.RECIPE: provenance.recipe_digest(role, sets, extra_ca, takes, parent_labels),
            # A "dockerfile" recipe's apt-get reads the archive as it is at build time: the packages
            # digest says what it got; the parent's state is where its root file system came from.
            inputs.ARCHIVE: archive or inputs.of_labels(parent_labels).get(inputs.ARCHIVE, ""),
        }
        engine.build_image(
            context,
            BASES_DIR / "label.Dockerfile",
            image_ref(role),
            build_args={"IMAGE": scratch_tag}
            | ({"SOURCE_DATE_EPOCH": str(epoch)} if epoch is not None else {}),
            labels=provenance.labels(
                role,
                sets,
                key,
                versions,
                archive_date,
                parent.ref if parent else "",
                parent.digest if parent else "",
                made_from,
                epoch,
            ),
            provenance=False,  # the image alone: pushed, a stand-in built twice has one digest on every store
        )
    finally:
        engine.remove_image(scratch_tag)
        shutil.rmtree(context, ignore_errors=True)
    return versions
