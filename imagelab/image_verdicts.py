"""Whether one built image works: smoke (and hardened) runs and its structure contract, returned as
one Checked value of verdicts, start-up figures and failures.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Literal

from imagelab.apps import Variant
from imagelab.checks import smoke, smoke_result, structure
from imagelab.report.model import CheckLines, Failure, StartupFacts, Verdict


@dataclass(frozen=True)
class Checked:
    """The checks' verdicts on a running image: every ImageResult field that checking fills."""

    smoke: Verdict
    structure: Verdict
    hardened: Verdict | None  # None: skipped, because the plain run failed already
    graceful_stop: bool | None
    startup: StartupFacts | None
    first_answer_seconds: float | None  # the median of `startup`'s starts
    memory_bytes: int | None
    checks: CheckLines
    failures: tuple[Failure, ...]


def check(variant: Variant, run_id: str, starts: int = smoke.STARTS) -> Checked:
    """Run the image (smoke, and hardened where the variant promises it) and check its contract; a
    service is started `starts` times in all, to time its start-up."""
    smoked = smoke.check(variant, run_id, starts)
    contract = structure.check(variant)
    hardened: Verdict | None = None
    if not variant.hardened:
        hardened = "n/a"
    elif smoked.hardened is not None:
        hardened = "pass" if smoked.hardened.passed else "fail"
    startup = None
    if smoked.starts:
        startup = StartupFacts(
            [round(start.container_s, 3) for start in smoked.starts],
            [round(start.readiness_s, 3) for start in smoked.starts],
        )
    failures = _smoke_failures(smoked)
    if not contract.passed:
        failures.append(Failure("structure", "; ".join(contract.problems()) or "no check ran", contract.hint))
    return Checked(
        # The plain run's own verdict: a failed hardened run shows under "hardened", not twice.
        smoke="pass" if smoked.passed_itself else "fail",
        structure="pass" if contract.passed else "fail",
        hardened=hardened,
        graceful_stop=smoked.graceful_stop,
        startup=startup,
        first_answer_seconds=round(statistics.median(startup.totals()), 2) if startup else None,
        memory_bytes=smoked.memory_bytes,
        checks=CheckLines(smoke_result.summary(smoked), structure.summary(contract)),
        failures=tuple(failures),
    )


def _smoke_failures(smoked: smoke_result.SmokeResult) -> list[Failure]:
    found = []
    runs: tuple[tuple[smoke_result.SmokeResult | None, Literal["smoke", "hardened"]], ...] = (
        (smoked, "smoke"),
        (smoked.hardened, "hardened"),
    )
    for run, stage in runs:
        if run is not None and run.error:
            found.append(Failure(stage, run.error, run.hint, run.log_tail))
    return found
