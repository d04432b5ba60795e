"""The renderers and the report files on hand-made runs: the same figures in the terminal, Markdown and
the chart; the JSON round trip and its published schema; subset runs keep the other rows."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import jsonschema
import pytest
from reports import MiB, exposure, failed, image, run
from rich.console import Console

from imagelab import ROOT
from imagelab.errors import ConfigError, ImagelabError
from imagelab.report import files, jsonfile, markdown, table

SCHEMA_FILE = ROOT / "results" / "compare.schema.json"

REPORT = run(
    image("naive", 900 * MiB, share_of_naive=1.0),
    image(
        "minimal",
        5 * MiB,
        share_of_naive=0.006,
        hardened="fail",
        error="hardened: GET / -> no answer",
        failures=[failed("hardened", "GET / -> no answer", "is it read-only?", ("line 1", "line 2"))],
        exposure=exposure(os_packages=0, shell=False, root=False, user="65532", uid=65532),
    ),
)


def test_markdown_has_one_table_per_app_with_the_base_set_named():
    text = markdown.render(REPORT)
    assert "base set: debian -- local stand-ins for the official images." in text
    assert "| naive | 900 MiB | 300 MiB | 4 | 100 % | 1.05x | 0.0 MiB | 12.5 s | 1.2 s |" in text
    assert "| 400 / 12 | yes | root | pass | pass | n/a |" in text
    assert "| minimal | 5.0 MiB |" in text and "65532 | pass | pass | FAIL |" in text
    assert "- **minimal** hardened: GET / -> no answer -- is it read-only?" in text
    assert "  line 2" in text  # the log's end, collapsed


def test_the_terminal_table_marks_failures_and_prints_their_log():
    console = Console(width=250, record=True, color_system=None)
    for rich_table in table.tables(REPORT):
        console.print(rich_table)
    text = console.export_text()
    assert "demo (debian base set)" in text and "FAIL" in text and "900 MiB" in text
    assert REPORT.images[0].ok and not REPORT.images[1].ok
    lines = table.failure_lines(REPORT.images[1])
    assert lines == [
        "demo/minimal: hardened: GET / -> no answer",
        "  hint: is it read-only?",
        "  | line 1",
        "  | line 2",
    ]


def test_a_noisy_log_line_is_cut():
    noisy = image("slim", None, built=False, failures=[failed("build", "boom", log=("x" * 5000,))])
    [_, line] = table.failure_lines(noisy)
    assert len(line) <= table.LINE_CHARS + 4 and line.endswith("...")


def test_json_round_trip_is_exact_and_validates_against_the_published_schema(tmp_path: Path):
    text = jsonfile.dumps(REPORT)
    assert jsonfile.loads(text) == REPORT
    jsonschema.validate(json.loads(text), json.loads(SCHEMA_FILE.read_text()))


def test_the_published_schema_is_the_one_the_model_makes():
    assert SCHEMA_FILE.read_text() == jsonfile.schema_text(), "regenerate: python -m imagelab schema"


def test_a_renamed_field_is_refused_with_its_place():
    data = json.loads(jsonfile.dumps(REPORT))
    data["images"][1]["sise"] = data["images"][1].pop("size")
    with pytest.raises(ConfigError) as caught:
        jsonfile.loads(json.dumps(data), "old.json")
    assert caught.value.cause.startswith("old.json: images.1.")


def test_write_all_replaces_the_three_files(tmp_path: Path):
    (tmp_path / "compare.json").write_text("old")
    written = files.write_all(REPORT, tmp_path)
    assert sorted(p.name for p in written) == ["compare.json", "compare.md", "sizes.svg"]
    assert jsonfile.read(tmp_path / "compare.json") == REPORT
    svg = (tmp_path / "sizes.svg").read_text()
    assert "<svg" in svg and "900 MiB" in svg and "log scale" in svg
    assert not list(tmp_path.glob(".*tmp*"))


def test_a_run_where_every_image_failed_writes_failed_rows_and_no_chart(tmp_path: Path):
    broken = run(image("naive", None, built=False, exposure=None, failures=[failed("build", "parse error")]))
    written = files.write_all(broken, tmp_path)
    assert sorted(p.name for p in written) == ["compare.json", "compare.md"]
    assert "build FAILED" in (tmp_path / "compare.md").read_text()
    assert not list(tmp_path.glob(".*tmp*"))


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_an_unwritable_folder_is_one_line_and_the_old_files_stay(tmp_path: Path):
    (tmp_path / "compare.json").write_text("earlier")
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(ImagelabError) as caught:
            files.write_all(REPORT, tmp_path)
    finally:
        tmp_path.chmod(0o700)
    assert f"cannot write the report to {tmp_path}" in caught.value.cause
    assert (tmp_path / "compare.json").read_text() == "earlier"
    assert not list(tmp_path.glob(".*tmp*"))


def test_a_run_of_one_app_keeps_the_other_apps_rows(tmp_path: Path):
    files.write_all(run(image("naive", 900 * MiB, app="a"), image("naive", 800 * MiB, app="b")), tmp_path)
    later = run(
        image("naive", 700 * MiB, app="b", revision="fedcba9876543210", measured_at="2026-11-28T09:00:00Z")
    )
    merged = files.merged_with_earlier(later, tmp_path)
    assert [(i.app, i.size, i.revision[:4]) for i in merged.images] == [
        ("a", 900 * MiB, "0123"),
        ("b", 700 * MiB, "fedc"),
    ]
    assert "from runs at 2 revisions" in markdown.render(merged)


def test_rows_of_another_base_set_are_not_merged(tmp_path: Path):
    files.write_all(run(image("naive", 900 * MiB, app="a"), base_set="official"), tmp_path)
    later = run(image("naive", 700 * MiB, app="b"))
    assert files.merged_with_earlier(later, tmp_path).images == later.images


def test_the_readme_names_every_field_of_the_schema():
    """The README's schema section is what a reader sees first: it must not miss a field."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## compare.json") : readme.index("The *runtime closure*")]
    schema = json.loads(SCHEMA_FILE.read_text())
    names = set(schema["properties"])
    for definition in schema["$defs"].values():
        names |= set(definition.get("properties", {}))
    missing = sorted(name for name in names if name not in section)
    assert not missing, f"README's compare.json section lacks {missing}"


