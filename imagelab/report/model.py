"""The compare report as data: a run, its images, and what was measured and checked about each.

compare fills these objects; every renderer (terminal, Markdown, chart), the gate and the bump report
read them. `imagelab.report.jsonfile` turns them into compare.json and back, and publishes the JSON
Schema that file follows (results/compare.schema.json), so a renamed field is an error, not a "-".

Sizes are bytes; a figure the run could not measure is None (`null` in the JSON). What a scanner would
say of an image, its VulnFacts, is in report/vuln_facts.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from imagelab.report.strict import STRICT
from imagelab.report.vuln_facts import VulnFacts

SCHEMA = 2  # 2: the package inventory written one line a package (report/jsonfile.py)
#: A check's verdict. "n/a": the check does not apply to this variant (hardened runs are for
#: distroless and minimal); None: not run (the image did not build).
Verdict = Literal["pass", "fail", "n/a"]
#: The checks every image goes through, in the order the tables show them.
CHECKS = ("smoke", "structure", "hardened")


@dataclass
class Failure:
    """Why an image failed one stage: what a person needs to act, with the end of the relevant log."""

    __pydantic_config__ = STRICT

    stage: Literal["build", "smoke", "hardened", "structure", "measure"]
    cause: str  # one line
    hint: str = ""
    log: list[str] = field(default_factory=list)  # the last lines of the build step's or container's log

    def headline(self) -> str:
        return f"{self.stage}: {self.cause}"


@dataclass
class LayerSize:
    __pydantic_config__ = STRICT

    instruction: str  # the Dockerfile instruction that made the layer (a base image's: its history's)
    size: int
    line: str = ""  # its line(s) in the variant's Dockerfile, "12" or "12-15"; a base layer's FROM line
    origin: Literal["dockerfile", "base", "unknown"] = "unknown"  # see inspect/layers.py


@dataclass
class LayerFacts:
    """One layer, bottom first: enough to tell a base image's layers from the image's own."""

    __pydantic_config__ = STRICT

    diff_id: str  # sha256 of the layer's uncompressed tar: equal ids, equal layers
    size: int
    instruction: str


@dataclass
class ImageConfig:
    """How a container of the image runs, as its config says."""

    __pydantic_config__ = STRICT

    user: str = ""
    entrypoint: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    working_dir: str = ""
    exposed_ports: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)


@dataclass
class BaseImage:
    __pydantic_config__ = STRICT

    ref: str  # what the stage was built on: build arguments applied, or the set's image in place of a plain one
    id: str  # the local image id ("" when the engine does not have it)
    digest: str = ""  # the registry digest it resolved to ("" for an image that never was in a registry)
    written: str = (
        ""  # as the Dockerfile names it (FROM, COPY --from=, a mount): python:3.13-slim, ${PYTHON_IMAGE}
    )
    line: int = 0  # the Dockerfile's first line that names it (0: measured before this was recorded)
    # A local stand-in's recorded inputs (its org.imagelab.inputs.* labels: packages, recipe, archive);
    # {} for other images and for reports made before they were recorded.
    inputs: dict[str, str] = field(default_factory=dict)


@dataclass
class EngineSizes:
    """The image as the engine that holds it lists it, beside the report's own sizes (report/sizes.py
    says why they differ). Bytes; the CLI prints them in decimal units (MB, 10^6 bytes)."""

    __pydantic_config__ = STRICT

    store: Literal["classic", "containerd"]  # the engine's image store when it was measured
    listed: int | None = None  # `docker images` SIZE
    disk: int | None = None  # `docker system df -v` SIZE
    #: `docker system df -v` SHARED SIZE and UNIQUE SIZE: the bytes other images of that engine hold
    #: too, and the rest. They follow what else is on the engine then; None when it did not compute them.
    shared: int | None = None
    unique: int | None = None


@dataclass
class ProvenanceBase:
    """An image the build's provenance attestation records (inspect/provenance.py)."""

    __pydantic_config__ = STRICT

    ref: str  # as the attestation names it, without the digest
    digest: str


@dataclass
class ClosureFacts:
    """What the runtime closure counted (inspect/closure.py): the smallest image that runs the app."""

    __pydantic_config__ = STRICT

    program: str = ""
    parts: dict[str, int] = field(default_factory=dict)
    unresolved: list[str] = field(default_factory=list)


@dataclass
class PackageRef:
    __pydantic_config__ = STRICT

    kind: str  # deb, python, npm or go
    name: str
    version: str
    #: True when the final stage's base image has it at this version (it came with the base); False when
    #: the image's own layers brought it; None when not known (measured before this was recorded).
    in_base: bool | None = None


@dataclass
class ExposureFacts:
    """What the image exposes to a scanner and to an attacker (inspect/exposure.py)."""

    __pydantic_config__ = STRICT

    os_packages: int
    language_packages: int
    counts: dict[str, int]
    shell: bool
    shells: list[str]
    package_managers: list[str]
    compilers: list[str]
    setuid_files: list[str]
    user: str
    uid: int | None
    root: bool
    inventory: list[PackageRef] = field(default_factory=list)


