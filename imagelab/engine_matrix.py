"""The engines and image stores imagelab supports, each tried for real: `nox -s engines`.

Each setup (an engine kind and an image store, engine/kinds.py's KINDS) starts beside the engine
in use as a second engine, with a data root, socket and bridge of its own, and a compare of a few images
runs on it with DOCKER_HOST pointing there: a bake, the bases pulled by digest from the project's
registry, measuring with the closure, smoke and structure tests, and the gate against the same images'
report from the engine in use; then a bump between two local sets (the debian set and a set file
pinning the same bases by digest, so nothing moved and its gate must pass). A setup passes when that
compare passes the gate, the invariants below
hold, and every verdict and package list equals the engine in use's. Otherwise it says why, in one line.

Invariants that hold on every engine: no image smaller than its runtime closure; compressed at most
unpacked; layers that add up to the size the report shows.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from imagelab import ROOT, engine, needs
from imagelab.engine import kinds, second_engine
from imagelab.errors import ImagelabError
from imagelab.report import jsonfile

#: Two go-href variants: a static binary FROM scratch, and one on a distroless base -- every layer of the
#: harness in about a minute a setup once the Go module cache is warm.
APP, VARIANTS = "go-href", ("minimal", "distroless")
#: What must be equal on every engine for the same images.
SAME = ("size", "layers", "smoke", "structure", "hardened", "closure_size", "exposure")
COMPARE_TIMEOUT_S = 1800


@dataclass(frozen=True)
class EngineSetup:
    kind: str
    store: str

    @property
    def name(self) -> str:
        return f"{self.kind}/{self.store}"


@dataclass
class Outcome:
    setup: EngineSetup
    ok: bool
    reason: str = ""  # one line: why not, or what a passing setup left out
    engine: str = ""  # what the engine said it is, from the setup's report
    buildx: str = ""
    seconds: float = 0.0  # the compare on that engine, start to end


def run_compare_command(
    results: Path, env: dict[str, str] | None = None, *extra: str
) -> subprocess.CompletedProcess:
    """The real command line, so each setup runs exactly what a user runs with DOCKER_HOST set."""
    command = ["compare", "--app", APP, "--results", str(results)]
    for variant in VARIANTS:
        command += ["--variant", variant]
    # --fresh: the measurement memory is keyed by content, and each engine must measure these itself.
    return imagelab(env, *command, "--fresh", "--no-rebuild-timing", *extra)


def imagelab(env: dict[str, str] | None, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "imagelab", *args],
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        capture_output=True,
        text=True,
        timeout=COMPARE_TIMEOUT_S,
        check=False,
    )


def first_report(results: Path) -> Path:
    """Compare on the engine in use, written as the baseline every setup is gated against."""
    results.mkdir(parents=True, exist_ok=True)
    baseline = results / "baseline.json"
    done = run_compare_command(results, None, "--baseline", str(baseline), "--update-baseline")
    if done.returncode != 0:
        raise RuntimeError(f"compare on the engine in use failed: {_last_line(done.stderr)}")
    return baseline


def run_setup(
    setup: EngineSetup, baseline: Path, results: Path, log: Callable[[str], None] = print
) -> Outcome:
    results.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    try:
        env = _with_buildx(setup.kind, results / "docker-config", log)
        with second_engine.second_engine(log=log, kind=setup.kind, store=setup.store) as other:
            env["DOCKER_HOST"] = other.host
            version = other.client().version()
            # A Dockerfile that names a newer engine than this one is left out by compare, as it should
            # be: it is left out of the setup's baseline too, so the gate does not call it disappeared.
            left_out = {
                variant: why
                for variant in VARIANTS
                if (why := needs.unmet(apps_dockerfile(variant), version["Version"], version["ApiVersion"]))
            }
            gate_on = _without(baseline, set(left_out), results / "baseline.json")
            done = run_compare_command(results, env, "--baseline", str(gate_on))
            bumped = bump(results, env) if (results / "compare.json").exists() else ""
    except (ImagelabError, subprocess.TimeoutExpired) as exc:  # this setup's verdict, not the matrix's end
        return Outcome(setup, False, str(exc).splitlines()[0], seconds=time.monotonic() - started)
    outcome = Outcome(setup, done.returncode == 0, seconds=time.monotonic() - started)
    outcome.buildx = _buildx_version(env)
    if not (results / "compare.json").exists():
        outcome.ok, outcome.reason = False, _last_line(done.stderr)
        return outcome
    here, there = _rows(baseline.parent / "compare.json"), _rows(results / "compare.json")
    outcome.engine = there[""]["engine"]
    problems = [] if outcome.ok else [f"compare exited {done.returncode}: {_last_line(done.stderr)}"]
    if setup.store not in outcome.engine:
        problems.append(f"asked for the {setup.store} store, the report says {outcome.engine}")
    for variant in VARIANTS:
        if variant in left_out:
            if variant in there:
                problems.append(f"{variant}: built, though its Dockerfile {left_out[variant]}")
            continue
        problems += [f"{variant}: {p}" for p in invariants(there.get(variant))]
        if variant in here:  # an engine in use older than this one (20.10) built no distroless to hold it to
            problems += [f"{variant}: {p}" for p in differences(here[variant], there.get(variant) or {})]
    if bumped:
        problems.append(bumped)
    notes = [f"{variant} left out: {why.split(';')[0]}" for variant, why in left_out.items()]
    outcome.ok, outcome.reason = not problems, "; ".join(problems or notes)
    return outcome


def pinned_set(report: Path, out: Path) -> Path:
    """A set file of the setup's own: every role the report's images were built on, pinned to the digest
    the harness resolved. A second local set, whose bases did not move: a bump to it must find nothing."""
    roles: dict[str, str] = {}
    for row in json.loads(report.read_text())["images"]:
        for base in row["base_images"]:
            written = base["written"]  # "${GOLANG_IMAGE}": the role golang
            if base["digest"] and written.startswith("${") and written.endswith("_IMAGE}"):
                roles[written[2:-7].lower().replace("_", "-")] = base["ref"]
    lines = ['description = "the images an engine setup was built on, pinned by digest"', "", "[roles]"]
    out.write_text("\n".join([*lines, *(f'{role} = "{ref}"' for role, ref in sorted(roles.items()))]) + "\n")
    return out


def bump(results: Path, env: dict[str, str]) -> str:
    """A bump between two local sets on the setup's engine: the setup's report on the debian set, and the
    same images built on a set file pinning its bases (measured here, like any set). Nothing moved, so
    the bump's gate must pass; "" when it does, else why not in one line."""
    pinned = run_compare_command(
        results / "pinned", env, "--bases", str(pinned_set(results / "compare.json", results / "pinned.toml"))
    )
    if pinned.returncode != 0:
        return f"bump: the pinned set's compare failed: {_last_line(pinned.stderr)}"
    ends = ("--from", str(results / "compare.json"), "--to", str(results / "pinned" / "compare.json"))
    done = imagelab(env, "bump", "--results", str(results / "bump"), *ends)
    return "" if done.returncode == 0 else f"bump between two sets failed: {_last_line(done.stderr)}"


