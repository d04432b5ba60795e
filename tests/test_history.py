"""results/history.jsonl and the trend chart: one line per full run, read back, drawn; bad lines named."""

from __future__ import annotations

import pytest

from imagelab import cli
from imagelab.errors import ConfigError
from imagelab.report import history
from imagelab.report.model import BaseImage
from tests.reports import MiB, image, run


def a_run(size: int, generated: str, base_set: str = "debian"):
    bases = [BaseImage("imagelab-bases/python:debian13", "sha256:id", "sha256:" + "d" * 64)]
    found = run(image("naive", size, base_images=bases), image("slim", size // 5), base_set=base_set)
    found.generated = generated
    return found


def test_every_appended_run_is_one_line_that_reads_back(tmp_path):
    path = tmp_path / "history.jsonl"
    history.append(a_run(900 * MiB, "2026-11-27T10:00:00Z"), path)
    history.append(a_run(950 * MiB, "2026-11-28T10:00:00Z", "debian12"), path)
    assert len(path.read_text().splitlines()) == 2
    first, second = history.read(path)
    assert first.images["demo/naive"].size == 900 * MiB and first.images["demo/naive"].smoke == "pass"
    assert first.bases == {"imagelab-bases/python:debian13": "sha256:" + "d" * 64}
    assert (second.base_set, second.time) == ("debian12", "2026-11-28T10:00:00Z")


def test_a_line_that_does_not_read_is_named_by_its_number(tmp_path):
    path = tmp_path / "history.jsonl"
    history.append(a_run(900 * MiB, "2026-11-27T10:00:00Z"), path)
    with path.open("a") as f:
        f.write('{"time": 3}\n')
    with pytest.raises(ConfigError) as caught:
        history.read(path)
    assert "line 2 is not a history entry" in caught.value.cause


def test_trend_draws_size_per_variant_over_the_runs(tmp_path, capsys):
    path = tmp_path / "history.jsonl"
    for day, size in ((26, 900), (27, 910), (28, 950)):
        history.append(a_run(size * MiB, f"2026-11-{day}T10:00:00Z"), path)
    assert cli.main(["trend", "--history", str(path), "--last", "2"]) == 0
    svg = (tmp_path / "trend.svg").read_text()
    assert "<svg" in svg and "naive" in svg and "slim" in svg
    assert "last 2 recorded runs" in svg and "from the last 2 runs" in capsys.readouterr().err


def test_trend_without_a_history_is_one_line(tmp_path, capsys):
    assert cli.main(["trend", "--history", str(tmp_path / "none.jsonl")]) == 1
    assert "none.jsonl does not exist" in capsys.readouterr().err
