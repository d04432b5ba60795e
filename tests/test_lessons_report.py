"""docs/lessons.md quotes the report's figures through marked places; imagelab.report.lessons fills them."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from imagelab import ROOT
from imagelab.errors import ConfigError
from imagelab.report import jsonfile, lessons

MiB = 1024 * 1024


def image(app: str, variant: str, **figures: object) -> dict:
    return {"app": app, "variant": variant, **figures}


REPORT = {
    "images": [
        image("microblog", "naive", size=976 * MiB, compressed_size=313 * MiB, first_answer_seconds=0.64),
        image("microblog", "slim", size=207 * MiB, share_of_naive=0.212, first_answer_seconds=0.5),
        image(
            "microblog",
            "minimal",
            size=int(5.5 * MiB),
            first_answer_seconds=0.55,
            exposure={"counts": {"deb": 0, "python": 25}},
        ),
        image("microblog", "distroless", size=None, exposure={"os_packages": 29}),
    ]
}


def test_each_marked_figure_takes_its_value_from_the_report() -> None:
    text = (
        "naive: <!-- fig: microblog/naive size -->old<!-- /fig -->, "
        "pulled <!-- fig: microblog/naive pull --><!-- /fig -->; "
        "slim <!-- fig: microblog/slim share-of-naive -->?<!-- /fig --> of it.\n"
        "minimal answers in <!-- fig: microblog/minimal first-answer -->1 s<!-- /fig --> "
        "(<!-- fig: microblog/minimal first-answer-vs-slim -->x<!-- /fig --> slim's), "
        "<!-- fig: microblog/minimal size -->x<!-- /fig -->, "
        "<!-- fig: microblog/minimal os-packages -->x<!-- /fig --> OS packages "
        "vs <!-- fig: microblog/distroless os-packages -->x<!-- /fig -->."
    )
    assert lessons.fill_figures(text, REPORT) == (
        "naive: <!-- fig: microblog/naive size -->976 MiB<!-- /fig -->, "
        "pulled <!-- fig: microblog/naive pull -->313 MiB<!-- /fig -->; "
        "slim <!-- fig: microblog/slim share-of-naive -->21 %<!-- /fig --> of it.\n"
        "minimal answers in <!-- fig: microblog/minimal first-answer -->0.55 s<!-- /fig --> "
        "(<!-- fig: microblog/minimal first-answer-vs-slim -->1.10x<!-- /fig --> slim's), "
        "<!-- fig: microblog/minimal size -->5.5 MiB<!-- /fig -->, "
        "<!-- fig: microblog/minimal os-packages -->0<!-- /fig --> OS packages "
        "vs <!-- fig: microblog/distroless os-packages -->29<!-- /fig -->."
    )


def test_the_top_layer_and_decimal_megabytes_read_from_the_report() -> None:
    # `docker images` prints decimal MB; the page's sizes are MiB: the course's "Mo" needs both.
    report = {
        "images": [
            image(
                "microblog",
                "minimal",
                size=206_000_000,
                layer_details=[{"size": 57 * MiB}, {"size": 0}, {"size": 16 * MiB}],
            ),
            image("microblog", "slim", size=None, layer_details=[]),
        ]
    }
    text = (
        "<!-- fig: microblog/minimal last-layer -->?<!-- /fig --> "
        "<!-- fig: microblog/minimal size-mb -->?<!-- /fig --> "
        "<!-- fig: microblog/minimal size -->?<!-- /fig --> "
        "<!-- fig: microblog/slim last-layer -->?<!-- /fig --> <!-- fig: microblog/slim size-mb -->?<!-- /fig -->"
    )
    assert lessons.fill_figures(text, report) == (
        "<!-- fig: microblog/minimal last-layer -->16 MiB<!-- /fig --> "
        "<!-- fig: microblog/minimal size-mb -->206 MB<!-- /fig --> "
        "<!-- fig: microblog/minimal size -->196 MiB<!-- /fig --> "
        "<!-- fig: microblog/slim last-layer -->-<!-- /fig --> <!-- fig: microblog/slim size-mb -->-<!-- /fig -->"
    )


def test_a_figure_the_run_did_not_measure_reads_as_a_dash() -> None:
    text = "<!-- fig: microblog/distroless size -->123 MiB<!-- /fig -->"
    assert lessons.fill_figures(text, REPORT) == "<!-- fig: microblog/distroless size -->-<!-- /fig -->"


def test_filling_twice_changes_nothing_more() -> None:
    text = "a <!-- fig: microblog/slim size -->?<!-- /fig --> b"
    once = lessons.fill_figures(text, REPORT)
    assert lessons.fill_figures(once, REPORT) == once


@dataclass
class Typed:
    app: str
    variant: str
    size: int | None = None
    exposure: object = None


@dataclass
class TypedRun:
    images: list[Typed] = field(default_factory=list)


def test_the_typed_report_reads_the_same_as_its_json() -> None:
    run = TypedRun([Typed("go-href", "minimal", size=6148501)])
    text = "<!-- fig: go-href/minimal size -->?<!-- /fig -->"
    assert lessons.fill_figures(text, run) == "<!-- fig: go-href/minimal size -->5.9 MiB<!-- /fig -->"


@pytest.mark.parametrize(
    ("marker", "cause", "hint"),
    [
        (
            "microblog/tiny size",
            "lessons.md:2: figure microblog/tiny size: the report has no such image",
            "it has:",
        ),
        (
            "microblog/slim girth",
            "lessons.md:2: figure microblog/slim girth: unknown metric",
            "metrics: size",
        ),
    ],
)
def test_a_marker_the_report_cannot_fill_is_one_clear_error(marker: str, cause: str, hint: str) -> None:
    text = f"first line\nthen <!-- fig: {marker} -->1<!-- /fig -->\n"
    with pytest.raises(ConfigError) as caught:
        lessons.fill_figures(text, REPORT, source="lessons.md")
    assert caught.value.cause == cause
    assert caught.value.hint.startswith(hint)


def test_update_lessons_writes_only_when_a_figure_changed(tmp_path: Path) -> None:
    path = tmp_path / "lessons.md"
    path.write_text("<!-- fig: microblog/naive size -->old<!-- /fig -->\n")
    assert lessons.update_lessons(path, REPORT) is True
    assert path.read_text() == "<!-- fig: microblog/naive size -->976 MiB<!-- /fig -->\n"
    assert lessons.update_lessons(path, REPORT) is False


def test_docs_lessons_md_is_filled_from_the_committed_report() -> None:
    # Every marker of the real page names an image and a metric the committed report has, and the
    # page as committed already holds the report's figures.
    page = (ROOT / "docs" / "lessons.md").read_text()
    report = jsonfile.read(ROOT / "results" / "compare.json")
    assert len(lessons.FIGURE.findall(page)) >= 20
    sets = lessons.set_reports(lessons.named_sets(page), ROOT / "results" / "sets")
    assert lessons.fill_figures(page, report, sets=sets) == page


def test_the_typed_report_and_its_json_fill_the_page_alike() -> None:
    page = (ROOT / "docs" / "lessons.md").read_text()
    path = ROOT / "results" / "compare.json"
    sets = lessons.set_reports(lessons.named_sets(page), ROOT / "results" / "sets")
    assert lessons.fill_figures(page, jsonfile.read(path), sets=sets) == lessons.fill_figures(
        page, json.loads(path.read_text()), sets=sets
    )


RELEASED = {"images": [image("microblog", "naive", size=980 * MiB)]}


def test_a_figure_that_names_a_base_set_reads_that_sets_report() -> None:
    text = (
        "now <!-- fig: microblog/naive size -->?<!-- /fig -->, "
        "as released <!-- fig: microblog/naive@debian-release size -->?<!-- /fig -->"
    )
    assert lessons.named_sets(text) == {"debian-release"}
    assert lessons.fill_figures(text, REPORT, sets={"debian-release": RELEASED}) == (
        "now <!-- fig: microblog/naive size -->976 MiB<!-- /fig -->, "
        "as released <!-- fig: microblog/naive@debian-release size -->980 MiB<!-- /fig -->"
    )


def test_a_figure_of_a_set_with_no_report_says_which_sets_have_one(tmp_path: Path) -> None:
    text = "<!-- fig: microblog/naive@debian-release size -->?<!-- /fig -->"
    (tmp_path / "debian12").mkdir()
    (tmp_path / "debian12" / "compare.json").write_text((ROOT / "results" / "compare.json").read_text())
    sets = lessons.set_reports({"debian-release", "debian12"}, tmp_path)
    assert set(sets) == {"debian12"}
    with pytest.raises(ConfigError, match="no report of base set 'debian-release'") as error:
        lessons.fill_figures(text, REPORT, source="lessons.md", sets=sets)
    assert "debian12" in (error.value.hint or "") and "bump -- --from debian-release" in (
        error.value.hint or ""
    )


def scan(**figures: object) -> dict:
    """A vulnerability scan as compare.json holds it (vuln_facts.VulnFacts)."""
    found: dict = {"fixable_cves": 0, "fixable_packages": 0, "go_vulns": 0, "support_limited": 0}
    return found | figures


VULNS = {
    "images": [
        image(
            "go-href",
            "naive",
            vulnerabilities=scan(
                go_vulns=2,
                support_limited=8,
                go_binaries=["/usr/local/go/bin/go", "/usr/local/bin/go-href"],
                go=[
                    {"id": "GO-2026-0001", "module": "golang.org/x/net", "installed": "v0.50.0"},
                    {"id": "GO-2026-0002", "module": "golang.org/x/net", "installed": "v0.50.0"},
                ],
                os_data=[
                    {"source": "trixie-security", "date": "2026-12-04"},
                    {"source": "trixie-updates", "date": "2026-12-01", "offline": True},
                ],
                go_data={"source": "golang.org/x/vulndb@v0.0.0-20261105", "date": "2026-11-05"},
            ),
        ),
        # Debian packages and no index to judge them with; Go programs and no database.
        image(
            "go-href",
            "distroless",
            vulnerabilities=scan(
                fixable_cves=None, fixable_packages=None, go_vulns=None, go_binaries=["/go-href"]
            ),
        ),
        image("go-href", "minimal"),  # a report from before the scan
    ]
}


def test_the_scan_figures_read_from_the_report() -> None:
    text = (
        "<!-- fig: go-href/naive fixable-cves -->?<!-- /fig --> "
        "<!-- fig: go-href/naive go-vulns -->?<!-- /fig --> "
        "<!-- fig: go-href/naive go-programs -->?<!-- /fig --> "
        "<!-- fig: go-href/naive go-modules -->?<!-- /fig --> "
        "<!-- fig: go-href/naive support-limited -->?<!-- /fig -->\n"
        "<!-- fig: go-href/naive os-data -->?<!-- /fig --> <!-- fig: go-href/naive go-data -->?<!-- /fig -->"
    )
    assert lessons.fill_figures(text, VULNS) == (
        "<!-- fig: go-href/naive fixable-cves -->0<!-- /fig --> "
        "<!-- fig: go-href/naive go-vulns -->2<!-- /fig --> "
        "<!-- fig: go-href/naive go-programs -->2<!-- /fig --> "
        "<!-- fig: go-href/naive go-modules -->golang.org/x/net v0.50.0<!-- /fig --> "
        "<!-- fig: go-href/naive support-limited -->8<!-- /fig -->\n"
        "<!-- fig: go-href/naive os-data -->trixie-security of 2026-12-04, "
        "trixie-updates of 2026-12-01 (kept from an earlier run)<!-- /fig --> "
        "<!-- fig: go-href/naive go-data -->golang.org/x/vulndb@v0.0.0-20261105 of 2026-11-05<!-- /fig -->"
    )


def test_a_scan_without_data_says_so_and_an_unscanned_image_reads_as_a_dash() -> None:
    # "no data" is not 0: the figure could not be judged. "-": the report predates the scan.
    text = "".join(
        f"<!-- fig: go-href/{variant} {metric} -->?<!-- /fig -->"
        for variant in ("distroless", "minimal")
        for metric in ("fixable-cves", "go-vulns", "go-modules", "os-data", "go-data")
    )
    filled = lessons.fill_figures(text, VULNS)
    values = re.findall(r"-->([^<]*)<!-- /fig", filled)
    assert values == ["no data"] * 5 + ["-"] * 5


def test_the_lessons_command_refills_the_pages_from_a_written_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from imagelab import cli, pipeline

    report = tmp_path / "compare.json"
    report.write_text((ROOT / "results" / "compare.json").read_text())
    page = tmp_path / "lessons.md"
    page.write_text("<!-- fig: go-href/distroless go-vulns -->?<!-- /fig -->\n")
    monkeypatch.setattr(pipeline, "LESSONS", (page,))
    assert cli.main(["lessons", "--report", str(report)]) == 0
    expected = lessons.fill_figures(page.read_text(), jsonfile.read(report))
    assert page.read_text() == expected != "<!-- fig: go-href/distroless go-vulns -->?<!-- /fig -->\n"
