"""nox -s compare for real on one app (every variant), then the baseline gate on what it wrote."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from engine_needs import unmet

from imagelab import ROOT
from imagelab.report import model

APP = "go-href"  # the quickest app to build and check; the full matrix is covered by test_smoke


def compare(*args: str | Path, timeout: int = 1800) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "imagelab", "compare", "--app", APP, *map(str, args)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def first_run(tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    results = tmp_path_factory.mktemp("results")
    return compare("--results", results), results


@pytest.mark.docker
def test_compare_writes_the_table_markdown_json_and_chart(first_run):
    done, results = first_run
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads((results / "compare.json").read_text())
    assert report["schema"] == model.SCHEMA and report["base_set"] == "debian"
    assert "stand-ins" in report["base_set_note"]
    rows = {r["variant"]: r for r in report["images"]}
    # Every variant this engine builds; the others (Docker 20.10: multistage, distroless) are named as left out.
    variants = ["naive", "slim", "multistage", "distroless", "minimal"]
    built_here = [v for v in variants if not unmet(ROOT / "dockerfiles" / APP / f"{v}.Dockerfile")]
    assert list(rows) == built_here
    assert all(f"{APP}/{v}: needs" in done.stderr for v in variants if v not in built_here)
    for row in rows.values():
        assert row["built"] and row["smoke"] == "pass" and row["structure"] == "pass", row
        assert 0 < row["compressed_size"] < row["size"]
        assert 0 < row["closure_size"] <= row["size"], "an image holds its runtime closure"
        # dive counts the visible copy of a path written twice too: never less than what is hidden.
        assert row["dive_wasted_bytes"] >= row["wasted_bytes"] and 0 < row["dive_efficiency"] <= 1, row
    # FROM scratch, then COPY the CA bundle and the static binary: two layers, and nothing but the closure.
    assert rows["minimal"]["layers"] == 2
    assert rows["minimal"]["closure_size"] == rows["minimal"]["size"]
    assert rows["naive"]["layers"] > rows[next(v for v in ("distroless", "minimal") if v in rows)]["layers"]
    assert all(rows[v]["hardened"] == "pass" for v in ("distroless", "minimal") if v in rows)
    # Each technique smaller than the one before it: naive > multistage > distroless >= minimal.
    sizes = [rows[v]["size"] for v in ("naive", "multistage", "distroless", "minimal") if v in rows]
    assert sizes == sorted(sizes, reverse=True) and sizes[0] > sizes[-1]
    assert rows["minimal"]["size"] < 10 * 1000**2
    markdown = (results / "compare.md").read_text()
    assert f"## {APP}" in markdown and "| minimal |" in markdown and "stand-ins" in markdown
    assert (results / "sizes.svg").read_text().lstrip().startswith("<?xml")
    assert f"{APP} (debian base set)" in done.stdout  # the terminal table


@pytest.mark.docker
def test_the_same_images_pass_their_own_baseline(first_run):
    _, results = first_run
    done = compare("--results", results / "again", "--baseline", results / "compare.json")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "no regression" in done.stderr


@pytest.mark.docker
def test_a_baseline_that_expects_a_smaller_image_fails_and_names_it(first_run, tmp_path):
    _, results = first_run
    report = json.loads((results / "compare.json").read_text())
    for row in report["images"]:
        if row["variant"] == "minimal":
            row["size"] = row["size"] // 2 - 3 * 1000**2
    smaller = tmp_path / "baseline.json"
    smaller.write_text(json.dumps(report))
    done = compare("--results", tmp_path / "out", "--baseline", smaller)
    assert done.returncode == 1
    assert f"{APP}/minimal (debian) size" in done.stderr
    assert "REGRESSION" in done.stdout


@pytest.mark.docker  # the command asks for the engine before it reads the baseline
def test_a_corrupt_baseline_is_refused_before_building(tmp_path):
    broken = tmp_path / "baseline.json"
    broken.write_text("{ not json")
    done = compare("--baseline", broken, timeout=120)
    assert done.returncode == 1
    assert done.stderr.startswith(f"error: baseline {broken} is not valid JSON")


def test_an_unknown_app_names_the_valid_ones():  # refused before any engine is asked: no marker
    done = subprocess.run(
        [sys.executable, "-m", "imagelab", "compare", "--app", "nope"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.splitlines()[0] == "error: unknown app 'nope'"
    assert "valid apps: go-href, microblog, node-express" in done.stderr


def remembered_row():
    from imagelab.report.model import ImageResult

    row = ImageResult(
        "other-app", "slim", "debian", "imagelab/other-app:slim-debian", built=True, base_layers=1
    )
    row.composition = {"app": 1}
    return row


def test_a_fresh_run_recalls_nothing_and_keeps_the_other_images_rows(tmp_path):
    """--fresh on one app measures it again; the next run of another app still recalls its own rows."""
    from imagelab.pipeline import Memory

    path, row = tmp_path / "measured.json", remembered_row()
    earlier = Memory(path, forget=False, code="c0de")
    earlier.remember("key-of-other-app", row)
    earlier.save()

    fresh = Memory(path, forget=True, code="c0de")
    assert fresh.recall("key-of-other-app") is None
    fresh.remember("key-of-this-app", row)
    fresh.save()

    later = Memory(path, forget=False, code="c0de")
    assert later.recall("key-of-other-app") == row
    assert later.recall("key-of-this-app") == row


def test_after_an_edit_of_the_measuring_code_nothing_is_recalled(tmp_path):
    """Rows are remembered by image content and by the code that measured them: a changed inspector
    measures every image again, where it used to show the old numbers as unchanged."""
    import shutil

    from imagelab import image_result
    from imagelab.pipeline import Memory

    code = tmp_path / "code"
    copies = []
    for source in image_result.CODE:  # the real measuring modules, copied to be edited
        copy = code / source.relative_to(image_result.PACKAGE)
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, copy)
        copies.append(copy)
    path, row = tmp_path / "measured.json", remembered_row()
    before = image_result.code_fingerprint(copies)
    first = Memory(path, forget=False, code=before)
    first.remember("content-key", row)
    first.save()

    measure = code / "inspect" / "sizes.py"
    measure.write_text(measure.read_text() + "\n# a comment measures nothing differently\n")
    assert Memory(path, forget=False, code=image_result.code_fingerprint(copies)).recall("content-key") == row
    measure.write_text(measure.read_text().replace("GZIP_LEVEL = ", "GZIP_LEVEL = 1 + "))
    edited = Memory(path, forget=False, code=image_result.code_fingerprint(copies))
    assert edited.recall("content-key") is None
    edited.save()  # the old code's rows are not kept either
    assert Memory(path, forget=False, code=before).rows == {}
