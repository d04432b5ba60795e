"""Build the matrix: a bake file from the selected variants, one `docker buildx bake`, results per image."""

from __future__ import annotations

import functools
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from imagelab import ROOT, bases, dockerfile, engine
from imagelab.apps import App, Variant
from imagelab.bases.sets import BaseSet
from imagelab.engine import bootstrap
from imagelab.engine.bake import TargetResult, bake_all
from imagelab.errors import ConfigError, EngineError
from imagelab.revision import git_revision, source_date
from imagelab.terminal import terminal

#: Scratch space of the harness (git ignores it): bake files and exported images.
SCRATCH = ROOT / ".imagelab"
TEST_STAGE = "test"


@dataclass
class Built:
    """One variant after the build, and what its bake target did."""

    variant: Variant
    result: TargetResult


def labels(variant: Variant, revision: str, base_set: BaseSet) -> dict[str, str]:
    """The image's labels: what it is, and what it was built on -- the OCI base annotations name the
    final stage's base by reference and digest (as regclient's `image check-base` reads them)."""
    app = variant.app
    found = {
        "org.opencontainers.image.title": f"imagelab {app.name} ({variant.name})",
        "org.opencontainers.image.description": app.description,
        "org.opencontainers.image.revision": revision,
        "org.opencontainers.image.source": f"apps/{app.name} + dockerfiles/{app.name}/{variant.name}.Dockerfile",
        "org.imagelab.app": app.name,
        "org.imagelab.variant": variant.name,
        "org.imagelab.base-set": base_set.name,
        "org.imagelab.base-set.note": base_set.description,
    }
    role = bases.final_role(app.dockerfile(variant.name), base_set)
    base = base_set.image(role)
    if base is not None:
        found["org.opencontainers.image.base.name"] = base.ref
        found["org.opencontainers.image.base.digest"] = base.digest
    elif role == "scratch":
        found["org.opencontainers.image.base.name"] = "scratch"
    return found


def check_base_roles(path: Path, build_args: dict[str, str]) -> None:
    """Refuse, before any build, a Dockerfile whose FROM asks for a build argument that no base set
    gives and that has no default: BuildKit would only say "base name should not be blank"."""
    instructions = dockerfile.parse_dockerfile(path.read_text())
    defaults = dockerfile.arg_defaults(instructions)
    for written, _ in dockerfile.froms(instructions):
        name = dockerfile.VARIABLE.match(written)
        if name and name[1] not in build_args and name[1] not in defaults:
            raise ConfigError(
                f"{path}: FROM ${{{name[1]}}} asks for a base role that no base set defines",
                hint=f"roles: {', '.join(sorted(build_args))}; or give the ARG a default",
            )


#: Named contexts (bake's `contexts`, `--build-context`) came with BuildKit v0.10 (Dockerfile 1.4).
CONTEXTS_BUILDKIT = (0, 10)
#: The first Docker Engine whose built-in BuildKit has them (23.0 vendors BuildKit 0.11): what an
#: engine that does not say its BuildKit version (a distribution's build: "v0.0.0+unknown") is judged by.
CONTEXTS_ENGINE = 23
VERSION = re.compile(r"v?(\d+)\.(\d+)")


def require_named_contexts(found: bootstrap.EngineInfo) -> None:
    """Refuse an engine whose BuildKit has no named contexts, naming the version found and the one needed."""
    needed = ".".join(map(str, CONTEXTS_BUILDKIT))
    buildkit = VERSION.match(found.buildkit)
    if buildkit and (int(buildkit[1]), int(buildkit[2])) != (0, 0):
        if (int(buildkit[1]), int(buildkit[2])) >= CONTEXTS_BUILDKIT:
            return
        have = f"BuildKit {found.buildkit}"
    else:  # the builder does not say: the engine's version tells which BuildKit it has built in
        engine_major = VERSION.match(found.server)
        if engine_major and int(engine_major[1]) >= CONTEXTS_ENGINE:
            return
        have = f"the BuildKit built into Docker {found.server} (before {CONTEXTS_ENGINE}.0: 0.8 or older)"
    raise EngineError(
        f"a Dockerfile with plain FROMs needs BuildKit {needed} or newer for named contexts; this engine has {have}",
        hint=f"use Docker {CONTEXTS_ENGINE} or newer (or a buildx builder with a newer BuildKit), "
        "or write the base as a build argument: ARG PYTHON_IMAGE=python:3.13 then FROM ${PYTHON_IMAGE}",
    )