@dataclass
class StartupFacts:
    """Start-up over several starts of a service (checks/smoke.py), seconds, one entry a start in order:
    the engine's part and the app's, so that a difference between two images can be told from noise."""

    __pydantic_config__ = STRICT

    container_seconds: list[float]  # create + start, until the engine reports it running
    readiness_seconds: list[float]  # from running to the first good answer

    def totals(self) -> list[float]:
        return [a + b for a, b in zip(self.container_seconds, self.readiness_seconds, strict=True)]

    @property
    def count(self) -> int:
        return len(self.container_seconds)


@dataclass
class CheckLines:
    """The checks' own summary lines, as `nox -s smoke` prints them."""

    __pydantic_config__ = STRICT

    smoke: list[str] = field(default_factory=list)
    structure: list[str] = field(default_factory=list)


@dataclass
class ImageResult:
    """One app x variant on one base set: whether it built, what it measures, whether it works."""

    __pydantic_config__ = STRICT

    app: str
    variant: str
    base_set: str
    tag: str
    built: bool
    error: str = ""  # every failure's headline, "; "-joined ("" when none): the one-line summary
    failures: list[Failure] = field(default_factory=list)
    measured_at: str = ""  # UTC time of the run that measured this row
    revision: str = ""  # the git commit it was built from
    # What it costs
    image_id: str = ""
    #: Bytes of the files of all its layers, unpacked (wasted ones included): the same on every engine.
    size: int | None = None
    #: What the engine that built it calls its Size (`docker image inspect`): on the classic store its
    #: unpacked layers as stored, on the containerd store its compressed content.
    engine_size: int | None = None
    #: What `docker images` and `docker system df -v` print for it (None: measured before this was recorded).
    engine_sizes: EngineSizes | None = None
    compressed_size: int | None = None
    layers: int | None = None
    largest_layers: list[LayerSize] = field(default_factory=list)
    layer_details: list[LayerFacts] = field(default_factory=list)
    #: How many of the leading layers are the final stage's base image's (equal diff_ids): the rest are
    #: the image's own. 0 for an image FROM scratch; None when not known (measured before this was recorded).
    base_layers: int | None = None
    config: ImageConfig | None = None
    base_images: list[BaseImage] = field(default_factory=list)
    #: The images the build's provenance attestation records by digest, BuildKit's word on the bases
    #: beside the harness's; None when the image carries none (the classic store keeps none): not "none".
    provenance: list[ProvenanceBase] | None = None
    share_of_naive: float | None = None
    closure_size: int | None = None
    closure_ratio: float | None = None
    closure: ClosureFacts | None = None
    wasted_bytes: int | None = None
    wasted_files: int | None = None
    #: dive's own "potential wasted space" and "image efficiency" (inspect/dive.py), for whoever holds the
    #: report beside `dive IMAGE`: dive counts every copy of a path seen in two layers, the surviving one too.
    dive_wasted_bytes: int | None = None
    dive_efficiency: float | None = None
    # Where the bytes go: kind -> bytes, every kind of inspect/composition.KINDS; adds up to `size`.
    composition: dict[str, int] = field(default_factory=dict)
    build_seconds: float | None = None
    rebuild_seconds: float | None = None
    rebuild_steps_ran: int | None = None
    # Whether it works
    #: From create to the first good answer: the median of `startup`'s starts (one start before that
    #: was recorded, counted from the container's start).
    first_answer_seconds: float | None = None
    startup: StartupFacts | None = None  # every timed start, split into the engine's part and the app's
    memory_bytes: int | None = None
    smoke: Verdict | None = None
    structure: Verdict | None = None
    hardened: Verdict | None = None
    graceful_stop: bool | None = None
    checks: CheckLines = field(default_factory=CheckLines)
    exposure: ExposureFacts | None = None
    vulnerabilities: VulnFacts | None = None  # None: not scanned (measured before scans were recorded)

    @property
    def key(self) -> str:
        """How the gate and the bump report name an image."""
        return f"{self.app}/{self.variant} ({self.base_set})"

    @property
    def ok(self) -> bool:
        return (
            self.built and not self.failures and all(self.verdict(c) in ("pass", "n/a", None) for c in CHECKS)
        )

    def verdict(self, check: str) -> Verdict | None:
        return getattr(self, check)


@dataclass
class Timings:
    __pydantic_config__ = STRICT

    build_phase_seconds: float | None = None
    total_seconds: float | None = None


@dataclass
class Run:
    """One compare run: the images of the selected apps and variants on one base set."""

    __pydantic_config__ = STRICT

    generated: str  # UTC, ISO 8601
    revision: str
    base_set: str
    base_set_note: str  # what that set is; a local stand-in says so
    engine: str
    images: list[ImageResult] = field(default_factory=list)
    timings: Timings = field(default_factory=Timings)
    schema: int = SCHEMA
    tool: str = ""

    def by_app(self) -> dict[str, list[ImageResult]]:
        grouped: dict[str, list[ImageResult]] = {}
        for image in self.images:
            grouped.setdefault(image.app, []).append(image)
        return grouped

    def image(self, app: str, variant: str) -> ImageResult | None:
        return next((i for i in self.images if i.app == app and i.variant == variant), None)
