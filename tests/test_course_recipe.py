"""The course's microblog recipe (benchmarks/course/microblog.Dockerfile), measured beside multistage by
benchmarks/course_recipe.py: linted like every Dockerfile, written in the project's terms, and, built on
the local base set (marker docker), its final COPY carries the pip packages under /usr/local."""

from __future__ import annotations

import functools
import importlib.util
import re
import sys
from pathlib import Path

import pytest
from lessons_support import base_images, instructions, scratch_tag, stages
from saved_images import file, symlink, write_docker_archive

from imagelab import ROOT, cli, engine, needs
from imagelab.checks import lint
from imagelab.inspect import imagefs, layers

COURSE = ROOT / "benchmarks" / "course" / "microblog.Dockerfile"
MULTISTAGE = ROOT / "dockerfiles" / "microblog" / "multistage.Dockerfile"
REQUIREMENT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==", re.MULTILINE)


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def test_the_lint_command_covers_it(monkeypatch, tmp_path: Path, capsys) -> None:
    # dockerfiles/ made empty: what lint still reads is the benchmarks' recipes. No engine: the build
    # checks are stubbed (test_lint.py runs them on one).
    (tmp_path / "dockerfiles").mkdir()
    monkeypatch.setattr(lint, "DOCKERFILES", tmp_path / "dockerfiles")
    monkeypatch.setattr(lint, "build_checks", lambda paths, folder: ([], "not run: stubbed"))
    assert cli.main(["lint"]) == 0
    err = capsys.readouterr().err
    assert "benchmarks/course/microblog.Dockerfile" in err  # its allowed finding, with its reason
    assert "lint: pass (2 Dockerfiles" in err


def test_it_is_no_variant_of_the_compare_table() -> None:
    assert COURSE.parent.parent.name == "benchmarks"
    assert not list((ROOT / "dockerfiles" / "microblog").glob("course*"))


def test_it_is_the_courses_recipe_in_the_projects_terms() -> None:
    course, multistage = COURSE.read_text(), MULTISTAGE.read_text()
    # The same base roles as multistage, the builder on the full image and the runtime on the slim one.
    assert [base for base, _ in stages(course)] == ["${PYTHON_IMAGE}", "${PYTHON_SLIM_IMAGE}"]
    arguments = re.compile(r"^ARG (\w+_IMAGE)=(\S+)$", re.MULTILINE)
    assert arguments.findall(course) == arguments.findall(multistage)
    steps = instructions(course)
    assert "RUN pip install -r requirements.txt" in steps  # as root, into the image's own Python
    assert "COPY --from=builder /usr/local/ /usr/local/" in steps
    # Non-root by number, and the same command as multistage.
    final = steps[[i for i, s in enumerate(steps) if s.startswith("FROM")][-1] :]
    assert "USER 65532:65532" in final
    cmd = [s for s in instructions(multistage) if s.startswith("CMD")]
    assert [s for s in final if s.startswith("CMD")] == cmd
    assert needs.need(COURSE) == needs.oldest_engine(course)


