"""Where a local stand-in comes from: the key of everything it is made from, and the labels it carries.

Equal keys mean nothing to rebuild (local.py compares the key label of the image, here or in the
registry, with the key of the inputs now). The labels say what the image stands in for, from which
Debian suite and mirror, and the versions of the packages a user of the role cares about, so no report
passes a stand-in off as the official image.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from imagelab import engine
from imagelab.bases import inputs, rootfs
from imagelab.bases.golang import GoRelease
from imagelab.bases.node import NodeRelease
from imagelab.bases.recipes import BASES_DIR, LocalSet, Role
from imagelab.inspect import dpkg


@dataclass(frozen=True)
class Takes:
    """The downloads a stand-in is made with besides Debian's packages: the official Node.js, Go."""

    node: NodeRelease | None = None
    go: GoRelease | None = None


LABEL = "org.imagelab"
KEY_LABEL = f"{LABEL}.bases.key"
VERSION_LABEL = f"{LABEL}.version."  # then the package: org.imagelab.version.libc6
ARCHIVE_DATE_LABEL = f"{LABEL}.debian.archive-date"


def recipe(role: Role, sets: LocalSet, extra_ca: bytes, takes: Takes) -> dict:
    """How the image is made: its recipe files, Debian suite and mirror, CA, Node release (not its parent)."""
    recipe_files = [BASES_DIR / role.dockerfile, BASES_DIR / "label.Dockerfile"]
    if role.node:
        recipe_files.append(BASES_DIR / "docker-entrypoint.sh")
    made_from = {
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
    }
    if sets.debian.pockets:  # only then: a set of the release alone keeps the key (and images) it had
        made_from["sources"] = sets.debian.sources()
    if role.go and takes.go:  # only then: the other roles keep the keys (and images) they had
        made_from["go"] = takes.go.version
    if role.recipe == "rootfs" and sets.debian.usr_is_merged:  # likewise
        made_from["usr_is_merged"] = True
    return made_from


def key(role: Role, sets: LocalSet, extra_ca: bytes, takes: Takes, parent_id: str = "") -> str:
    """A digest of everything the image is made from; equal keys mean there is nothing to rebuild."""
    made_from = recipe(role, sets, extra_ca, takes)
    # The parent's content, not its id: an image's id differs between the classic and the containerd
    # image store, its layers and run settings do not.
    made_from["parent"] = engine.content_key(parent_id) if parent_id else None
    return hashlib.sha256(json.dumps(made_from, sort_keys=True).encode()).hexdigest()


def recipe_digest(
    role: Role, sets: LocalSet, extra_ca: bytes, takes: Takes, parent_labels: dict[str, str]
) -> str:
    """The recipe input of `bases --check`: the key's inputs with the parent's recipe instead of its
    content, which a rebuild changes (timestamps) without anything having moved."""
    made_from = recipe(role, sets, extra_ca, takes)
    made_from["parent"] = inputs.of_labels(parent_labels).get(inputs.RECIPE)
    return "sha256:" + hashlib.sha256(json.dumps(made_from, sort_keys=True).encode()).hexdigest()


#: The package versions worth a label: the ones a user of the role cares about ({python}: the set's).
VERSION_PACKAGES = (
    "python{python}",
    "libc6",
    "libssl3t64",
    "libssl3",
    "ca-certificates",
    "tzdata",
)


def installed(image: str) -> dict[str, str]:
    """Every package of the image and its version, from its dpkg records (works without a shell)."""
    return dpkg.installed(engine.read_files(image, dpkg.STATUS) or engine.read_files(image, dpkg.STATUS_D))


def versions(role: Role, sets: LocalSet, installed: dict[str, str], takes: Takes) -> dict[str, str]:
    """Versions of the packages that matter."""
    wanted = [name.format(python=sets.debian.python) for name in VERSION_PACKAGES]
    found = {name: installed[name] for name in wanted if name in installed}
    found["packages"] = str(len(installed))
    if role.node and takes.node:
        found["node"] = takes.node.version
        if role.recipe == "dockerfile":
            found["npm"] = takes.node.npm_version
    if role.go and takes.go:
        found["go"] = takes.go.version
    return found


def labels(
    role: Role,
    sets: LocalSet,
    key: str,
    versions: dict[str, str],
    archive_date: str,
    base_name: str = "",
    base_digest: str = "",
    made_from: dict[str, str] | None = None,
    epoch: int | None = None,
) -> dict[str, str]:
    """What a stand-in says about itself: what it stands in for, from which Debian, made from what
    (`key`, and `made_from`: the inputs `bases --check` compares), on which base image (`base_name`, ""
    for one made FROM scratch)."""
    # A reproducible image is dated by its archive's state, not by when this machine made it: "now"
    # would make every rebuild a new image.
    created = datetime.fromtimestamp(epoch, UTC) if epoch is not None else datetime.now(UTC)
    found = {
        f"{LABEL}.stands-in-for": role.official,
        f"{LABEL}.base-set": sets.name,
        f"{LABEL}.role": role.name,
        f"{LABEL}.debian.suite": sets.debian.suite,
        f"{LABEL}.debian.suites": " ".join(sets.debian.suites()),
        f"{LABEL}.debian.mirror": sets.debian.mirror,
        ARCHIVE_DATE_LABEL: archive_date,
        KEY_LABEL: key,
        "org.opencontainers.image.title": f"{role.tag}: local stand-in for {role.official}",
        "org.opencontainers.image.description": (
            f"Built locally by imagelab from Debian {sets.debian.suite} packages; not the official "
            f"{role.official} image, but with its interface (dockerfiles/bases/README.md)."
        ),
        "org.opencontainers.image.created": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "org.opencontainers.image.base.name": base_name or "scratch",
        "org.opencontainers.image.base.digest": base_digest,
        "org.opencontainers.image.vendor": "imagelab (local build)",
    }
    found.update({f"{VERSION_LABEL}{name}": value for name, value in versions.items()})
    found.update(inputs.as_labels(made_from or {}))
    return found
