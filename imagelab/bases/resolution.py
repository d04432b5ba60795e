"""Every role of a base set resolved to a digest, the local stand-ins built and pushed first.

A reference into the project's registry (`{registry}/imagelab-bases/<role>:<tag>`) whose tag is a local
set of bases.toml is a stand-in this machine makes: it is built (cached) and pushed, unless the registry
already holds exactly that image (bases/local.py). Every other reference is resolved in its own registry without
pulling (skopeo). A pinned reference is taken as written. Builds then ask for `name@sha256:...`.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from imagelab.bases.local import StandIn, build_local
from imagelab.bases.recipes import LocalSet, Recipes, load_recipes
from imagelab.bases.sets import BaseSet, RoleImage, where
from imagelab.engine import registry
from imagelab.errors import ConfigError
from imagelab.terminal import terminal

RESOLVE_THREADS = 8  # skopeo calls at once: each waits on the network, not the CPU


@dataclass
class Resolved:
    """A set with every role's digest, and what `nox -s bases` did for its local stand-ins."""

    base_set: BaseSet
    stand_ins: list[StandIn]
    pushed: list[str]  # roles pushed to the registry this time


def local_stand_ins(base_set: BaseSet, recipes: Recipes) -> dict[str, tuple[LocalSet, str]]:
    """role -> (the local set whose recipe makes it, the role built) for the set's local references."""
    found = {}
    for image in base_set.images:
        repository = image.local_repository
        if not repository or image.pin:
            continue
        role, tag = repository.rsplit("/", 1)[-1], image.ref.rsplit(":", 1)[-1]
        local_set = recipes.by_tag(tag)
        if local_set is None or role not in local_set.roles:
            raise ConfigError(
                f"{where(base_set, image)}: no local set of {recipes.path.name} builds {role}:{tag}",
                hint=f"local images: imagelab-bases/<role>:<{'|'.join(s.debian.tag for s in recipes.sets.values())}>",
            )
        found[image.role] = (local_set, role)
    return found


def resolve(
    base_set: BaseSet,
    roles: list[str] | None = None,
    ca_file: Path | None = None,
    rebuild: bool = False,
    log: Callable[[str], None] = terminal.step,
) -> Resolved:
    """Make `base_set`'s local stand-ins available in the registry and resolve every role to a digest.

    `roles`: only these (and, for stand-ins, what they build on); default all of the set's."""
    wanted = [i for i in base_set.images if roles is None or i.role in roles]
    recipes = load_recipes()
    local = {
        role: made
        for role, made in local_stand_ins(base_set, recipes).items()
        if roles is None or role in roles
    }
    stand_ins: list[StandIn] = []
    digests: dict[str, str] = {}
    pushed: list[str] = []
    if local:
        by_set: dict[str, list[str]] = {}
        for local_set, role in local.values():
            by_set.setdefault(local_set.name, []).append(role)
        built: dict[tuple[str, str], StandIn] = {}
        for name, names in by_set.items():
            for stand_in in build_local(
                names, ca_file=ca_file, rebuild=rebuild, sets=recipes.sets[name], log=log
            ):
                built[(name, stand_in.role)] = stand_in
        stand_ins = list(built.values())
        for role, (local_set, made) in local.items():
            digests[role] = built[(local_set.name, made)].digest
        pushed = [role for role, (local_set, made) in local.items() if built[(local_set.name, made)].pushed]
    remote = [i for i in wanted if i.role not in local and not i.pin]
    with ThreadPoolExecutor(max_workers=RESOLVE_THREADS) as pool:
        for image, digest in zip(remote, pool.map(lambda i: _remote(base_set, i), remote), strict=True):
            digests[image.role] = digest
    return Resolved(base_set.with_digests(digests), stand_ins, pushed)


def _remote(base_set: BaseSet, image: RoleImage) -> str:
    try:
        return registry.remote_digest(image.ref)
    except registry.RegistryError as exc:
        raise ConfigError(
            f"{where(base_set, image)}: {exc.cause}",
            hint="is its registry reachable from here? a set may pin `ref@sha256:...` instead",
        ) from exc
