"""Rebuild timing's one-line source change: always taken back, also when an earlier run could not."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from imagelab import apps, build, rebuild_timing


def test_the_change_is_taken_back_and_a_killed_runs_line_is_taken_out(tmp_path: Path, monkeypatch):
    go_href = apps.discover()["go-href"]
    source = tmp_path / "main.go"
    committed = go_href.source_file.read_bytes()
    app = dataclasses.replace(go_href, source_file=source)
    # A run killed while it timed the rebuild left its line in.
    source.write_bytes(committed + f"\n// {rebuild_timing.CHANGE_MARKER} (0123abcd)\n".encode())
    monkeypatch.setattr(build, "SCRATCH", tmp_path / "scratch")
    with rebuild_timing.source_changed([app]):
        changed = source.read_bytes()
        assert changed.startswith(committed) and changed.count(rebuild_timing.CHANGE_MARKER.encode()) == 1
    assert source.read_bytes() == committed
