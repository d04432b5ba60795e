"""Run `docker buildx bake` and read its progress stream (`--progress rawjson`) into per-target results.

BuildKit names every step of a multi-target bake "[<target> <stage> n/m] INSTRUCTION", so the stream tells
which target each step belongs to, when it started and ended, whether it came from the cache, and the
log of the step that failed.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from imagelab import process
from imagelab.engine.client import answers
from imagelab.errors import EngineError, tail

TARGET_OF_STEP = re.compile(r"^\[(?P<target>[A-Za-z0-9_.-]+)[ \]]")
#: A Dockerfile instruction that makes a layer, "[build 3/5] RUN ...", as opposed to BuildKit's own
#: "[internal] ..." steps and FROM, which only resolves an image and is never reported as cached.
INSTRUCTION = re.compile(r"\d+/\d+\] (?!FROM )")
CANCELED = "context canceled"
#: The step that ends a target: "exporting to image" (the engine's store, a push), or "exporting to oci
#: image format" / "docker image format" (an archive written to a file, as `repro` asks).
EXPORTING = re.compile(r"exporting to (image|oci image format|docker image format)")
#: How BuildKit v0.8 wraps an error that ends a solve: "failed to solve: rpc error: code = Unknown desc =
#: failed to solve with frontend dockerfile.v0: failed to create LLB definition: <the cause>".
WRAPPING = re.compile(
    r"^(failed to solve: )?(rpc error: code = \w+ desc = )?(failed to solve with frontend [\w.]+: )?"
    r"(failed to create LLB definition: )?"
)
#: A cold bake of the whole matrix takes about 20 minutes on 2 cores; past an hour something hangs.
BAKE_TIMEOUT_S = 3600


@dataclass
class Step:
    digest: str
    name: str
    started: datetime | None = None
    completed: datetime | None = None
    cached: bool = False
    error: str = ""
    inputs: tuple[str, ...] = ()  # digests of the steps this one builds on
    log: bytearray = field(default_factory=bytearray)

    @property
    def seconds(self) -> float:
        return (self.completed - self.started).total_seconds() if self.started and self.completed else 0.0

    @property
    def canceled(self) -> bool:
        return CANCELED in self.error


@dataclass
class TargetResult:
    """What one bake target did.

    In a parallel bake every target starts at once and shares two cores, so its wall-clock span says
    little about the target itself. `seconds` adds up the durations of the steps it needs instead: what
    building it cost. A step that several targets share (BuildKit runs it once) counts for each of them.
    """

    target: str
    ok: bool
    seconds: float = 0.0  # the durations of its steps, added up
    span_seconds: float = 0.0  # from its first step's start to its last step's end
    steps: int = 0
    cached_steps: int = 0
    ran_steps: int = 0  # Dockerfile instructions that ran instead of coming from the cache
    failed_step: str = ""
    error: str = ""
    log: list[str] = field(default_factory=list)

    def describe_failure(self) -> str:
        if self.failed_step:
            return f"{self.target}: step {self.failed_step} failed: {self.error}"
        return f"{self.target}: {self.error}"


def _without_target(name: str) -> str:
    """ "[app-slim 2/3] RUN ..." -> "[2/3] RUN ...", "[app-slim] exporting ..." -> "exporting ..."."""
    match = TARGET_OF_STEP.match(name)
    if not match:
        return name
    rest = name[match.end() :]
    return "[" + rest if match.group(0).endswith(" ") else rest.lstrip()


def _timestamp(text: str | None) -> datetime | None:
    if not text or text.startswith("0001-"):
        return None
    # BuildKit writes nanoseconds; datetime keeps microseconds.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text.replace("Z", "+00:00"))
    return datetime.fromisoformat(text)


def read_stream(lines: Iterable[str]) -> Iterator[dict | str]:
    """Split buildx's rawjson output into its JSON objects; any other line (e.g. 'ERROR: ...') as text.

    buildx 0.13 pretty-prints each object over many lines; newer releases (0.29 here) write one compact
    object a line. Both are read the same way: text from a line that opens an object until it decodes.
    """
    decoder = json.JSONDecoder()
    pending = ""
    for line in lines:
        if not pending and not line.lstrip().startswith("{"):
            if line.strip():
                yield line.rstrip("\n")
            continue
        pending += line
        try:
            item, end = decoder.raw_decode(pending.lstrip())
        except json.JSONDecodeError:
            continue  # the object goes on over the next lines
        yield item
        rest = pending.lstrip()[end:].strip()
        pending = ""
        if rest:  # never seen: text after an object on its line
            yield rest
    if pending.strip():  # the stream ended inside an object (buildx killed): keep it as text
        yield pending.strip()


class BakeRun:
    """Collects the steps of one bake as its stream arrives; calls `on_step(target, step)` when a step
    of a target starts, and `on_done` when a target is exported."""

    def __init__(
        self,
        targets: Iterable[str],
        on_done: Callable[[TargetResult], None] | None = None,
        on_step: Callable[[str, str], None] | None = None,
    ) -> None:
        self.targets = set(targets)
        # By digest and name: BuildKit gives every target's "exporting to image" step one digest.
        self.steps: dict[tuple[str, str], Step] = {}
        self.messages: list[str] = []
        self.on_done, self.on_step = on_done, on_step
        self._reported: set[str] = set()

    def feed(self, item: dict | str) -> None:
        if isinstance(item, str):
            self.messages.append(item)
            return
        for vertex in item.get("vertexes") or ():
            name = vertex.get("name", "")
            step = self.steps.setdefault((vertex["digest"], name), Step(vertex["digest"], name))
            step.started = _timestamp(vertex.get("started")) or step.started
            step.completed = _timestamp(vertex.get("completed")) or step.completed
            step.cached = step.cached or bool(vertex.get("cached"))
            step.error = vertex.get("error", step.error)
            step.inputs = tuple(vertex.get("inputs") or step.inputs)
            if step.completed and EXPORTING.search(step.name) and not step.error:
                self._report(self.target_of(step))
            elif self.on_step and step.started and not step.completed and not step.error:
                target = self.target_of(step)
                if target in self.targets:
                    self.on_step(target, _without_target(step.name) if len(self.targets) > 1 else step.name)
        for log in item.get("logs") or ():
            for step in self.steps.values():
                if step.digest == log["vertex"]:
                    step.log.extend(base64.b64decode(log.get("data") or ""))

    def target_of(self, step: Step) -> str:
        """BuildKit prefixes step names with the target only when a bake has several targets."""
        if len(self.targets) == 1:
            return next(iter(self.targets))
        match = TARGET_OF_STEP.match(step.name)
        return match["target"] if match else ""

    def _report(self, target: str) -> None:
        if self.on_done and target in self.targets and target not in self._reported:
            self._reported.add(target)
            self.on_done(self.result(target))

    def needed_by(self, own: list[Step]) -> list[Step]:
        """`own` and every step it builds on: a step shared with other targets, which BuildKit runs
        once under one target's name, counts for each target that needs it."""
        by_digest: dict[str, list[Step]] = {}
        for step in self.steps.values():
            by_digest.setdefault(step.digest, []).append(step)
        needed = {id(s): s for s in own}
        pending = [d for s in own for d in s.inputs]
        while pending:
            for step in by_digest.get(pending.pop(), ()):
                if id(step) not in needed:
                    needed[id(step)] = step
                    pending.extend(step.inputs)
        return list(needed.values())

    def result(self, target: str) -> TargetResult:
        own = [s for s in self.steps.values() if self.target_of(s) == target]
        failed = [s for s in own if s.error and not s.canceled]
        exported = any(EXPORTING.search(s.name) and s.completed and not s.error for s in own)
        starts = [s.started for s in own if s.started]
        ends = [s.completed for s in own if s.completed]
        result = TargetResult(
            target=target,
            ok=exported and not failed,
            seconds=sum(s.seconds for s in self.needed_by(own)),
            span_seconds=(max(ends) - min(starts)).total_seconds() if starts and ends else 0.0,
            steps=len(own),
            cached_steps=sum(s.cached for s in own),
            ran_steps=sum(not s.cached and bool(INSTRUCTION.search(s.name)) for s in own),
        )
        if failed:
            step = failed[0]
            result.failed_step = step.name
            result.error, result.log = step.error, tail(bytes(step.log))
        elif not exported:
            canceled = [s for s in own if s.canceled]
            result.error = "canceled when another target failed" if canceled else self.solve_error()
            result.log = tail("\n".join(self.messages))
        return result

    def solve_error(self) -> str:
        """What BuildKit said when the build failed before any step (a Dockerfile that does not parse,
        a base image it cannot resolve): its last ERROR line, without the layers of RPC wrapping."""
        said = [m for m in self.messages if m.startswith("ERROR:")]
        if not said:
            return "did not finish"
        return WRAPPING.sub("", said[-1].removeprefix("ERROR:").strip())


