"""Start-up in the tables and the lessons: a median of several starts, its spread and count, the engine's
part apart from the app's."""

from __future__ import annotations

import json

from reports import image, run

from imagelab.report import columns, jsonfile, lessons, markdown, startup
from imagelab.report.model import StartupFacts

TIMED = StartupFacts(container_seconds=[0.12, 0.10, 0.11], readiness_seconds=[0.50, 0.30, 0.31])


def test_the_cell_shows_the_median_its_range_and_the_count() -> None:
    timed = image("slim", 1, first_answer_seconds=0.42, startup=TIMED)
    assert startup.first_answer(timed) == "0.42 s (0.40-0.62, 3x)"
    assert startup.container_start(timed) == "0.11 s"


def test_a_row_timed_once_or_not_at_all_says_only_what_was_measured() -> None:
    assert startup.first_answer(image("slim", 1, first_answer_seconds=0.4)) == "0.40 s"
    job = image("minimal", 1, first_answer_seconds=None)
    assert (startup.first_answer(job), startup.container_start(job)) == ("-", "-")


def test_the_table_has_the_engines_part_beside_the_first_answer() -> None:
    headings = [h for h, _ in columns.COLUMNS]
    at = headings.index("1st answer")
    assert headings[at + 1] == "of it engine"
    text = markdown.render(run(image("slim", 1, first_answer_seconds=0.42, startup=TIMED)))
    assert "| 0.42 s (0.40-0.62, 3x) | 0.11 s |" in text
    assert "median of several starts" in text


def test_the_lessons_quote_the_spread_the_count_and_both_parts() -> None:
    report = run(image("slim", 1, app="demo", first_answer_seconds=0.42, startup=TIMED))
    text = " ".join(
        f"<!-- fig: demo/slim {metric} -->?<!-- /fig -->"
        for metric in ("first-answer", "first-answer-spread", "starts", "engine-start", "app-ready")
    )
    filled = lessons.fill_figures(text, report)
    values = [part.split("-->")[1] for part in filled.split("<!-- /fig -->")[:-1]]
    assert values == ["0.42 s", "0.40-0.62 s", "3", "0.11 s", "0.31 s"]
    assert lessons.fill_figures(text, json.loads(jsonfile.dumps(report))) == filled
    before = lessons.fill_figures(text, run(image("slim", 1, app="demo", first_answer_seconds=0.4)))
    assert [part.split("-->")[1] for part in before.split("<!-- /fig -->")[:-1]] == [
        "0.40 s",
        "-",
        "-",
        "-",
        "-",
    ]


def test_the_starts_round_trip_through_compare_json() -> None:
    report = run(image("slim", 1, first_answer_seconds=0.42, startup=TIMED))
    back = jsonfile.loads(jsonfile.dumps(report))
    assert back.images[0].startup == TIMED
    assert back.images[0].startup.totals() == [0.62, 0.4, 0.42]