def _with_buildx(kind: str, config: Path, log: Callable[[str], None]) -> dict[str, str]:
    """An environment whose docker CLI uses the buildx plugin that goes with `kind` (Debian 13's 0.13
    with Debian 12's engine): a DOCKER_CONFIG of the setup's own, so the user's plugin stays as it is."""
    plugins = config / "cli-plugins"
    plugins.mkdir(parents=True, exist_ok=True)
    shutil.copy2(kinds.buildx_plugin(kinds.KINDS[kind].buildx_suite, log), plugins / "docker-buildx")
    return {"DOCKER_CONFIG": str(config)}


def _buildx_version(env: dict[str, str]) -> str:
    done = subprocess.run(
        ["docker", "buildx", "version"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    words = done.stdout.split()  # "github.com/docker/buildx 0.13.1+ds1 <revision>"
    return words[1] if done.returncode == 0 and len(words) > 1 else "unknown"


def apps_dockerfile(variant: str) -> Path:
    return ROOT / "dockerfiles" / APP / f"{variant}.Dockerfile"


def _without(baseline: Path, variants: set[str], out: Path) -> Path:
    """The baseline less the rows of `variants`, written to `out` (the baseline itself when none)."""
    if not variants:
        return baseline
    report = json.loads(baseline.read_text())
    report["images"] = [row for row in report["images"] if row["variant"] not in variants]
    out.write_text(json.dumps(report))
    return out


def invariants(row: dict | None) -> list[str]:
    if row is None:
        return ["missing from the report"]
    if not row["built"] or row["smoke"] != "pass" or row["structure"] != "pass":
        return [row["error"] or "a check failed"]
    found = []
    if not 0 < row["closure_size"] <= row["size"]:
        found.append("smaller than its runtime closure")
    if not 0 < row["compressed_size"] <= row["size"]:
        found.append("compressed larger than unpacked")
    if sum(layer["size"] for layer in row["layer_details"]) != row["size"]:
        found.append("layers do not add up to its size")
    # Where BuildKit recorded provenance, every image it pulled is one the harness resolved, by that
    # digest. (Not the converse: a stage the target does not need, like a debug stage's, is never pulled.)
    if row.get("provenance") is not None:
        recorded = {material["digest"] for material in row["provenance"]}
        resolved = {base["digest"] for base in row["base_images"] if base["digest"]}
        if not recorded <= resolved:
            found.append("provenance records other base digests than the harness resolved")
    return found


def differences(here: dict, there: dict) -> list[str]:
    """What differs between the engine in use's row and a setup's for the same image, a phrase each: the
    package lists by name, the other fields of SAME by field."""
    found = []
    for field in SAME:
        if there.get(field) == here.get(field):
            continue
        if field == "exposure" and here.get(field) and there.get(field):
            mine, theirs = (
                {(p["kind"], p["name"], p["version"]) for p in row[field]["inventory"]}
                for row in (here, there)
            )
            if mine != theirs:
                found.append(f"package lists differ (+{len(theirs - mine)} -{len(mine - theirs)})")
                continue
        found.append(f"{field} differs from the engine in use")
    return found


def every_setup() -> list[EngineSetup]:
    return [EngineSetup(kind.name, store) for kind in kinds.KINDS.values() for store in kind.stores]


def run(setups: list[EngineSetup], out: Path, log: Callable[[str], None] = print) -> list[Outcome]:
    """Every setup, then the table into `out` (results/engines.md): the matrix a README shows."""
    in_use = engine.describe()
    with tempfile.TemporaryDirectory(prefix="imagelab-engines-") as tmp:
        work = Path(tmp)
        log(f"comparing on the engine in use: {in_use}")
        baseline = first_report(work / "in-use")
        outcomes = []
        for setup in setups:
            log(f"comparing on {setup.name}, beside it")
            outcomes.append(run_setup(setup, baseline, work / setup.name.replace("/", "-"), log))
            log(f"{setup.name}: {'pass' if outcomes[-1].ok else 'FAIL: ' + outcomes[-1].reason}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(table(outcomes, in_use))
    return outcomes


def table(outcomes: list[Outcome], in_use: str) -> str:
    lines = [
        f"Engines beside the one in use ({in_use}), each running `compare --app {APP} "
        + " ".join(f"--variant {v}" for v in VARIANTS)
        + "` gated against it.",
        "",
        "| engine | image store | reported as | buildx | result | seconds |",
        "|---|---|---|---|---|---:|",
    ]
    for o in outcomes:
        verdict = ("pass" + (f" ({o.reason})" if o.reason else "")) if o.ok else f"FAIL: {o.reason}"
        lines.append(
            f"| {o.setup.kind} | {o.setup.store} | {o.engine or '-'} | {o.buildx or '-'} | {verdict} "
            f"| {o.seconds:.0f} |"
        )
    return "\n".join(lines) + "\n"


def _rows(path: Path) -> dict[str, dict]:
    report = jsonfile.expanded(json.loads(path.read_text()))  # the inventory as one object a package
    return {row["variant"]: row for row in report["images"]} | {"": report}


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return next((line for line in lines if line.startswith("error:")), lines[-1] if lines else "no output")
