"""What a smoke run found (checks/smoke.py runs it): each start's timing, the probes' answers, the
job's exit and output, the failure with its hint and log, and the plain lines the CLI prints for it.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from imagelab.checks.probes import ProbeResult


@dataclass(frozen=True)
class StartTiming:
    """One start of a service, split where the engine's work ends and the app's begins."""

    container_s: float  # create + start, until the engine reports it running
    readiness_s: float  # from running to the first good answer: the app's own start-up

    @property
    def total_s(self) -> float:
        return self.container_s + self.readiness_s


@dataclass
class SmokeResult:
    """One image started once. For a hardened variant `hardened` holds its --read-only run, which is
    skipped (None) when the plain run failed already."""

    app: str
    variant: str
    base_set: str
    tag: str
    read_only: bool = False  # True for the hardened run itself
    started_ok: bool = False  # the service answered / the job exited within its bound
    seconds_to_first_answer: float | None = None  # the first start's, create to first good answer
    starts: list[StartTiming] = field(default_factory=list)  # every timed start, the first included
    memory_bytes: int | None = None
    probes: list[ProbeResult] = field(default_factory=list)
    job_exit_code: int | None = None
    job_output: str | None = None
    graceful_stop: bool | None = None  # services only, recorded (a report shows it), not a failure
    stop: str = ""  # how `docker stop` went, e.g. "exit 0 after 0.3 s"
    hardened: SmokeResult | None = None
    error: str = ""
    hint: str = ""
    exit_code: int | None = None  # the container's, when it ended on its own
    log_tail: list[str] = field(default_factory=list)

    @property
    def passed_itself(self) -> bool:
        """This run alone, without the hardened run it may hold."""
        return self.started_ok and not self.error and all(p.passed for p in self.probes)

    @property
    def passed(self) -> bool:
        return self.passed_itself and (self.hardened is None or self.hardened.passed)

    def problems(self) -> list[str]:
        """One line per failure, the hardened run's included."""
        found = [self.error] if self.error else []
        if self.hardened is not None:
            found += [f"hardened run: {line}" for line in self.hardened.problems()]
        return found


def summary(result: SmokeResult) -> list[str]:
    """Plain lines for the CLI: the verdict, then what went wrong, with the hint and the log tail."""
    lines = []
    for run in (result, result.hardened):
        if run is None:
            continue
        name = "hardened" if run.read_only else "smoke"
        facts = []
        if len(run.starts) > 1:
            totals = sorted(start.total_s for start in run.starts)
            engine_part = statistics.median(start.container_s for start in run.starts)
            app_part = statistics.median(start.readiness_s for start in run.starts)
            facts.append(
                f"first answer {statistics.median(totals):.2f} s, median of {len(totals)} starts "
                f"({totals[0]:.2f}-{totals[-1]:.2f}; engine {engine_part:.2f} s, app {app_part:.2f} s)"
            )
        elif run.seconds_to_first_answer is not None:
            facts.append(f"first answer {run.seconds_to_first_answer:.2f} s")
        if run.probes:
            facts.append(f"{sum(p.passed for p in run.probes)}/{len(run.probes)} probes")
        if run.memory_bytes is not None:
            facts.append(f"{run.memory_bytes / 2**20:.1f} MiB")
        if run.job_exit_code is not None:
            facts.append(f"exit {run.job_exit_code}")
        if run.stop:
            facts.append(("stopped gracefully: " if run.graceful_stop else "NOT graceful: ") + run.stop)
        verdict = "pass" if run.started_ok and not run.error else "FAIL"
        lines.append(f"{name}: {verdict}" + (f" ({', '.join(facts)})" if facts else ""))
        if run.error:
            lines.append(f"  error: {run.error}")
            if run.hint:
                lines.append(f"  hint: {run.hint}")
            lines += [f"  | {line}" for line in run.log_tail]
    return lines