@functools.cache
def benchmark():
    """benchmarks/course_recipe.py as a module (benchmarks/ is no package): its dataclasses need it in
    sys.modules while they are made."""
    spec = importlib.util.spec_from_file_location("course_recipe", ROOT / "benchmarks" / "course_recipe.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def python_parts_of(tmp_path: Path, members: list) -> dict[str, str]:
    """The parts table's cells for an image made of these files, and its note under "note"."""
    course_recipe = benchmark()
    with imagefs.open_archive(write_docker_archive(tmp_path / "image.tar", [members])) as fs:
        found = course_recipe.parts_of("test", fs)
    return {part: course_recipe.cell(value) for part, value in found.parts.items()} | {"note": found.note}


def test_the_parts_of_pythons_in_either_layout_are_measured_where_they_are(tmp_path: Path) -> None:
    kib = b"x" * 1024
    debian = python_parts_of(tmp_path, [
        symlink("usr/local/bin/python3", "/usr/bin/python3.13"),
        file("usr/bin/python3.13", kib * 512),
        file("usr/lib/python3.13/os.py", kib * 1024),
        file("usr/lib/python3/dist-packages/pip/__init__.py", kib * 256),
    ])  # fmt: skip
    assert debian["note"].startswith("prefix /usr (interpreter /usr/bin/python3.13)")
    assert (debian["interpreter"], debian["standard library"], debian["pip"]) == (
        "0.5 MiB",
        "1.0 MiB",
        "0.2 MiB",
    )
    assert debian["headers"] == debian["libpython"] == "none"  # measured: the image has none
    usr_local = python_parts_of(tmp_path, [
        symlink("usr/local/bin/python3", "python3.13"),
        file("usr/local/bin/python3.13", kib * 512),
        file("usr/local/lib/python3.13/os.py", kib * 1024),
        file("usr/local/lib/python3.13/site-packages/pip/__init__.py", kib * 256),
        file("usr/local/lib/libpython3.13.so.1.0", kib * 256),
        file("usr/local/include/python3.13/Python.h", kib * 128),
    ])  # fmt: skip
    assert usr_local["note"].startswith("prefix /usr/local ")
    assert [usr_local[p] for p in ("interpreter", "standard library", "libpython", "headers", "pip")] == [
        "0.5 MiB", "1.0 MiB", "0.2 MiB", "0.1 MiB", "0.2 MiB",
    ]  # fmt: skip


def test_what_cannot_be_measured_says_so_never_zero(tmp_path: Path) -> None:
    no_python = python_parts_of(tmp_path, [file("usr/bin/env", b"x")])
    assert "no file" in no_python["note"]
    assert {cell for part, cell in no_python.items() if part != "note"} == {"-"}
    elsewhere = python_parts_of(tmp_path, [
        symlink("usr/local/bin/python3", "/opt/python/bin/python3.13"),
        file("opt/python/bin/python3.13", b"x" * 2**17),
        file("opt/python/lib/python313.zip", b"x" * 1024),  # a standard library not where it is looked for
    ])  # fmt: skip
    assert "no standard library under /opt/python/lib/python3.13/" in elsewhere["note"]
    assert elsewhere["standard library"] == elsewhere["build files (config-*, a static libpython)"] == "-"
    assert elsewhere["interpreter"] == "0.1 MiB"


@pytest.mark.docker
def test_its_final_copy_carries_the_pip_packages_under_usr_local() -> None:
    wanted = {
        normalized(name)
        for name in REQUIREMENT.findall((ROOT / "apps" / "microblog" / "requirements.txt").read_text())
    }
    with scratch_tag("course-microblog") as tag:
        engine.build_image(ROOT / "apps" / "microblog", COURSE, tag, build_args=base_images(), timeout_s=900)
        with imagefs.saved(tag) as fs:
            views = layers.views(fs, COURSE.read_text())
            copy = next(v for v in views if v.instruction == "COPY --from=builder /usr/local/ /usr/local/")
            packages = re.compile(
                r"^/usr/local/lib/python3\.\d+/(?:site|dist)-packages/([^/]+)-[^-/]+\.dist-info/"
            )
            found = {
                normalized(m[1]) for path, entry in fs.entries.items() if entry.layer == copy.index
                if (m := packages.match(path))
            }  # fmt: skip
        assert wanted and wanted <= found, sorted(wanted - found)
        assert engine.image_config(tag)["User"] == "65532:65532"


RESULTS = ROOT / "benchmarks" / "results.md"
SECTION = "## The course's microblog recipe beside multistage"
PAGES = {ROOT / "docs" / "lessons.md": ".", ROOT / "docs" / "lessons.fr.md": ","}  # decimal marks


def measured() -> dict[str, str]:
    """The figures both lessons pages quote, as benchmarks/course_recipe.py wrote them in results.md."""
    rows: dict[tuple[str, str], list[str]] = {}
    for line in RESULTS.read_text().split(SECTION, 1)[1].splitlines():
        if line.startswith("| "):  # each table's rows, the first row of a (recipe, bases) kept: its sizes
            cells = [cell.strip().strip("*") for cell in line.strip().strip("|").split("|")]
            rows.setdefault((cells[0], cells[1]), cells)
    as_is = "the base set's images"
    moved = "on a /usr/local layout (local stand-in laid out like the official image)"
    figures = {
        "image": rows["course", as_is][2],
        "layer": rows["course", as_is][6],
        "image, /usr/local": rows["course", moved][2],
        "multistage image, /usr/local": rows["multistage", moved][2],
        "layer, /usr/local": rows["course", moved][6],
        "hidden, /usr/local": rows["course", moved][8],
        "venv layer, /usr/local": rows["multistage", moved][6],
    }
    return {what: cell.removesuffix(" MiB") for what, cell in figures.items()}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_the_lessons_quote_the_benchmarks_figures(page: Path) -> None:
    text = page.read_text()
    assert "benchmarks/results.md" in text and "benchmarks/course_recipe.py" in text
    for what, figure in measured().items():
        assert figure.replace(".", PAGES[page]) in text, (what, figure)
