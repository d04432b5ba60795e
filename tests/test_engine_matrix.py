"""The harness on every engine and image store it starts: the same compare, the same verdicts.

The rest of the suite runs on the engine `nox -s tests` started (forky's Docker 28.5, classic store, by
default). Here each other kind and store starts beside it as a second engine (data root, socket and
bridge of its own), and compare runs on it with DOCKER_HOST pointing there, for two go-href variants:
a bake, the bases pulled by digest from the project's registry, measuring with the closure, smoke and
structure tests, and the gate against the first engine's report of the same images. What must hold on
every engine is asserted, not only compared: no image smaller than its runtime closure, compressed at
most unpacked, layers that add up to the size shown.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from imagelab import ROOT
from imagelab.engine import second

pytestmark = [
    pytest.mark.docker,
    pytest.mark.skipif(os.geteuid() != 0, reason="a second dockerd needs root"),
]

APP, VARIANTS = "go-href", ("minimal", "distroless")
#: (kind, store) beside the first engine. Docker 29 from source costs about 3.5 minutes once.
CELLS = [("forky", "containerd"), ("source", "containerd"), ("debian", "classic")]


def compare(results: Path, *extra: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "imagelab", "compare", "--app", APP, "--results", str(results)]
    for variant in VARIANTS:
        command += ["--variant", variant]
    # --fresh: the measurement memory is keyed by content, and these are the same images as the first
    # engine's; each engine must measure them itself.
    command += ["--fresh", "--no-rebuild-timing", *extra]
    return subprocess.run(
        command,
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )


def rows(results: Path) -> dict[str, dict]:
    report = json.loads((results / "compare.json").read_text())
    return {row["variant"]: row for row in report["images"]} | {"": report}


@pytest.fixture(scope="module")
def first(tmp_path_factory) -> Path:
    results = tmp_path_factory.mktemp("first-engine")
    done = compare(results, "--baseline", str(results / "baseline.json"), "--update-baseline")
    assert done.returncode == 0, done.stderr[-3000:]
    return results


def assert_invariants(row: dict) -> None:
    where = f"{row['variant']}: "
    assert row["built"] and row["smoke"] == "pass" and row["structure"] == "pass", where + str(row["error"])
    assert 0 < row["closure_size"] <= row["size"], where + "an image holds its runtime closure"
    assert 0 < row["compressed_size"] <= row["size"], where + "compressed at most unpacked"
    assert sum(layer["size"] for layer in row["layer_details"]) == row["size"], where + "layers add up"


@pytest.mark.parametrize(("kind", "store"), CELLS, ids=[f"{k}-{s}" for k, s in CELLS])
def test_compare_gives_the_same_verdicts_on_every_engine(first, tmp_path, kind, store):
    with second.second_engine(log=lambda _: None, kind=kind, store=store) as other:
        done = compare(
            tmp_path, "--baseline", str(first / "baseline.json"), env={"DOCKER_HOST": other.host}
        )
    assert done.returncode == 0, f"compare on {kind}/{store}:\n{done.stderr[-3000:]}"
    here, there = rows(first), rows(tmp_path)
    assert f"{store} image store" in there[""]["engine"]
    for variant in VARIANTS:
        assert_invariants(here[variant])
        assert_invariants(there[variant])
        for same in ("size", "layers", "smoke", "structure", "hardened", "closure_size"):
            assert there[variant][same] == here[variant][same], f"{variant}: {same} differs on {kind}/{store}"
        assert there[variant]["exposure"] == here[variant]["exposure"], f"{variant}: packages differ"
