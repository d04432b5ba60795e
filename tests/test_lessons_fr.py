"""docs/lessons.fr.md, the course's claims answered for its French readers: its figures come from the
committed report through the same marked places as docs/lessons.md, and it stays linked."""

from __future__ import annotations

import re

from imagelab import ROOT, pipeline
from imagelab.report import jsonfile, lessons

PAGE = ROOT / "docs" / "lessons.fr.md"


def test_the_french_page_is_filled_from_the_committed_report() -> None:
    page = PAGE.read_text()
    report = jsonfile.read(ROOT / "results" / "compare.json")
    assert len(lessons.FIGURE.findall(page)) >= 30
    sets = lessons.set_reports(lessons.named_sets(page), ROOT / "results" / "sets")
    assert lessons.fill_figures(page, report, source=PAGE.name, sets=sets) == page


def test_compare_refreshes_it_with_the_english_page() -> None:
    assert PAGE in pipeline.LESSONS and ROOT / "docs" / "lessons.md" in pipeline.LESSONS


def test_each_claim_of_the_course_has_its_section() -> None:
    headings = [line for line in PAGE.read_text().splitlines() if line.startswith("## ")]
    for claim in (
        "42 couches",
        "distroless",
        "170 Mo",
        "COPY --from=builder /usr/local/ /usr/local/",
        "--omit=dev",
        "--chown=nonroot",
        "scans de sécurité",
        "dive",
        "Alpine",
        "glossaire",
    ):
        assert any(claim in heading for heading in headings), claim


def test_the_glossary_defines_the_words_the_course_uses() -> None:
    glossary = PAGE.read_text().split("## Petit glossaire", 1)[1]
    for word in ("Couche", "Étape", "Contexte de build", "Mo et Mio"):
        assert re.search(rf"^- \*\*{word}\*\*", glossary, re.MULTILINE), word


def test_the_readme_and_the_english_page_link_to_it() -> None:
    assert "(docs/lessons.fr.md)" in (ROOT / "README.md").read_text()
    assert "(lessons.fr.md)" in (ROOT / "docs" / "lessons.md").read_text()