def bake(
    bake_file: Path,
    targets: list[str],
    builder: str | None = None,
    on_done: Callable[[TargetResult], None] | None = None,
    timeout_s: float = BAKE_TIMEOUT_S,
    on_step: Callable[[str, str], None] | None = None,
    context: str | None = None,
) -> dict[str, TargetResult]:
    """One `docker buildx bake` of `targets`; every target gets a result, built or not.

    Contexts in the bake file are relative to the bake file's folder, so it runs from there. `context`:
    a Docker context whose engine builds (buildx takes its builder only with `docker --context`).
    """
    engine = ["--context", context] if context else []
    command = ["docker", *engine, "buildx", "bake", "--file", str(bake_file), "--progress", "rawjson"]
    if builder:
        command += ["--builder", builder]
    run = BakeRun(targets, on_done, on_step)
    # Ctrl-C, SIGTERM or the time limit: the runner stops buildx, which cancels the build in BuildKit
    # (nothing is tagged: an image is exported only once its target is complete).
    with process.stream(
        [*command, *targets], timeout=timeout_s, what="docker buildx bake", cwd=bake_file.parent
    ) as running:
        for item in read_stream(running.lines()):
            run.feed(item)
    return {target: run.result(target) for target in targets}


def bare_bake(bake_file: Path, timeout_s: float = BAKE_TIMEOUT_S) -> None:
    """`docker buildx bake --progress quiet` of the file's default group, nothing read: what a person
    typing the command gets, for the benchmark to compare the harness with."""
    command = ["docker", "buildx", "bake", "--file", str(bake_file), "--progress", "quiet"]
    process.run(command, timeout=timeout_s, what="docker buildx bake", cwd=bake_file.parent)


