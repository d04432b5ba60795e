"""The compare pipeline: build the matrix, time a rebuild, smoke-test and measure every image, report, gate.

The data's path: commands/compare.py opens the base set once and reads the flags into Options;
selection.py turns the set and the selectors into variants (apps.Variant), the set resolved to digests ->
build.py bakes them (engine/bake.py reads BuildKit's stream into TargetResults) -> image_costs.measure
reads each built image's files (inspect/, vulns/) and image_verdicts.check runs it (checks/), each
returning a value -> image_result.assemble makes the report.model.ImageResult -> a report.model.Run ->
report/files.py writes compare.md, compare.json and the chart; report/gate.py compares with a baseline.
`run` returns the report it wrote, so bump measures a base set through it.

What an image measures depends only on its content and on the measuring code, so measurements are
remembered by a key of the image's layers and run configuration (not its id: the revision label changes
the id at every commit) and by image_result.code_fingerprint().
A warm compare -- nothing changed -- then only asks BuildKit whether anything changed and renders.
`--fresh` measures everything again.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TypedDict

import pydantic

from imagelab import (
    ROOT,
    __version__,
    build,
    engine,
    image_costs,
    image_result,
    image_verdicts,
    rebuild_timing,
    remote_build,
    vulns,
)
from imagelab.apps import Variant
from imagelab.bases.sets import BaseSet
from imagelab.checks import smoke
from imagelab.engine.bake import TargetResult
from imagelab.errors import ConfigError
from imagelab.inspect import sizes
from imagelab.report import files, gate, history, lessons, markdown, table
from imagelab.report.model import ImageResult, Run, Timings
from imagelab.revision import git_revision
from imagelab.terminal import terminal

RESULTS = ROOT / "results"
CACHE = build.SCRATCH / "cache"
README = ROOT / "README.md"
#: The pages whose figures come from the report: the walk-through, and its French counterpart for the
#: course's readers.
LESSONS = (ROOT / "docs" / "lessons.md", ROOT / "docs" / "lessons.fr.md")
MEASURE_WORKERS = 2


@dataclass
class Options:
    base_set: BaseSet  # the variants' set, resolved by the selection (bump and the command line alike)
    builder: str | None = None
    build_on: str | None = None  # a Docker context: build there, hand over through the registry
    baseline: Path | None = None
    update_baseline: bool = False
    update_readme: bool = False
    fresh: bool = False
    cold: bool = False
    rebuild_timing: bool = True  # bump leaves it out: it reports no rebuild times, and they cost most
    thresholds: gate.Thresholds = field(default_factory=gate.Thresholds)
    results: Path = RESULTS
    history: Path | None = None  # a full run (every image) appends itself to this history.jsonl
    accepted: Path = RESULTS / "accepted.toml"  # reviewed changes the gate accepts until their date
    starts: int = smoke.STARTS  # how many times each service starts, for its start-up figure


class Memory:
    """What was measured, by image content key and the measuring code that measured it
    (image_result.code_fingerprint), kept between runs in .imagelab/cache/measured.json."""

    _ROWS = pydantic.TypeAdapter(dict[str, ImageResult])

    def __init__(self, path: Path, forget: bool, code: str) -> None:
        """`forget` (--fresh): recall nothing, but keep the other images' rows when saving: a fresh run
        of one app or base set must not make the next run of another measure everything again.
        `code`: the measuring code's fingerprint; rows another code measured are neither recalled nor kept."""
        self.path, self.forget, self.code = path, forget, code
        self.rows: dict[str, ImageResult] = {}
        if path.exists():
            try:
                rows = self._ROWS.validate_json(path.read_bytes())
            except (pydantic.ValidationError, ValueError):
                rows = {}  # a cache, not a record: start over
            self.rows = {key: row for key, row in rows.items() if key.startswith(f"{code}:")}

    def recall(self, key: str | None) -> ImageResult | None:
        found = self.rows.get(f"{self.code}:{key}") if key and not self.forget else None
        # A failure may have been passing trouble (a slow machine): check again. A row measured before
        # base layers (or the composition) were recorded is measured again, once, so that bump can split
        # base from own and the report can say where the bytes go.
        stale = found is not None and (found.base_layers is None or not found.composition)
        return None if found is None or found.failures or not found.ok or stale else found

    def remember(self, key: str, image: ImageResult) -> None:
        self.rows[f"{self.code}:{key}"] = image

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_bytes(self._ROWS.dump_json(self.rows))


