"""One image's size counted five ways: the report's files and pull, the engine's Size, what `docker images`
and `docker system df -v` print. Rendering on hand-made reports; the figures on a real image."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from lessons_support import build_variant, scratch_tag
from reports import image, run

from imagelab import engine
from imagelab.inspect import imagefs
from imagelab.inspect import sizes as image_sizes
from imagelab.report import jsonfile, lessons, markdown, sizes
from imagelab.report.model import EngineSizes

MB = 1_000_000
MiB = 1024 * 1024


@pytest.mark.parametrize(
    ("size", "precision", "printed"),
    [
        (205_673_511, 3, "206MB"),  # microblog multistage as `docker images` printed it
        (6_148_501, 3, "6.15MB"),
        (205_673_511, 4, "205.7MB"),  # df's SHARED SIZE keeps a fourth digit
        (32, 4, "32B"),
        (0, 4, "0B"),
        (1_388_000, 3, "1.39MB"),
        (976_800_000, 3, "977MB"),
        (1_120_000_000, 3, "1.12GB"),
        (999_999, 3, "1e+03kB"),  # go-units rounds after choosing the unit, and so does this
    ],
)
def test_sizes_read_as_the_docker_cli_prints_them(size: int, precision: int, printed: str) -> None:
    assert sizes.docker_size(size, precision) == printed


def test_a_size_not_measured_is_a_dash_not_zero() -> None:
    assert sizes.docker_size(None) == "-"


def listed_image(variant: str, size: int, **changes) -> object:
    found = EngineSizes("classic", listed=size, disk=size, shared=size - 32, unique=32)
    return image(variant, size, app="demo", engine_size=size, engine_sizes=found, **changes)


def test_the_sizes_table_sets_the_five_figures_side_by_side() -> None:
    report = run(listed_image("slim", 197 * MiB), image("naive", 932 * MiB, app="demo"))
    text = markdown.render(report)
    table = text.split("counted five ways (classic image store")[1].splitlines()
    slim = next(line for line in table if line.startswith("| slim | 197 MiB | 66 MiB |"))
    # 197 MiB is 206.6 million bytes: the CLI's 207MB, the same bytes in another unit
    assert slim.split(" | ")[3:] == ["207MB", "207MB", "207MB", "206.6MB", "32B |"]
    naive = next(line for line in table if line.startswith("| naive | 932 MiB"))
    assert naive.count(sizes.NOT_MEASURED) == 5, "a row from before the listing says so, never 0"
    assert sizes.EXPLAINED in text


def test_a_report_from_before_the_listing_has_no_sizes_table() -> None:
    text = markdown.render(run(image("naive", 932 * MiB, app="demo")))
    assert "counted five ways" not in text


def test_the_lessons_quote_the_engines_figures() -> None:
    report = run(listed_image("slim", 197 * MiB))
    text = (
        "<!-- fig: demo/slim docker-images -->?<!-- /fig --> <!-- fig: demo/slim df-shared -->?<!-- /fig --> "
        "<!-- fig: demo/slim df-unique -->?<!-- /fig --> <!-- fig: demo/slim store -->?<!-- /fig --> "
        "<!-- fig: demo/slim engine-size -->?<!-- /fig --> <!-- fig: demo/slim pull-mb -->?<!-- /fig -->"
    )
    filled = lessons.fill_figures(text, report)
    values = [part.split("-->")[1] for part in filled.split("<!-- /fig -->")[:-1]]
    assert values == ["207MB", "206.6MB", "32B", "classic", "207MB", "69 MB"]
    # the JSON form of the same report reads alike
    assert lessons.fill_figures(text, json.loads(jsonfile.dumps(report))) == filled


def test_an_image_measured_before_the_listing_reads_a_dash_in_the_lessons() -> None:
    report = run(image("slim", 197 * MiB, app="demo"))
    text = "<!-- fig: demo/slim docker-images -->?<!-- /fig -->"
    assert lessons.fill_figures(text, report) == "<!-- fig: demo/slim docker-images -->-<!-- /fig -->"


@pytest.mark.docker
def test_a_real_image_counted_five_ways_relates_as_it_must(tmp_path: Path) -> None:
    with scratch_tag("sizes") as tag:
        build_variant("go-href", "minimal", tag)
        with imagefs.saved(tag) as fs:
            found = image_sizes.measure_image(
                tag,
                Path("dockerfiles/go-href/minimal.Dockerfile"),
                {},
                fs,
                image_sizes.CompressedSizes(tmp_path / "layers.json"),
            )
            unpacked = fs.size
        listed = found.listed
        assert listed is not None
        assert 0 < found.compressed_size <= found.size == unpacked
        assert listed.listed == listed.disk, "docker images and system df print one figure"
        if found.store == "classic":  # an image is its unpacked layers: the engine counts what we count
            assert listed.listed == found.engine_size == found.size
        else:  # Size is the content store's compressed blobs; the listings add the unpacked snapshot
            assert found.engine_size >= found.compressed_size and listed.listed > found.engine_size
        assert listed.shared is not None and listed.unique is not None
        assert listed.shared + listed.unique == listed.disk and listed.unique >= 0
        # ... and the CLI prints them as this report's renderer does
        cli = subprocess.run(
            ["docker", "images", "--format", "{{.Size}}", tag],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        assert cli.stdout.strip() == sizes.docker_size(listed.listed)
        df = subprocess.run(
            ["docker", "system", "df", "-v", "--format", "{{json .}}"],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        row = next(i for i in json.loads(df.stdout)["Images"] if i["ID"] == engine.image_id(tag))
        assert row["Size"] == sizes.docker_size(listed.disk)
