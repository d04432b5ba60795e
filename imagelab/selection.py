"""The images a run is about: the images of the build matrix its selectors name (apps.Variant), on one loaded base set.

Jobs (compare, bump, build, smoke, explain) start from here with typed arguments; the command line only
turns its flags into them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from imagelab import apps, bases, build, engine, needs
from imagelab.apps import Variant
from imagelab.bases.sets import BaseSet
from imagelab.engine import bootstrap
from imagelab.errors import EngineError
from imagelab.terminal import terminal


def ensure_engine() -> bootstrap.EngineInfo:
    """Every job that needs the engine starts here, so a fresh machine needs nothing run before."""
    return supported(bootstrap.ensure_engine(log=terminal.step))


def supported(found: bootstrap.EngineInfo) -> bootstrap.EngineInfo:
    """`found`, unless it is older than imagelab runs on: then one line naming both versions, before any
    build fails on it in a way that names neither."""
    why = needs.unsupported(found.server, found.api, found.buildx)
    if why:
        raise EngineError(
            why,
            hint="upgrade Docker (and its buildx plugin), or, as root on Debian with no engine running, "
            "let `nox -s engine` start a supported one",
        )
    return found


def variants(
    base_set: BaseSet,
    app_names: Iterable[str] = (),
    variant_names: Iterable[str] = (),
    resolve: bool = False,
    elsewhere: bool = False,
) -> list[Variant]:
    """The images (apps.Variant) the selectors name on `base_set` (all of them when none are given).

    `elsewhere`: another engine builds them, so this one's version does not leave any out.
    `resolve` also makes the set's images available and resolves every role the variants use to a digest
    (building and pushing the local stand-ins). A variant whose base the set lacks is reported and left
    out: it is not in this base set, which is no failure."""
    # A role bases.toml does not know is a typo, not a variant this set leaves out: refuse it by name.
    every_role = {bases.arg_of(role): role for role in bases.load_recipes().roles}
    found = []
    for variant in apps.select(apps.discover(), app_names, variant_names, base_set):
        build.check_base_roles(variant.app.dockerfile(variant.name), every_role)
        missing = base_set.missing(variant.app.dockerfile(variant.name))
        if missing:
            terminal.info(
                f"{variant.app.name}/{variant.name}: not in this base set ({base_set.name} has no {', '.join(missing)})"
            )
        else:
            found.append(variant)
    if resolve and found:
        ensure_engine()
        if not elsewhere:  # another engine builds (--builder, --build-on): its version is not ours to judge
            found = within_this_engine(found)
        used = {
            role
            for variant in found
            for role in bases.roles_of(variant.app.dockerfile(variant.name), base_set)
        }
        base_set = bases.resolve(base_set, sorted(used)).base_set
        found = [dataclasses.replace(variant, base_set=base_set) for variant in found]
    return found


def within_this_engine(found: list[Variant], say: bool = True) -> list[Variant]:
    """The variants this engine's version builds. A Dockerfile newer than the engine is left out, as a
    variant the set lacks is: not a failure; `say` prints one line for each."""
    version = engine.versions()
    found, left_out = needs.within_engine(found, version["Version"], version["ApiVersion"])
    for line in left_out if say else []:
        terminal.info(line)
    return found