@functools.cache  # once a process: three calls to the engine
def _engine() -> bootstrap.EngineInfo:
    return bootstrap.info()


def _target(app: App, path: Path, base_set: BaseSet, tag: str, extra: dict | None = None) -> dict:
    check_base_roles(path, base_set.build_args())
    # BuildKit reads SOURCE_DATE_EPOCH as a build argument; it dates the image, not the steps' cache
    # keys (seen: a new value leaves every RUN cached), so a new commit rebuilds nothing.
    args = {**base_set.build_args(), "SOURCE_DATE_EPOCH": str(source_date().epoch)}
    # A plain FROM python:3.13-slim (or COPY --from=, RUN --mount=from=) gets the set's image by a
    # named context; the ARG form gets it by its build argument. Unmapped references stop here.
    contexts = base_set.contexts(path)
    return {
        # Relative to the bake file in SCRATCH, so the file also runs on a remote builder from a checkout.
        "context": os.path.relpath(app.folder, SCRATCH),
        "dockerfile": os.path.relpath(path, app.folder),
        "args": args,
        **({"contexts": contexts} if contexts else {}),
        "tags": [tag],
        **(extra or {}),
    }


def bake_definition(variants: list[Variant], base_set: BaseSet) -> dict:
    revision = git_revision()
    targets = {
        v.target: _target(
            v.app, v.app.dockerfile(v.name), base_set, v.tag, {"labels": labels(v, revision, base_set)}
        )
        for v in variants
    }
    return {"group": {"default": {"targets": list(targets)}}, "target": targets}


def tests_definition(apps: list[App], base_set: BaseSet) -> dict:
    """The `test` stage of each app's multistage Dockerfile: the app's own suite, in its build image."""
    targets = {
        f"{app.name}-{TEST_STAGE}": _target(
            app,
            app.dockerfile("multistage"),
            base_set,
            f"imagelab/{app.name}:{TEST_STAGE}-{base_set.name}",
            {"target": TEST_STAGE},
        )
        for app in apps
    }
    return {"group": {"default": {"targets": list(targets)}}, "target": targets}


def ensure_bases(base_set: BaseSet) -> BaseSet:
    """The set with every role resolved to a digest, its local stand-ins built and pushed first
    (about a second when they are); a set the command line already resolved is taken as it is. The
    command line opens the set (bases.open_set); from there down it is the loaded BaseSet."""
    if base_set.resolved:
        return base_set
    return _resolved(base_set)


@functools.cache  # once a process: resolving reads every base image's labels and digests
def _resolved(base_set: BaseSet) -> BaseSet:
    return bases.resolve(base_set).base_set


def write_bake_file(definition: dict, name: str = "docker-bake.json") -> Path:
    SCRATCH.mkdir(exist_ok=True)
    path = SCRATCH / name
    path.write_text(json.dumps(definition, indent=2) + "\n")
    return path


def _built_line(result: TargetResult) -> str:
    return f"  built {result.target} in {result.seconds:.1f} s ({result.cached_steps}/{result.steps} steps cached)"