# -- compare.json's shape: the inventory one line a package (schema 2), schema 1 still read -------------

COMMITTED = ROOT / "results" / "compare.json"


def test_a_schema_1_report_reads_and_rewrites_to_the_same_run_in_half_the_bytes():
    old_text = (ROOT / "results" / "baseline.json").read_text()  # an older report, written in schema 1
    assert json.loads(old_text)["schema"] == 1
    old = jsonfile.loads(old_text)
    new_text = jsonfile.dumps(old)

    assert json.loads(new_text)["schema"] == 2
    assert jsonfile.loads(new_text) == old  # no figure, no package lost or changed
    assert len(new_text) < len(old_text) * 0.6
    jsonschema.validate(json.loads(new_text), json.loads(SCHEMA_FILE.read_text()))


def test_the_committed_report_is_schema_2_and_follows_the_published_schema():
    data = json.loads(COMMITTED.read_text())
    assert data["schema"] == 2
    jsonschema.validate(data, json.loads(SCHEMA_FILE.read_text()))
    inventory = data["images"][0]["exposure"]["inventory"]
    assert set(inventory) <= {"base", "own", "unknown"}
    assert all(len(line.split(" ")) == 3 for group in inventory.values() for line in group)


def test_the_inventory_is_grouped_by_origin_and_reads_back_as_the_sorted_list():
    report = jsonfile.loads(COMMITTED.read_text())
    packages = report.images[0].exposure.inventory
    text = jsonfile.dumps(report)
    inventory = json.loads(text)["images"][0]["exposure"]["inventory"]
    base = [p for p in packages if p.in_base]
    assert inventory["base"] == [f"{p.kind} {p.name} {p.version}" for p in base]
    assert jsonfile.loads(text).images[0].exposure.inventory == packages
    plain = jsonfile.expanded(json.loads(text))["images"][0]["exposure"]["inventory"]
    assert plain[0] == {
        "kind": packages[0].kind,
        "name": packages[0].name,
        "version": packages[0].version,
        "in_base": packages[0].in_base,
    }


def test_a_package_that_cannot_be_one_line_stays_an_object():
    report = jsonfile.loads(COMMITTED.read_text())
    odd = dataclasses.replace(report.images[0].exposure.inventory[0], version="1.0 beta", in_base=None)
    report.images[0].exposure.inventory = [odd]
    text = jsonfile.dumps(report)
    assert json.loads(text)["images"][0]["exposure"]["inventory"] == {"unknown": [dataclasses.asdict(odd)]}
    assert jsonfile.loads(text).images[0].exposure.inventory == [odd]
    jsonschema.validate(json.loads(text), json.loads(SCHEMA_FILE.read_text()))


def test_a_report_of_an_unknown_schema_is_refused_in_one_line():
    data = json.loads(COMMITTED.read_text()) | {"schema": 3}
    with pytest.raises(ConfigError, match="schema 1 or 2 \\(found schema 3\\)"):
        jsonfile.loads(json.dumps(data))