@dataclass(frozen=True)
class Outcome:
    """What a compare made: the report it wrote (this run's rows and the earlier rows it kept) and its
    exit status (1: an image failed, or the gate did). A compare that could not finish raises instead."""

    report: Run
    status: int


def run(variants: list[Variant], options: Options) -> Outcome:
    """The whole job. Results replace the previous ones only when complete."""
    if not variants:  # every variant was left out by the selection, each with its reason
        raise ConfigError(
            f"no variant chosen can build on base set {options.base_set.name}",
            hint="each was left out above with the role the set lacks; choose another --bases",
        )
    started = time.monotonic()
    memory = Memory(CACHE / "measured.json", forget=options.fresh, code=image_result.code_fingerprint())
    # before the clock starts (the build phase times the images only); every role by digest from here on
    options = replace(options, base_set=build.ensure_bases(options.base_set))
    cold = build.cold_builds(variants, options.base_set, options.builder) if options.cold else {}
    build_started = time.monotonic()
    if options.build_on:
        built = remote_build.build_on(options.build_on, variants, options.base_set)
    else:
        built = build.build(variants, options.base_set, options.builder)
    build_seconds = time.monotonic() - build_started
    keys = {b.variant.target: engine.content_key(b.variant.tag) for b in built if b.result.ok}
    rebuilds = _time_rebuilds(built, keys, memory, options) if options.rebuild_timing else {}
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    revision = git_revision()
    run_id = smoke.new_run_id()
    compressed = sizes.CompressedSizes(CACHE / "compressed-layers.json")
    known = {
        item.variant.target: _known(item, memory.recall(keys.get(item.variant.target))) for item in built
    }
    to_measure = [item for item in built if known[item.variant.target] is None]  # built, not measured before
    # One scanner a run: each index, changelog and Go database is fetched once for every image.
    measured = _measure_all(to_measure, compressed, vulns.Scanner())
    made = {}
    with terminal.progress(
        "smoke and structure tests", [item.variant.target for item in to_measure]
    ) as shown:
        for item in to_measure:
            terminal.step(f"smoke and structure tests of {item.variant.tag}")
            shown.doing(item.variant.target, "smoke and structure tests")
            checked = image_verdicts.check(item.variant, run_id, options.starts)
            made[item.variant.target] = image_result.assemble(
                item.variant, measured[item.variant.target], checked
            )
            shown.finish(item.variant.target)
    images = []
    for item in built:
        target = item.variant.target
        row = known[target] or made[target]
        image = replace(
            row,
            measured_at=now,
            revision=revision,
            **_build_times(item.result, cold.get(target), rebuilds.get(target)),
        )
        if target in keys:
            memory.remember(keys[target], image)
        images.append(image)
    memory.save()
    result = Run(
        generated=now,
        revision=revision,
        base_set=options.base_set.name,
        base_set_note=options.base_set.description,
        engine=engine.describe(),
        images=images,
        tool=f"imagelab {__version__}",
        timings=Timings(round(build_seconds, 1), round(time.monotonic() - started, 1)),
    )
    return _finish(result, options)


def _known(item: build.Built, remembered: ImageResult | None) -> ImageResult | None:
    """The image's row when there is nothing to measure: its build failed, or this very content was
    measured before. None: it is to be measured and checked."""
    variant = item.variant
    if not item.result.ok:
        failure = image_result.build_failure(variant, item.result)
        return ImageResult(
            **image_result.identity(variant), built=False, error=failure.headline(), failures=[failure]
        )
    if remembered is not None:
        terminal.info(f"  {variant.target}: unchanged since it was last measured")
        return replace(
            remembered,
            **image_result.identity(variant),
            built=True,
            base_images=image_costs.bases_of(variant),
        )
    return None