def bake_all(
    bake_file: Path,
    targets: list[str],
    builder: str | None = None,
    on_done: Callable[[TargetResult], None] | None = None,
    on_step: Callable[[str, str], None] | None = None,
    context: str | None = None,
) -> dict[str, TargetResult]:
    """Bake every target; one failure must not stop the others.

    BuildKit cancels the whole bake when one target fails, so bake again without the targets that failed
    on their own: what was already built comes from the cache. A target whose export failed is baked
    again, once: that step is the image store's, not the Dockerfile's (Docker 28.5's containerd store
    now and then loses a blob when several targets export at once: "error writing data blob ...").
    """
    results: dict[str, TargetResult] = {}
    remaining = list(targets)
    exported_again: set[str] = set()
    for _ in range(2 * len(targets)):
        if not remaining:
            break
        round_results = bake(bake_file, remaining, builder, on_done, on_step=on_step, context=context)
        if not all(r.ok for r in round_results.values()) and not answers():
            # Every target would fail the same way, and so would everything after the build.
            raise EngineError(
                "the Docker engine stopped answering during the build",
                hint="is dockerd still running (`docker info`)?",
                log=next(r.log for r in round_results.values() if not r.ok),
            )
        again = [t for t, r in round_results.items() if _export_failed(r) and t not in exported_again]
        exported_again.update(again)
        failed = [t for t, r in round_results.items() if r.failed_step and t not in again]
        results.update({t: r for t, r in round_results.items() if (r.ok or r.failed_step) and t not in again})
        leftover = [t for t, r in round_results.items() if not r.ok and not r.failed_step]
        if not failed and not again:
            if len(leftover) > 1 and not any(r.ok for r in round_results.values()):
                # Nothing built and no step failed: BuildKit refused the whole bake before it began (one
                # Dockerfile that does not parse does that). Alone, each target says whether it is the one.
                for target in leftover:
                    results.update(
                        bake(bake_file, [target], builder, on_done, on_step=on_step, context=context)
                    )
                break
            results.update({t: round_results[t] for t in leftover})
            break
        remaining = leftover + again
    return results


def _export_failed(result: TargetResult) -> bool:
    """The target's own steps built, and writing the image into the store failed."""
    return not result.ok and EXPORTING.search(result.failed_step) is not None
