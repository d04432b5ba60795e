"""nox -s matrix and nox -s merge: the cells of a CI matrix, and one report from what they upload.

The unit tests merge hand-made cells; the docker test makes two real cells with compare (go-href's naive
and minimal images, each in a folder of its own, as two runners would) and merges them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from imagelab import ROOT, cli
from imagelab.errors import ConfigError
from imagelab.report import jsonfile, merge
from tests import reports


def write_cell(folder: Path, run) -> Path:
    folder.mkdir(parents=True)
    path = folder / "compare.json"
    path.write_text(jsonfile.dumps(run))
    return path


def test_cells_of_one_set_merge_into_one_report_in_variant_order(tmp_path):
    write_cell(tmp_path / "a", reports.run(reports.image("minimal", 10), reports.image("slim", 50)))
    write_cell(tmp_path / "b", reports.run(reports.image("naive", 100), reports.image("x", 1, app="other")))
    merged = merge.merge(merge.find_cells(tmp_path))
    assert list(merged) == ["debian"]
    report = merged["debian"]
    assert [(i.app, i.variant) for i in report.images] == [
        ("demo", "naive"),
        ("demo", "slim"),
        ("demo", "minimal"),
        ("other", "x"),
    ]
    # The naive image came from another cell: the share is computed on the merged report.
    assert report.image("demo", "minimal").share_of_naive == 0.1
    assert report.image("other", "x").share_of_naive is None


def test_cells_of_two_sets_become_two_reports_in_folders_of_their_own(tmp_path):
    write_cell(tmp_path / "a", reports.run(reports.image("naive", 100)))
    debian12 = reports.image("naive", 90, base_set="debian12", tag="imagelab/demo:naive-debian12")
    write_cell(tmp_path / "b", reports.run(debian12, base_set="debian12"))
    merged = merge.merge(merge.find_cells(tmp_path))
    assert {s: [i.size for i in r.images] for s, r in merged.items()} == {"debian": [100], "debian12": [90]}
    assert merge.folders(merged, tmp_path / "out") == {
        "debian": tmp_path / "out" / "debian",
        "debian12": tmp_path / "out" / "debian12",
    }
    assert merge.folders({"debian": merged["debian"]}, tmp_path / "out") == {"debian": tmp_path / "out"}


def test_timings_of_the_cells_add_up(tmp_path):
    for name, seconds in (("a", 10.0), ("b", 2.5)):
        run = reports.run(reports.image(name, 1))
        run.timings = merge.Timings(seconds, seconds * 2)
        write_cell(tmp_path / name, run)
    report = merge.merge(merge.find_cells(tmp_path))["debian"]
    assert (report.timings.build_phase_seconds, report.timings.total_seconds) == (12.5, 25.0)


def test_the_same_image_in_two_cells_is_refused_naming_both(tmp_path):
    first = write_cell(tmp_path / "a", reports.run(reports.image("naive", 100)))
    second = write_cell(tmp_path / "b", reports.run(reports.image("naive", 101)))
    with pytest.raises(ConfigError) as caught:
        merge.merge(merge.find_cells(tmp_path))
    assert "demo/naive (debian) is in two cells" in str(caught.value)
    assert str(first) in str(caught.value) and str(second) in str(caught.value)


def test_cells_of_two_revisions_are_refused(tmp_path):
    write_cell(tmp_path / "a", reports.run(reports.image("naive", 100)))
    stale = reports.run(reports.image("slim", 50))
    stale.revision = "fedcba9876543210"
    write_cell(tmp_path / "b", stale)
    with pytest.raises(ConfigError, match="cells of different revisions"):
        merge.merge(merge.find_cells(tmp_path))


def test_a_folder_without_cells_and_a_broken_cell_are_one_line_each(tmp_path):
    with pytest.raises(ConfigError, match=r"no compare\.json under"):
        merge.find_cells(tmp_path)
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "compare.json").write_text("{not json")
    with pytest.raises(ConfigError, match="is not valid JSON"):
        merge.find_cells(tmp_path)
    with pytest.raises(ConfigError, match="is not a folder"):
        merge.find_cells(tmp_path / "missing")


def test_merge_command_writes_the_report_and_the_gate_fails_on_growth(tmp_path, capsys):
    write_cell(tmp_path / "cells" / "a", reports.run(reports.image("naive", 100 * 1000**2)))
    write_cell(tmp_path / "cells" / "b", reports.run(reports.image("minimal", 10 * 1000**2)))
    baseline = tmp_path / "baseline.json"
    baseline.write_text(
        jsonfile.dumps(
            reports.run(reports.image("naive", 100 * 1000**2), reports.image("minimal", 5 * 1000**2))
        )
    )
    out = tmp_path / "out"
    status = cli.main(["merge", str(tmp_path / "cells"), "--results", str(out), "--baseline", str(baseline)])
    assert status == 1
    assert "demo/minimal (debian) size" in capsys.readouterr().err
    written = jsonfile.read(out / "compare.json")
    assert [i.variant for i in written.images] == ["naive", "minimal"]
    assert {p.name for p in out.iterdir()} >= {"compare.json", "compare.md"}
    # Within the thresholds it passes.
    baseline.write_text(jsonfile.dumps(written))
    assert (
        cli.main(["merge", str(tmp_path / "cells"), "--results", str(out), "--baseline", str(baseline)]) == 0
    )


def test_a_baseline_of_a_set_no_cell_built_is_refused_before_writing(tmp_path, capsys):
    write_cell(tmp_path / "cells" / "a", reports.run(reports.image("naive", 100)))
    baseline = tmp_path / "baseline.json"
    baseline.write_text(jsonfile.dumps(reports.run(reports.image("naive", 100), base_set="official")))
    out = tmp_path / "out"
    assert (
        cli.main(["merge", str(tmp_path / "cells"), "--results", str(out), "--baseline", str(baseline)]) == 1
    )
    assert "no cell built it" in capsys.readouterr().err
    assert not out.exists()


def test_matrix_prints_one_compare_command_per_app_and_base_set(capsys):
    assert cli.main(["matrix", "--app", "go-href", "--app", "microblog", "--github"]) == 0
    matrix = json.loads(capsys.readouterr().out)
    cells = {(c["app"], c["bases"]): c for c in matrix["include"]}
    assert set(cells) == {("go-href", "debian"), ("microblog", "debian")}
    cell = cells[("go-href", "debian")]
    assert cell["command"] == (
        "nox -s compare -- --app go-href --bases debian --results results/cells/go-href-debian"
    )
    assert cell["results"] == "results/cells/go-href-debian"


def test_matrix_spans_several_base_sets_and_keeps_the_variant_selectors(capsys):
    assert cli.main(["matrix", "--app", "go-href", "--variant", "naive", "--bases", "debian,official"]) == 0
    cells = json.loads(capsys.readouterr().out)
    assert [(c["app"], c["bases"]) for c in cells] == [("go-href", "debian"), ("go-href", "official")]
    assert all(" --variant naive " in c["command"] for c in cells)


def test_matrix_refuses_an_unknown_base_set(capsys):
    assert cli.main(["matrix", "--bases", "debian,nosuchset"]) == 1
    assert "unknown base set 'nosuchset'" in capsys.readouterr().err


# -- real cells --------------------------------------------------------------------------------------------


def compare_cell(variant: str, results: Path) -> subprocess.CompletedProcess:
    """One cell as a runner runs it: its own compare, its own results folder."""
    command = ["compare", "--app", "go-href", "--variant", variant, "--results", str(results)]
    return subprocess.run(
        [sys.executable, "-m", "imagelab", *command],
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )


@pytest.mark.docker
def test_two_real_cells_merge_into_a_report_with_their_numbers(tmp_path):
    cells = tmp_path / "downloaded"
    for variant in ("naive", "minimal"):
        done = compare_cell(variant, cells / f"go-href-{variant}")
        assert done.returncode == 0, done.stderr[-3000:]
    out = tmp_path / "merged"
    done = subprocess.run(
        [sys.executable, "-m", "imagelab", "merge", str(cells), "--results", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    merged = jsonfile.read(out / "compare.json")
    by_variant = {i.variant: i for i in merged.images}
    assert list(by_variant) == ["naive", "minimal"]
    for variant in ("naive", "minimal"):
        (cell_image,) = jsonfile.read(cells / f"go-href-{variant}" / "compare.json").images
        row = by_variant[variant]
        figures = ("size", "compressed_size", "layers", "image_id", "closure_size", "smoke", "structure")
        assert {f: getattr(row, f) for f in figures} == {f: getattr(cell_image, f) for f in figures}
        assert row.size and row.smoke == "pass"
    # Neither cell had both images; the merged report relates them.
    minimal = by_variant["minimal"]
    assert minimal.share_of_naive == round(minimal.size / by_variant["naive"].size, 3)
    assert "| minimal |" in (out / "compare.md").read_text()