def _measure_all(
    images: list[build.Built],
    compressed: sizes.CompressedSizes,
    scanner: vulns.Scanner | None = None,
) -> dict[str, image_costs.Measured]:
    """Measure the images MEASURE_WORKERS at a time. Each is mostly the engine writing `docker save`
    and Python reading it, so two at once keep both cores busy (a cold run's measuring took 30 % less).
    The checks run after, one image at a time: start-up time and memory are measured on a quiet machine."""
    targets = [item.variant.target for item in images]
    with (
        terminal.progress("measuring", targets) as shown,
        ThreadPoolExecutor(MEASURE_WORKERS, thread_name_prefix="measure") as pool,
    ):

        def one(item: build.Built) -> image_costs.Measured:
            terminal.step(f"measuring {item.variant.tag}")
            shown.doing(item.variant.target, "docker save, then reading its layers")
            measured = image_costs.measure(item.variant, compressed, scanner)
            shown.finish(item.variant.target)
            return measured

        futures = {item.variant.target: pool.submit(one, item) for item in images}
        try:
            return {target: future.result() for target, future in futures.items()}
        except BaseException:  # a failure or Ctrl-C: start no other image
            for future in futures.values():
                future.cancel()
            raise


class BuildTimes(TypedDict, total=False):
    """The build figures this run measured; a figure left out keeps the row's earlier one."""

    build_seconds: float
    rebuild_seconds: float
    rebuild_steps_ran: int


def _build_times(result: TargetResult, cold: TargetResult | None, rebuild: TargetResult | None) -> BuildTimes:
    # Best: the image built alone from an empty cache (--cold); else the steps it ran in this bake. A build
    # whose steps all came from the cache says nothing about build time: keep the last real one.
    times: BuildTimes = {}
    if cold is not None and cold.ok:
        times["build_seconds"] = round(cold.seconds, 1)
    elif result.ok and result.ran_steps:
        times["build_seconds"] = round(result.seconds, 1)
    if rebuild is not None and rebuild.ok:
        times["rebuild_seconds"] = round(rebuild.seconds, 1)
        times["rebuild_steps_ran"] = rebuild.ran_steps
    return times


def _time_rebuilds(
    built: list[build.Built], keys: dict[str, str], memory: Memory, options: Options
) -> dict[str, TargetResult]:
    """Time a source-only rebuild of the images whose rebuild time is not known yet."""
    wanted = []
    for item in built:
        known = memory.recall(keys.get(item.variant.target))
        if item.result.ok and (known is None or known.rebuild_seconds is None):
            wanted.append(item.variant)
    if not wanted:
        return {}
    return rebuild_timing.time_rebuild(wanted, options.base_set, options.builder, context=options.build_on)


def _shares(run: Run) -> None:
    naive = {i.app: i.size for i in run.images if i.variant == "naive" and i.size}
    for image in run.images:
        reference = naive.get(image.app)
        image.share_of_naive = round(image.size / reference, 3) if image.size and reference else None


def _finish(result: Run, options: Options) -> Outcome:
    report = files.merged_with_earlier(result, options.results)
    _shares(report)
    for rich_table in table.tables(report):
        terminal.out.print(rich_table)
    terminal.info(markdown.base_set_line(report))
    written = files.write_all(report, options.results)
    kept = len(report.images) - len(result.images)
    terminal.info(
        "wrote "
        + ", ".join(_shown(p) for p in written)
        + (f" (kept {kept} rows of earlier runs that this one did not measure)" if kept else "")
    )
    if options.update_readme:
        # The README's tables and the lessons' figures come from the same full report.
        files.update_readme(report, README)
        for page in LESSONS:
            # A figure of another base set quotes the committed report of that set (bump writes them).
            lessons.update_lessons(page, report, sets_dir=RESULTS / "sets")
        terminal.info(f"updated {_shown(README)}, " + " and ".join(_shown(page) for page in LESSONS))
    if options.history is not None:
        history.append(result, options.history)
    status = 0
    for image in result.images:
        if not image.ok:
            status = 1
            for line in table.failure_lines(image):
                terminal.error(line)
    if options.update_baseline:
        baseline_path = options.baseline or options.results / "baseline.json"
        baseline_path.write_text(files.jsonfile.dumps(report))
        terminal.info(f"wrote the baseline {baseline_path}")
    elif options.baseline is not None:
        status = max(status, _gate(result, options))
    failed = sum(not i.ok for i in result.images)
    terminal.info(
        f"compare took {result.timings.total_seconds:.0f} s (build phase {result.timings.build_phase_seconds:.0f} s)"
        + (f"; {failed} of {len(result.images)} images failed (above)" if failed else "")
    )
    return Outcome(report, status)


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _gate(result: Run, options: Options) -> int:
    assert options.baseline is not None
    return table.gate_verdict(
        result, options.baseline, gate.load(options.baseline), options.thresholds, options.accepted
    )
