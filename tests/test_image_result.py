"""One built image's row made from what measuring and the checks returned: image_result.assemble.
Hand-made facts and verdicts only; nothing is built or run."""

from __future__ import annotations

from dataclasses import fields

from reports import exposure, failed, fix, vulns

from imagelab import apps, bases, image_result
from imagelab.image_costs import Measured
from imagelab.image_verdicts import Checked
from imagelab.report import jsonfile
from imagelab.report.model import (
    BaseImage,
    CheckLines,
    ClosureFacts,
    EngineSizes,
    ImageConfig,
    ImageResult,
    LayerFacts,
    LayerSize,
    ProvenanceBase,
    StartupFacts,
)
from imagelab.report.model import Run as Report

VARIANT = apps.Variant(apps.discover()["go-href"], "distroless", bases.open_set("debian"))
#: What the pipeline sets on every row after the assembly (when and from what it was built, its
#: build times, its share of the naive image): none of these come from measuring or the checks.
SET_BY_THE_RUN = {
    "measured_at",
    "revision",
    "share_of_naive",
    "build_seconds",
    "rebuild_seconds",
    "rebuild_steps_ran",
}


def measured() -> Measured:
    return Measured(
        image_id="sha256:1d",
        size=9_000_000,
        engine_size=9_100_000,
        engine_sizes=EngineSizes("containerd", 3_000_000, 9_100_000, 2_000_000, 7_100_000),
        compressed_size=3_000_000,
        layers=3,
        largest_layers=[LayerSize("COPY /out/server /server", 7_000_000, "22", "dockerfile")],
        layer_details=[
            LayerFacts("sha256:a", 2_000_000, "FROM static"),
            LayerFacts("sha256:b", 7_000_000, "COPY"),
        ],
        base_layers=1,
        config=ImageConfig(user="65532", entrypoint=["/server"]),
        base_images=[
            BaseImage("127.0.0.1:5000/imagelab-bases/static:debian13", "sha256:5", written="static")
        ],
        provenance=[ProvenanceBase("127.0.0.1:5000/imagelab-bases/static", "sha256:d")],
        closure_size=8_000_000,
        closure_ratio=1.12,
        closure=ClosureFacts("/server", {"program": 8_000_000}, []),
        wasted_bytes=0,
        wasted_files=0,
        dive_wasted_bytes=0,
        dive_efficiency=1.0,
        composition={"program": 8_000_000, "os": 1_000_000},
        exposure=exposure(os_packages=3, shell=False, shells=[], package_managers=[], root=False, uid=65532),
        vulnerabilities=vulns(fix("libc6", "CVE-2026-1")),
    )


def checked(*failures) -> Checked:
    return Checked(
        smoke="fail" if failures else "pass",
        structure="pass",
        hardened="pass",
        graceful_stop=True,
        startup=StartupFacts([0.1, 0.12, 0.11], [0.2, 0.21, 0.3]),
        first_answer_seconds=0.32,
        memory_bytes=4_000_000,
        checks=CheckLines(["GET / -> 200"], ["3 checks passed"]),
        failures=tuple(failures),
    )


def test_the_row_holds_the_variants_name_every_measured_fact_and_every_verdict() -> None:
    facts, verdicts = measured(), checked()
    row = image_result.assemble(VARIANT, facts, verdicts)
    assert (row.app, row.variant, row.base_set, row.tag) == ("go-href", "distroless", "debian", VARIANT.tag)
    assert row.built and row.ok and row.error == "" and row.failures == []
    for found in fields(facts):
        assert getattr(row, found.name) == getattr(facts, found.name), found.name
    for found in fields(verdicts):
        assert getattr(row, found.name) == (
            list(verdicts.failures) if found.name == "failures" else getattr(verdicts, found.name)
        )


def test_every_failure_a_check_returned_is_in_the_row_and_in_its_one_line_summary() -> None:
    smoke = failed("smoke", "GET / answered 500", "its log is below", ("panic: boom",))
    structure = failed("structure", "/etc/passwd: user 65532 missing")
    row = image_result.assemble(VARIANT, measured(), checked(smoke, structure))
    assert row.failures == [smoke, structure] and not row.ok
    assert row.error == "smoke: GET / answered 500; structure: /etc/passwd: user 65532 missing"


def test_no_field_of_the_row_is_left_to_chance() -> None:
    """A field added to ImageResult is filled by measuring, by the checks, or by the run: not silently
    left at its default by the assembly."""
    named = set(image_result.identity(VARIANT)) | {"built", "error"}
    filled = {f.name for f in fields(Measured)} | {f.name for f in fields(Checked)}
    assert {f.name for f in fields(ImageResult)} == named | filled | SET_BY_THE_RUN


def test_an_assembled_row_reads_back_from_compare_json_unchanged() -> None:
    row = image_result.assemble(VARIANT, measured(), checked(failed("smoke", "no answer")))
    report = Report("2026-12-06T10:00:00Z", "0123", "debian", "stand-ins", "Docker", images=[row])
    assert jsonfile.loads(jsonfile.dumps(report)).images == [row]
