"""One built image -> one ImageResult: what it costs (read from its own files) and whether it works.

The inspectors (inspect/) and the checks (checks/) each return their own results; this module is the
one place that turns them into the report's model, so a renamed field fails here, loudly.
"""

from __future__ import annotations

import ast
import hashlib
import statistics
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Literal

from imagelab import engine, vulns
from imagelab.apps import Variant
from imagelab.bases import inputs
from imagelab.checks import smoke, structure
from imagelab.engine.bake import TargetResult
from imagelab.inspect import closure, composition, exposure, imagefs, layers, origin, sizes
from imagelab.report.model import (
    BaseImage,
    CheckLines,
    ClosureFacts,
    EngineSizes,
    ExposureFacts,
    Failure,
    GoVulnFacts,
    ImageConfig,
    ImageResult,
    LayerFacts,
    LayerSize,
    OsFixFacts,
    PackageRef,
    ProvenanceBase,
    StartupFacts,
    SupportFacts,
    VulnData,
    VulnFacts,
)
from imagelab.vulns.findings import DataDate

PACKAGE = Path(__file__).parent
#: The code that makes a row: this module, what it reads images with, what it checks them with, what
#: scans them for vulnerabilities, and the row's model. compare remembers rows by image content and by
#: this code, so that an edit of it measures every image again instead of showing the old numbers as
#: "unchanged".
CODE = (
    PACKAGE / "image_result.py",
    *sorted((PACKAGE / "inspect").glob("*.py")),
    *sorted((PACKAGE / "checks").glob("*.py")),
    *sorted((PACKAGE / "vulns").glob("*.py")),
    PACKAGE / "report" / "model.py",
)


def code_fingerprint(files: Iterable[Path] = CODE) -> str:
    """A digest of the measuring code's syntax trees: an edit that can change a number changes it; a
    comment or a reformatting does not (measuring every image again costs minutes)."""
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0" + ast.dump(ast.parse(path.read_text())).encode())
    return digest.hexdigest()[:16]


def build_failure(variant: Variant, result: TargetResult) -> Failure:
    return Failure(
        "build",
        result.describe_failure(),
        hint=(
            "the failing step's log is below; build it alone with "
            f"`nox -s build -- --app {variant.app.name} --variant {variant.name}`"
        ),
        log=result.log,
    )


def measure_into(
    image: ImageResult,
    variant: Variant,
    compressed: sizes.CompressedSizes,
    scanner: vulns.Scanner | None = None,
) -> None:
    """Fill what the image costs, read from `docker save` of it (nothing in it runs), and, given the
    run's scanner, what a vulnerability scanner would say of it and of its base image's layers."""
    with imagefs.saved(variant.tag) as fs:
        path = variant.app.dockerfile(variant.name)
        facts = sizes.measure_image(
            variant.tag, path, variant.base_set.build_args(), fs, compressed, variant.base_set.replaced(path)
        )
        needs = closure.runtime_closure(fs)
        found = exposure.assess(fs)
        image.base_layers, in_base = origin.split(fs, [base.ref for base in facts.base_images])
        image.wasted_bytes, image.wasted_files = fs.wasted_bytes, fs.wasted_files
        image.dive_wasted_bytes, image.dive_efficiency = fs.dive.wasted_bytes, fs.dive.efficiency
        image.layer_details = [
            LayerFacts(layer.diff_id, layer.size, sizes.instruction(layer.created_by)) for layer in fs.layers
        ]
        image.config = ImageConfig(**asdict(fs.config))
        recorded = fs.provenance()
        image.provenance = None if recorded is None else [ProvenanceBase(m.ref, m.digest) for m in recorded]
        image.composition = dict(composition.compose(fs, variant.app.language).bytes)
        if scanner is not None:
            image.vulnerabilities = vulnerabilities(
                scanner.scan(fs), scanner.scan_base(fs, image.base_layers)
            )
        views = layers.views(fs, variant.app.dockerfile(variant.name).read_text(), image.base_layers)
    image.image_id, image.size, image.engine_size = facts.image_id, facts.size, facts.engine_size
    image.compressed_size, image.layers = facts.compressed_size, facts.layers
    image.engine_sizes = _engine_sizes(facts)
    image.largest_layers = [
        LayerSize(view.instruction, view.size, view.lines, view.origin) for view in layers.largest(views)
    ]
    image.base_images = [_base_image(base) for base in facts.base_images]
    image.closure_size = needs.size
    image.closure_ratio = round(facts.size / needs.size, 2) if needs.size else None
    image.closure = ClosureFacts(needs.program, needs.parts, needs.unresolved)
    image.exposure = _exposure(found, in_base)


def _engine_sizes(facts: sizes.ImageMeasure) -> EngineSizes:
    store: Literal["classic", "containerd"] = "containerd" if facts.store == "containerd" else "classic"
    listed = facts.listed
    if listed is None:  # the engine lost the image between the save and the listing
        return EngineSizes(store)
    return EngineSizes(store, listed.listed, listed.disk, listed.shared, listed.unique)


