"""breakdown: where the bytes go in compare.md, compare.json and results/composition.svg."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import reports
from reports import MiB

from imagelab import ROOT
from imagelab.inspect.composition import KINDS
from imagelab.report import breakdown, files, jsonfile, markdown
from imagelab.report.model import LayerSize

SCHEMA_FILE = ROOT / "results" / "compare.schema.json"


def parts(**sizes: int) -> dict[str, int]:
    return {kind: sizes.get(kind, 0) for kind in KINDS}


NAIVE = reports.image(
    "naive",
    1000 * MiB,
    composition=parts(
        app=MiB // 100, os=500 * MiB, toolchain=400 * MiB, caches=90 * MiB, wasted=10 * MiB - 10_485
    ),
    largest_layers=[
        LayerSize("RUN |1 PACKAGES=gcc /bin/sh -c apt-get install gcc", 700 * MiB, "3", "base"),
        LayerSize("RUN go build -o /usr/local/bin/app .", 100 * MiB, "14-15", "dockerfile"),
    ],
)
MINIMAL = reports.image(
    "minimal",
    6 * MiB,
    composition=parts(app=5 * MiB, os=MiB),
    largest_layers=[LayerSize("COPY --from=build /out/app /app", 5 * MiB, "12", "dockerfile")],
)


def test_one_compact_table_per_app_with_each_row_adding_up():
    lines = breakdown.markdown([NAIVE, MINIMAL])

    assert lines[0] == (
        "| variant | app | deps | runtime | OS pkgs | toolchain | docs | caches | wasted | other | total |"
    )
    assert lines[2] == "| naive | <0.1 | 0 | 0 | 500 | 400 | 0 | 90 | 10.0 | 0 | 1000 |"
    assert lines[3] == "| minimal | 5.0 | 0 | 0 | 1.0 | 0 | 0 | 0 | 0 | 0 | 6.0 |"
    # The largest layers name their line, or the FROM line of the base image they come from.
    assert "- **naive**: base image (FROM, line 3): `RUN |1 PACKAGES=gcc" in "\n".join(lines)
    assert "line 14-15: `RUN go build -o /usr/local/bin/app .` 100 MiB" in lines[-3]
    assert lines[-2] == "- **minimal**: line 12: `COPY --from=build /out/app /app` 5.0 MiB"


def test_images_without_a_composition_leave_no_table():
    assert breakdown.markdown([reports.image("slim", 100 * MiB)]) == []
    text = "\n".join(breakdown.markdown([NAIVE, reports.image("slim", None, built=False)]))
    assert "naive" in text and "slim" not in text


def test_the_report_carries_the_composition_and_the_chart_draws_it(tmp_path: Path):
    run = reports.run(NAIVE, MINIMAL)

    written = files.write_all(run, tmp_path)

    assert tmp_path / "composition.svg" in written
    text = (tmp_path / "compare.json").read_text()
    jsonschema.validate(json.loads(text), json.loads(SCHEMA_FILE.read_text()))
    assert jsonfile.loads(text).images[0].composition == NAIVE.composition
    assert "| naive | <0.1 |" in (tmp_path / "compare.md").read_text()
    drawn = (tmp_path / "composition.svg").read_text()  # matplotlib keeps each text as a comment
    ET.fromstring(drawn)  # well-formed
    assert "where the bytes go" in drawn and "build toolchain" in drawn  # the title and the legend
    assert "0.98 GiB" in drawn and "6.0 MiB" in drawn  # each bar's total


def test_no_composition_no_chart(tmp_path: Path):
    (tmp_path / "composition.svg").write_text("<svg>stale</svg>")
    written = files.write_all(reports.run(reports.image("naive", 100 * MiB)), tmp_path)
    assert not (tmp_path / "composition.svg").exists()
    assert tmp_path / "compare.md" in written


def test_the_markdown_report_explains_the_kinds():
    text = markdown.render(reports.run(NAIVE, MINIMAL))
    assert breakdown.EXPLAINED in text
    assert text.index("| variant | app | deps |") > text.index("## demo")
