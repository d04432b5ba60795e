"""What one built image costs, read from `docker save` of it (nothing in it runs): its sizes, layers,
closure, exposure and, given a scanner, its vulnerabilities, returned as one Measured value.

The inspectors (inspect/) and the scanner (vulns/) each return their own results; this module turns
them into the report's field types, so image_result.assemble only puts returned values together.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

from imagelab import engine, vulns
from imagelab.apps import Variant
from imagelab.bases import inputs
from imagelab.inspect import closure, composition, exposure, imagefs, layers, origin, sizes
from imagelab.report.model import (
    BaseImage,
    ClosureFacts,
    EngineSizes,
    ExposureFacts,
    ImageConfig,
    LayerFacts,
    LayerSize,
    PackageRef,
    ProvenanceBase,
)
from imagelab.report.vuln_facts import GoVulnFacts, OsFixFacts, SupportFacts, VulnData, VulnFacts
from imagelab.vulns.findings import DataDate


@dataclass(frozen=True)
class Measured:
    """What an image costs, read from `docker save` of it (nothing in it runs): every ImageResult field
    that measuring fills, and nothing else."""

    image_id: str
    size: int
    engine_size: int | None
    engine_sizes: EngineSizes
    compressed_size: int | None
    layers: int
    largest_layers: list[LayerSize]
    layer_details: list[LayerFacts]
    base_layers: int
    config: ImageConfig
    base_images: list[BaseImage]
    provenance: list[ProvenanceBase] | None
    closure_size: int
    closure_ratio: float | None
    closure: ClosureFacts
    wasted_bytes: int
    wasted_files: int
    dive_wasted_bytes: int
    dive_efficiency: float
    composition: dict[str, int]
    exposure: ExposureFacts
    vulnerabilities: VulnFacts | None  # None: the run had no scanner


def measure(
    variant: Variant, compressed: sizes.CompressedSizes, scanner: vulns.Scanner | None = None
) -> Measured:
    """What the image costs, read from `docker save` of it, and, given the run's scanner, what a
    vulnerability scanner would say of it and of its base image's layers."""
    with imagefs.saved(variant.tag) as fs:
        path = variant.app.dockerfile(variant.name)
        facts = sizes.measure_image(
            variant.tag, path, variant.base_set.build_args(), fs, compressed, variant.base_set.replaced(path)
        )
        needs = closure.runtime_closure(fs)
        found = exposure.assess(fs)
        base_layers, in_base = origin.split(fs, [base.ref for base in facts.base_images])
        recorded = fs.provenance()
        scanned = None
        if scanner is not None:
            scanned = vulnerabilities(scanner.scan(fs), scanner.scan_base(fs, base_layers))
        views = layers.views(fs, path.read_text(), base_layers)
        return Measured(
            image_id=facts.image_id,
            size=facts.size,
            engine_size=facts.engine_size,
            engine_sizes=_engine_sizes(facts),
            compressed_size=facts.compressed_size,
            layers=facts.layers,
            largest_layers=[
                LayerSize(view.instruction, view.size, view.lines, view.origin)
                for view in layers.largest(views)
            ],
            layer_details=[
                LayerFacts(layer.diff_id, layer.size, sizes.instruction(layer.created_by))
                for layer in fs.layers
            ],
            base_layers=base_layers,
            config=ImageConfig(**asdict(fs.config)),
            base_images=[_base_image(base) for base in facts.base_images],
            provenance=None if recorded is None else [ProvenanceBase(m.ref, m.digest) for m in recorded],
            closure_size=needs.size,
            closure_ratio=round(facts.size / needs.size, 2) if needs.size else None,
            closure=ClosureFacts(needs.program, needs.parts, needs.unresolved),
            wasted_bytes=fs.wasted_bytes,
            wasted_files=fs.wasted_files,
            dive_wasted_bytes=fs.dive.wasted_bytes,
            dive_efficiency=fs.dive.efficiency,
            composition=dict(composition.compose(fs, variant.app.language).bytes),
            exposure=_exposure(found, in_base),
            vulnerabilities=scanned,
        )


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