def vulnerabilities(found: vulns.Findings, base: vulns.Findings | None) -> VulnFacts:
    """The scan's findings as the report keeps them; `base`: the findings of the image's base layers
    (None: FROM scratch), which mark each fix and Go finding as the base's or the image's own."""
    os_in_base = {fix.key for fix in base.os_fixes} if base else set()
    go_in_base = {finding.key for finding in base.go} if base else set()
    return VulnFacts(
        fixable_cves=found.fixable_cves,
        fixable_packages=found.fixable_packages,
        go_vulns=found.go_vulns,
        support_limited=found.support_limited,
        release=found.release,
        os_fixes=[
            OsFixFacts(
                fix.package,
                fix.installed,
                fix.fixed,
                fix.suite,
                fix.source,
                list(fix.cves),
                fix.changelog_read,
                fix.key in os_in_base,
            )
            for fix in found.os_fixes
        ],
        go=[
            GoVulnFacts(
                g.id,
                g.binary,
                g.module,
                g.installed,
                g.fixed,
                list(g.aliases),
                g.called,
                g.key in go_in_base,
            )
            for g in found.go
        ],
        go_binaries=list(found.go_binaries),
        support=[SupportFacts(s.package, s.source, s.kind, s.note) for s in found.support],
        os_data=[_date(d) for d in found.os_data],
        go_data=_date(found.go_data) if found.go_data else None,
        support_data=_date(found.support_data) if found.support_data else None,
        not_covered=found.not_covered,
        notes=list(found.notes),
    )


def _date(data: DataDate) -> VulnData:
    return VulnData(data.source, f"{data.date:%Y-%m-%d}", data.offline)


def bases_of(variant: Variant) -> list[BaseImage]:
    """The images the variant's Dockerfile builds on, named for its base set: what a remembered row
    must say again, since two sets can make the very same image (a golden copy of a stand-in)."""
    path = variant.app.dockerfile(variant.name)
    found = origin.base_images(path, variant.base_set.build_args(), variant.base_set.replaced(path))
    return [_base_image(base) for base in found]


def _base_image(base: origin.StageBase) -> BaseImage:
    """A base as the report names it, with the inputs a local stand-in records in its labels: what lets
    `bases --check` on another machine tell a rebuilt stand-in from a moved one."""
    labels = engine.image_labels(base.ref) if base.id else None
    return BaseImage(**asdict(base), inputs=inputs.of_labels(labels))


def _exposure(found: exposure.Exposure, in_base: frozenset[exposure.Package]) -> ExposureFacts:
    """Counts and flags for the tables and the gate; the inventory for whoever wants the list."""
    return ExposureFacts(
        os_packages=found.os_packages,
        language_packages=found.language_packages,
        counts=found.counts,
        shell=found.has_shell,
        shells=found.shells,
        package_managers=found.package_managers,
        compilers=found.compilers,
        setuid_files=found.setuid_files,
        user=found.user,
        uid=found.uid,
        root=not found.non_root,
        inventory=[PackageRef(p.kind, p.name, p.version, p in in_base) for p in found.packages],
    )


def check_into(image: ImageResult, variant: Variant, run_id: str, starts: int = smoke.STARTS) -> None:
    """Run the image (smoke, and hardened where the variant promises it) and check its contract; a
    service is started `starts` times in all, to time its start-up."""
    smoked = smoke.check(variant, run_id, starts)
    contract = structure.check(variant)
    # The plain run's own verdict: a failed hardened run shows under "hardened", not twice.
    image.smoke = "pass" if smoked.passed_itself else "fail"
    if not variant.hardened:
        image.hardened = "n/a"
    elif smoked.hardened is not None:  # None: skipped, because the plain run failed already
        image.hardened = "pass" if smoked.hardened.passed else "fail"
    image.structure = "pass" if contract.passed else "fail"
    image.graceful_stop = smoked.graceful_stop
    if smoked.starts:
        image.startup = StartupFacts(
            [round(start.container_s, 3) for start in smoked.starts],
            [round(start.readiness_s, 3) for start in smoked.starts],
        )
        image.first_answer_seconds = round(statistics.median(image.startup.totals()), 2)
    image.memory_bytes = smoked.memory_bytes
    image.checks = CheckLines(smoke.summary(smoked), structure.summary(contract))
    image.failures += _smoke_failures(smoked)
    if not contract.passed:
        image.failures.append(
            Failure("structure", "; ".join(contract.problems()) or "no check ran", contract.hint)
        )


def _smoke_failures(smoked: smoke.SmokeResult) -> list[Failure]:
    found = []
    runs: tuple[tuple[smoke.SmokeResult | None, Literal["smoke", "hardened"]], ...] = (
        (smoked, "smoke"),
        (smoked.hardened, "hardened"),
    )
    for run, stage in runs:
        if run is not None and run.error:
            found.append(Failure(stage, run.error, run.hint, run.log_tail))
    return found