def run_bake(
    definition: dict, name: str, builder: str | None, quiet: bool = False, context: str | None = None
) -> dict[str, TargetResult]:
    """One `docker buildx bake` of a definition written to SCRATCH/`name`, with live progress (none when
    `quiet`); each target's result, its failure printed with its log."""
    targets = list(definition["target"])
    if any("contexts" in target for target in definition["target"].values()):
        require_named_contexts(_engine())
    # On a terminal: targets done of total, each running target's current step, elapsed time.
    with terminal.progress(f"building {len(targets)} images", [] if quiet else targets) as shown:
        results = bake_all(
            write_bake_file(definition, name),
            targets,
            builder,
            None if quiet else lambda result: shown.finish(result.target, _built_line(result)),
            on_step=shown.doing,
            context=context,
        )
    for result in results.values():
        if not result.ok:
            terminal.error(result.describe_failure() + "".join(f"\n  | {line}" for line in result.log))
    return results


def build(
    variants: list[Variant], base_set: BaseSet, builder: str | None = None, context: str | None = None
) -> list[Built]:
    """Bake the variants in one bake; a failed target does not stop the others. `context`: build on
    the engine of that Docker context instead (engine/transfer.py brings the images back)."""
    base_set = ensure_bases(base_set)
    where = f" on the engine of context '{context}'" if context else ""
    terminal.step(
        f"building {len(variants)} images on the '{base_set.name}' base set with docker buildx bake{where}"
    )
    results = run_bake(bake_definition(variants, base_set), "docker-bake.json", builder, context=context)
    return [Built(v, results[v.target]) for v in variants]


#: How `oci_archives` exports: BuildKit rewrites every file's timestamp newer than SOURCE_DATE_EPOCH
#: to it, in the layers the build made (moby/buildkit#4805: once in the base's too); layers stay
#: uncompressed, so a layer's digest is its diff id and the archive is read without unpacking.
OCI_OUTPUT = "type=oci,dest={dest},rewrite-timestamp=true,compression=uncompressed"


def oci_archives(
    variants: list[Variant], base_set: BaseSet, folder: Path, name: str, context: str | None = None
) -> dict[str, tuple[TargetResult, Path]]:
    """Each variant built with no cache into an OCI archive in `folder` (`<target>.tar`), timestamps
    rewritten, no provenance: by target, what the bake did and the archive.

    Only an engine with the containerd image store (or a builder of its own) can export OCI archives;
    the classic store's builder refuses the exporter. The provenance attestation is left out because
    it records when the build ran: it differs every time by design."""
    folder.mkdir(parents=True, exist_ok=True)
    definition = bake_definition(variants, base_set)
    archives = {}
    for target, spec in definition["target"].items():
        archives[target] = folder / f"{target}.tar"
        archives[target].unlink(missing_ok=True)  # a failed build must not leave an older archive
        spec["no-cache"] = True
        spec["output"] = [OCI_OUTPUT.format(dest=archives[target])]
        spec["attest"] = ["type=provenance,disabled=true"]
    results = run_bake(definition, name, None, context=context)
    return {target: (results[target], archives[target]) for target in definition["target"]}


def cold_builds(
    variants: list[Variant], base_set: BaseSet, builder: str | None = None
) -> dict[str, TargetResult]:
    """Each variant built alone from an empty BuildKit cache: what its Dockerfile costs on its own.

    In one parallel bake BuildKit runs a step that several Dockerfiles share once and reports it as
    cached for the others, and they share a download cache; alone, each pays for all of its steps.
    """
    base_set = ensure_bases(base_set)
    terminal.step(f"building {len(variants)} images one by one from an empty cache, for cold build times")
    results = {}
    for variant in variants:
        engine.prune_build_cache()
        results.update(run_bake(bake_definition([variant], base_set), "docker-bake.cold.json", builder))
    return results


def test_apps(apps: list[App], base_set: BaseSet, builder: str | None = None) -> dict[str, TargetResult]:
    """Run each app's own test suite by building its `test` stage; results by app name."""
    base_set = ensure_bases(base_set)
    terminal.step(f"running the test suites of {', '.join(a.name for a in apps)} in their build images")
    results = run_bake(tests_definition(apps, base_set), "docker-bake.tests.json", builder)
    return {app.name: results[f"{app.name}-{TEST_STAGE}"] for app in apps}
