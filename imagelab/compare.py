"""The compare job: build the matrix, time a rebuild, smoke-test and measure every image, report, gate.

What an image measures depends only on its content, so measurements are remembered by a key of the
image's layers and run configuration (not its id: the revision label changes the id at every commit).
A warm compare -- nothing changed -- then only asks BuildKit whether anything changed and renders.
`--fresh` measures everything again.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from imagelab import ROOT, __version__, bases, build, engine
from imagelab.apps import Variant
from imagelab.checks import smoke, structure
from imagelab.engine.bake import TargetResult
from imagelab.errors import ImagelabError
from imagelab.inspect import closure, exposure, imagefs, measure
from imagelab.report import gate
from imagelab.report import render as report
from imagelab.terminal import terminal

SCHEMA = gate.SCHEMA
RESULTS = ROOT / "results"
CACHE = build.SCRATCH / "cache"
README = ROOT / "README.md"
README_BEGIN, README_END = "<!-- results:begin -->", "<!-- results:end -->"


@dataclass
class Options:
    base_set: str | bases.BaseSet
    builder: str | None = None
    baseline: Path | None = None
    update_baseline: bool = False
    update_readme: bool = False
    fresh: bool = False
    cold: bool = False
    thresholds: gate.Thresholds = field(default_factory=gate.Thresholds)
    results: Path = RESULTS


class Memory:
    """Measurements by image content key, kept between runs in .imagelab/cache/images.json."""

    def __init__(self, path: Path, forget: bool) -> None:
        self.path = path
        self.rows: dict[str, dict] = {}
        if path.exists() and not forget:
            try:
                self.rows = json.loads(path.read_text())
            except json.JSONDecodeError:
                self.rows = {}  # a cache, not a record: start over

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(self.rows, indent=1, sort_keys=True))


def content_key(tag: str) -> str:
    """What the image holds and how it runs; labels left out."""
    attrs = engine.client().images.get(tag).attrs
    config = attrs.get("Config") or {}
    runs = {k: config.get(k) for k in ("Entrypoint", "Cmd", "User", "Env", "ExposedPorts", "WorkingDir")}
    text = json.dumps({"layers": attrs["RootFS"]["Layers"], "config": runs}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def run(cells: list[Variant], options: Options) -> int:
    """The whole job; returns the exit status. Results replace the previous ones only when complete."""
    started = time.monotonic()
    memory = Memory(CACHE / "images.json", forget=options.fresh)
    # before the clock starts (the build phase times the images only); every role by digest from here on
    options.base_set = build.ensure_bases(options.base_set)
    cold = build.cold_builds(cells, options.base_set, options.builder) if options.cold else {}
    build_started = time.monotonic()
    built = build.build(cells, options.base_set, options.builder)
    build_seconds = time.monotonic() - build_started
    keys = {b.variant.target: content_key(b.variant.tag) for b in built if b.result.ok}
    rebuilds = _time_rebuilds(built, keys, memory, options)
    run_id = smoke.new_run_id()
    compressed = measure.CompressedSizes(CACHE / "compressed-layers.json")
    rows = []
    for item in built:
        key = keys.get(item.variant.target)
        remembered = memory.rows.get(key, {}) if key else {}
        if any(remembered.get(check) == "fail" for check in CHECKS):
            remembered = {}  # a failure may have been passing trouble: check again
        target = item.variant.target
        row = _row(item, remembered, cold.get(target), rebuilds.get(target), run_id, compressed)
        if key:
            memory.rows[key] = {k: v for k, v in row.items() if k not in IDENTITY}
        rows.append(row)
    memory.save()
    _shares(rows)
    result = {
        "schema": SCHEMA,
        "tool": f"imagelab {__version__}",
        "generated": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "revision": build.git_revision(),
        "base_set": options.base_set.name,
        "base_set_note": options.base_set.description,
        "engine": _engine_name(),
        "timings": {
            "build_phase_seconds": round(build_seconds, 1),
            "total_seconds": round(time.monotonic() - started, 1),
        },
        "images": rows,
    }
    return _finish(result, options)


#: Fields that say which image a row is and whether it built; the rest is what was measured about it.
IDENTITY = ("app", "variant", "base_set", "tag", "built")
CHECKS = ("smoke", "structure", "hardened")


def _row(
    item: build.Built,
    remembered: dict,
    cold: TargetResult | None,
    rebuild: TargetResult | None,
    run_id: str,
    compressed: measure.CompressedSizes,
) -> dict:
    variant, result = item.variant, item.result
    row: dict = {
        "app": variant.app.name,
        "variant": variant.name,
        "base_set": variant.base_set.name,
        "tag": variant.tag,
        "built": result.ok,
        "error": "" if result.ok else result.describe_failure(),
    }
    if not result.ok:
        return row
    if remembered:
        terminal.info(f"  {variant.target}: unchanged since it was last measured")
        row.update(remembered)
    else:
        terminal.step(f"measuring and checking {variant.tag}")
        row.update(_measure(variant, compressed))
        row.update(_checks(variant, run_id))
    # Best: the image built alone from an empty cache (--cold); else the steps it ran in this bake. A build
    # whose steps all came from the cache says nothing about build time: keep the last real one.
    if cold is not None and cold.ok:
        row["build_seconds"] = round(cold.seconds, 1)
    elif result.ran_steps:
        row["build_seconds"] = round(result.seconds, 1)
    row.setdefault("build_seconds", None)
    if rebuild is not None and rebuild.ok:
        row["rebuild_seconds"] = round(rebuild.seconds, 1)
        row["rebuild_steps_ran"] = rebuild.ran_steps
    row.setdefault("rebuild_seconds", None)
    if row.get("error"):
        terminal.error(f"  {variant.target}: {row['error']}")
    return row


def _measure(variant: Variant, compressed: measure.CompressedSizes) -> dict:
    with imagefs.saved(variant.tag) as fs:
        facts = measure.measure_image(variant, variant.base_set.build_args(), fs, compressed)
        needs = closure.runtime_closure(fs)
        exposed = exposure.assess(fs)
        wasted_bytes, wasted_files = fs.wasted_bytes, fs.wasted_files
    return {
        **asdict(facts),
        "closure_size": needs.size,
        "closure_ratio": round(facts.size / needs.size, 2) if needs.size else None,
        "closure": {"program": needs.program, "parts": needs.parts, "unresolved": needs.unresolved},
        "wasted_bytes": wasted_bytes,
        "wasted_files": wasted_files,
        "exposure": _exposure(exposed),
    }


def _exposure(found: exposure.Exposure) -> dict:
    """Counts and flags for the tables and the gate; the inventory for whoever wants the list."""
    return {
        "os_packages": found.os_packages,
        "language_packages": found.language_packages,
        "counts": found.counts,
        "shell": found.has_shell,
        "shells": found.shells,
        "package_managers": found.package_managers,
        "compilers": found.compilers,
        "setuid_files": found.setuid_files,
        "user": found.user,
        "uid": found.uid,
        "root": not found.non_root,
        "inventory": [{"kind": p.kind, "name": p.name, "version": p.version} for p in found.packages],
    }


def _checks(variant: Variant, run_id: str) -> dict:
    smoked = smoke.check(variant, run_id)
    contract = structure.check(variant)
    problems = smoked.problems() + contract.problems()
    return {
        # The plain run's own verdict: a failed hardened run shows under "hardened", not twice.
        "smoke": "pass" if smoked.passed_itself else "fail",
        "hardened": (
            "n/a"
            if not variant.hardened
            else "pass"
            if smoked.hardened is not None and smoked.hardened.passed
            else "fail"
        ),
        "structure": "pass" if contract.passed else "fail",
        "graceful_stop": smoked.graceful_stop,
        "first_answer_seconds": (
            round(smoked.seconds_to_first_answer, 2) if smoked.seconds_to_first_answer is not None else None
        ),
        "memory_bytes": smoked.memory_bytes,
        "checks": {"smoke": smoke.summary(smoked), "structure": structure.summary(contract)},
        "error": "; ".join(problems),
    }


def _time_rebuilds(
    built: list[build.Built], keys: dict[str, str], memory: Memory, options: Options
) -> dict[str, TargetResult]:
    """Time a source-only rebuild of the images whose rebuild time is not known yet."""
    wanted = [
        b.variant
        for b in built
        if b.result.ok and memory.rows.get(keys[b.variant.target], {}).get("rebuild_seconds") is None
    ]
    if not wanted:
        return {}
    return build.time_rebuild(wanted, options.base_set, options.builder)


def _shares(rows: list[dict]) -> None:
    naive = {r["app"]: r.get("size") for r in rows if r["variant"] == "naive" and r.get("size")}
    for row in rows:
        size, reference = row.get("size"), naive.get(row["app"])
        row["share_of_naive"] = round(size / reference, 3) if size and reference else None


def _engine_name() -> str:
    version = engine.versions()
    return f"Docker engine {version['Version']}"


def _finish(result: dict, options: Options) -> int:
    for table in report.terminal_tables(result):
        terminal.out.print(table)
    terminal.info(report.base_set_line(result))
    written = report.write_all(result, options.results)
    terminal.info("wrote " + ", ".join(_shown(p) for p in written))
    if options.update_readme:
        update_readme(result)
    status = 0
    broken = [r for r in result["images"] if not report.row_ok(r)]
    for row in broken:
        terminal.error(f"{row['app']}/{row['variant']}: {row.get('error') or 'a check failed'}")
    if broken:
        status = 1
    baseline_path = options.baseline or options.results / "baseline.json"
    if options.update_baseline:
        baseline_path.write_text(report.to_json(result))
        terminal.info(f"wrote the baseline {baseline_path}")
    elif options.baseline is not None:
        status = max(status, _gate(result, options))
    terminal.info(
        f"compare took {result['timings']['total_seconds']:.0f} s "
        f"(build phase {result['timings']['build_phase_seconds']:.0f} s)"
    )
    return status


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _gate(result: dict, options: Options) -> int:
    old = gate.load(options.baseline)
    changes = gate.compare(old, result, options.thresholds)
    if changes:
        terminal.out.print(report.changes_table(changes))
    failed = [c for c in changes if c.regression]
    if failed:
        terminal.error(
            f"baseline {options.baseline}: {len(failed)} regression(s): "
            + "; ".join(f"{c.image} {c.what} {c.change}" for c in failed)
        )
        return 1
    terminal.info(f"baseline {options.baseline}: no regression ({len(changes)} change(s) within thresholds)")
    return 0


def update_readme(result: dict) -> None:
    text = README.read_text()
    if README_BEGIN not in text or README_END not in text:
        raise ImagelabError(
            f"{README} has no {README_BEGIN} ... {README_END} section",
            hint="put the two markers where the results belong",
        )
    head, rest = text.split(README_BEGIN, 1)
    _, tail = rest.split(README_END, 1)
    tables = report.markdown(result).split("\n", 2)[2]  # without the document title
    README.write_text(f"{head}{README_BEGIN}\n{tables.strip()}\n{README_END}{tail}")
