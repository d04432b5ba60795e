"""The renderers on a hand-made report: the same figures in the terminal, Markdown and the chart."""

from __future__ import annotations

import json

from rich.console import Console

from imagelab.report import render as report

MiB = 1024 * 1024


def row(variant: str, size: int, **extra) -> dict:
    return {
        "app": "demo",
        "variant": variant,
        "base_set": "debian",
        "tag": f"imagelab/demo:{variant}-debian",
        "built": True,
        "error": "",
        "size": size,
        "compressed_size": size // 3,
        "layers": 4,
        "share_of_naive": round(size / (900 * MiB), 3),
        "closure_ratio": 1.05,
        "wasted_bytes": 0,
        "build_seconds": 12.5,
        "rebuild_seconds": 1.2,
        "first_answer_seconds": 0.8,
        "memory_bytes": 30 * MiB,
        "smoke": "pass",
        "structure": "pass",
        "hardened": "n/a",
        "exposure": {"os_packages": 400, "language_packages": 12, "shell": True, "root": True, "user": ""},
        **extra,
    }


REPORT = {
    "schema": 1,
    "base_set": "debian",
    "base_set_note": "local stand-ins for the official images",
    "generated": "2026-11-27T10:00:00Z",
    "revision": "0123456789abcdef",
    "engine": "Docker engine 20.10",
    "images": [
        row("naive", 900 * MiB),
        row(
            "minimal",
            5 * MiB,
            hardened="fail",
            error="hardened run: GET / -> no answer",
            exposure={
                "os_packages": 0,
                "language_packages": 12,
                "shell": False,
                "root": False,
                "user": "65532",
            },
        ),
    ],
}


def test_markdown_has_one_table_per_app_with_the_base_set_named():
    text = report.markdown(REPORT)
    assert "base set: debian -- local stand-ins for the official images." in text
    assert "| naive | 900 MiB | 300 MiB | 4 | 100 % | 1.05x | 0.0 MiB | 12.5 s | 1.2 s |" in text
    assert "| 400 / 12 | yes | root | pass | pass | n/a |" in text
    assert "| minimal | 5.0 MiB |" in text and "65532 | pass | pass | FAIL |" in text
    assert "- minimal: hardened run: GET / -> no answer" in text


def test_the_terminal_table_marks_failures():
    console = Console(width=250, record=True, color_system=None)
    for table in report.terminal_tables(REPORT):
        console.print(table)
    text = console.export_text()
    assert "demo (debian base set)" in text and "FAIL" in text and "900 MiB" in text
    assert not report.row_ok(REPORT["images"][1]) and report.row_ok(REPORT["images"][0])


def test_write_all_replaces_the_three_files(tmp_path):
    (tmp_path / "compare.json").write_text("old")
    written = report.write_all(REPORT, tmp_path)
    assert sorted(p.name for p in written) == ["compare.json", "compare.md", "sizes.svg"]
    assert json.loads((tmp_path / "compare.json").read_text()) == REPORT
    svg = (tmp_path / "sizes.svg").read_text()
    assert "<svg" in svg and "900 MiB" in svg and "log scale" in svg
    assert not list(tmp_path.glob(".*tmp*"))
