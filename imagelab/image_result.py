"""One built image -> one ImageResult: what it costs (image_costs.measure) and whether it works
(image_verdicts.check), each returned as a value; `assemble` is the one place they become a row, so a
renamed field fails here, loudly (mypy and the constructor both name it).
"""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import TypedDict

from imagelab.apps import Variant
from imagelab.engine.bake import TargetResult
from imagelab.image_costs import Measured
from imagelab.image_verdicts import Checked
from imagelab.report.model import Failure, ImageResult

PACKAGE = Path(__file__).parent
#: The code that makes a row: these modules, what they read images with, what they check them with, what
#: scans them for vulnerabilities, and the row's model. compare remembers rows by image content and by
#: this code, so that an edit of it measures every image again instead of showing the old numbers as
#: "unchanged".
CODE = (
    PACKAGE / "image_result.py",
    PACKAGE / "image_costs.py",
    PACKAGE / "image_verdicts.py",
    *sorted((PACKAGE / "inspect").glob("*.py")),
    *sorted((PACKAGE / "checks").glob("*.py")),
    *sorted((PACKAGE / "vulns").glob("*.py")),
    PACKAGE / "report" / "model.py",
    PACKAGE / "report" / "vuln_facts.py",
    PACKAGE / "report" / "strict.py",
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


def assemble(variant: Variant, measured: Measured, checked: Checked) -> ImageResult:
    """A built image's row: its name, what measuring returned, what the checks returned, and the one-line
    summary of every failure."""
    failures = list(checked.failures)
    return ImageResult(
        **identity(variant),
        built=True,
        error="; ".join(f.headline() for f in failures),
        failures=failures,
        # What it costs
        image_id=measured.image_id,
        size=measured.size,
        engine_size=measured.engine_size,
        engine_sizes=measured.engine_sizes,
        compressed_size=measured.compressed_size,
        layers=measured.layers,
        largest_layers=measured.largest_layers,
        layer_details=measured.layer_details,
        base_layers=measured.base_layers,
        config=measured.config,
        base_images=measured.base_images,
        provenance=measured.provenance,
        closure_size=measured.closure_size,
        closure_ratio=measured.closure_ratio,
        closure=measured.closure,
        wasted_bytes=measured.wasted_bytes,
        wasted_files=measured.wasted_files,
        dive_wasted_bytes=measured.dive_wasted_bytes,
        dive_efficiency=measured.dive_efficiency,
        composition=measured.composition,
        exposure=measured.exposure,
        vulnerabilities=measured.vulnerabilities,
        # Whether it works
        first_answer_seconds=checked.first_answer_seconds,
        startup=checked.startup,
        memory_bytes=checked.memory_bytes,
        smoke=checked.smoke,
        structure=checked.structure,
        hardened=checked.hardened,
        graceful_stop=checked.graceful_stop,
        checks=checked.checks,
    )


class Identity(TypedDict):
    """What names a row: the fields an ImageResult takes from its variant."""

    app: str
    variant: str
    base_set: str
    tag: str


def identity(variant: Variant) -> Identity:
    return {
        "app": variant.app.name,
        "variant": variant.name,
        "base_set": variant.base_set.name,
        "tag": variant.tag,
    }
