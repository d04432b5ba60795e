"""layers: each layer's Dockerfile line, size, folders and what it hides; and on the real matrix."""

from __future__ import annotations

from pathlib import Path

import pytest
from saved_images import file, whiteout, write_docker_archive

from imagelab import apps, bases, cli, dockerfile
from imagelab.inspect import imagefs, layers, origin

DOCKERFILE = """\
# syntax comment and a blank line first

ARG PYTHON_IMAGE=python:3.13
ARG PYTHON_SLIM_IMAGE=python:3.13-slim

FROM ${PYTHON_IMAGE} AS build
WORKDIR /app
COPY requirements.txt ./
# a comment between instructions
RUN pip install --no-cache-dir \\
    # a comment inside a continued RUN: BuildKit drops it
    -r requirements.txt \\
 && rm -rf /tmp/junk

FROM build AS test
RUN python -m pytest

FROM ${PYTHON_SLIM_IMAGE} AS runtime
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
ARG APP_HOME=/srv/app
RUN --mount=type=cache,target=/root/.cache/pip useradd --uid 65532 nonroot \\
 && echo "${APP_HOME}"
COPY --from=build --chown=65532:65532 /app /app
WORKDIR ${APP_HOME}
COPY . .
USER 65532
CMD ["python", "-m", "app"]
"""

# What BuildKit writes in the history of the runtime stage's image (as `docker history` shows it).
HISTORY = [
    "ADD rootfs.tar / # buildkit",  # the base image's layers
    "RUN |1 PACKAGES=python3 /bin/sh -c apt-get update && apt-get install -y python3 # buildkit",
    (
        "RUN |1 APP_HOME=/srv/app /bin/bash -o pipefail -c"
        ' useradd --uid 65532 nonroot  && echo "${APP_HOME}" # buildkit'
    ),
    "COPY /app /app # buildkit",
    "WORKDIR /srv/app",
    "COPY . . # buildkit",
]


def test_instructions_keep_their_lines_and_drop_comments():
    found = layers.parse_dockerfile(DOCKERFILE)

    run = next(i for i in found if i.text.startswith("RUN pip"))
    assert (run.line, run.last_line, run.lines) == (10, 13, "10-13")
    assert run.args == "pip install --no-cache-dir -r requirements.txt && rm -rf /tmp/junk"
    assert [i.keyword for i in found[:3]] == ["ARG", "ARG", "FROM"]
    assert found[0].stage == -1 and found[2].stage == 0 and found[-1].stage == 2


def test_the_final_stage_runs_on_its_base_and_on_the_stages_it_is_built_from():
    base, chain = layers.final_stage(layers.parse_dockerfile(DOCKERFILE))
    assert base is not None and base.line == 18 and base.args == "${PYTHON_SLIM_IMAGE} AS runtime"
    assert [i.line for i in chain] == [19, 20, 21, 23, 24, 25, 26, 27]

    test_stage = DOCKERFILE.split("FROM ${PYTHON_SLIM_IMAGE}")[0]
    base, chain = layers.final_stage(layers.parse_dockerfile(test_stage))
    assert base is not None and base.line == 6  # test is FROM build, which is FROM the python image
    assert [i.keyword for i in chain] == ["WORKDIR", "COPY", "RUN", "RUN"]

    base, chain = layers.final_stage(layers.parse_dockerfile("FROM scratch\nCOPY a /a\n"))
    assert base is None and [i.text for i in chain] == ["COPY a /a"]


def test_each_layer_gets_the_instruction_that_made_it():
    _, chain = layers.final_stage(layers.parse_dockerfile(DOCKERFILE))
    made_by = layers.attribute(HISTORY, chain)

    assert [i.lines if i else None for i in made_by] == [None, None, "21-22", "23", "24", "25"]
    # Another command, or the right keyword with other arguments, is not a match.
    run = made_by[2]
    assert not layers.matches(run, "RUN /bin/sh -c useradd --uid 1000 nonroot")
    assert not layers.matches(run, "COPY useradd --uid 65532 nonroot")
    assert not layers.matches(made_by[5], "COPY src/ src/")


def test_an_instruction_in_exec_form_matches_its_words():
    """distroless images have no shell: their RUN is a JSON array, continued over lines inside a string."""
    dockerfile = 'FROM scratch\nRUN ["/usr/bin/python3", "-B", "-c", "\\\nimport os; \\\nprint(os.sep)"]\n'
    _, chain = layers.final_stage(layers.parse_dockerfile(dockerfile))
    assert chain[0].lines == "2-4"
    assert layers.matches(chain[0], "RUN /usr/bin/python3 -B -c import os; print(os.sep)")
    assert not layers.matches(chain[0], "RUN /usr/bin/python3 -B -c import os; print(os.linesep)")


def test_the_classic_builders_history_reads_as_instructions():
    assert layers.history_text('/bin/sh -c #(nop)  CMD ["app"]') == 'CMD ["app"]'
    assert layers.history_text("/bin/sh -c apt-get update") == "RUN /bin/sh -c apt-get update"


def test_a_layer_view_says_what_it_adds_and_what_it_hides(tmp_path: Path):
    base = [file("usr/lib/x86_64-linux-gnu/libz.so", b"z" * 100), file("tmp/junk/a", b"j" * 30)]
    apt = [file("usr/bin/python3", b"p" * 50), file("var/lib/apt/lists/Packages", b"l" * 20)]
    useradd = [file("etc/passwd", b"root\n"), whiteout("var/lib/apt/lists/Packages")]
    copied = [file("app/main.py", b"m" * 7), file("app/node_modules/x/index.js", b"n" * 9)]
    workdir = [file("srv/app/.keep", b"")]
    source = [file("srv/app/app.py", b"s" * 3), file("usr/bin/python3", b"q" * 60), whiteout("tmp/junk")]
    archive = write_docker_archive(
        tmp_path / "image.tar", [base, apt, useradd, copied, workdir, source], steps=HISTORY
    )

    with imagefs.open_archive(archive) as fs:
        views = layers.views(fs, DOCKERFILE)
        wasted = fs.wasted_bytes

    assert [(v.origin, v.lines) for v in views] == [
        ("base", "18"),
        ("base", "18"),
        ("dockerfile", "21-22"),
        ("dockerfile", "23"),
        ("dockerfile", "24"),
        ("dockerfile", "25"),
    ]
    assert views[3].instruction == "COPY --from=build --chown=65532:65532 /app /app"
    assert views[0].instruction == "ADD rootfs.tar /"  # the base's own step, from its history
    assert views[3].folders == [("/app/node_modules", 9), ("/app", 7)]
    # A layer's folders include its files that later layers hide: they are still in its tar.
    assert views[1].folders == [("/usr/bin", 50), ("/var/lib/apt", 20)]
    assert (views[2].hides_bytes, views[2].hides_files) == (20, 1)
    assert (views[5].hides_bytes, views[5].hides_files) == (50 + 30, 2)
    assert views[5].hidden_folders == [("/usr/bin", 50), ("/tmp/junk", 30)]
    assert sum(v.hides_bytes for v in views) == wasted == 100

    # Told by the layers' digests that the base image has one layer only, the second is the image's own
    # -- and no line of the Dockerfile made it.
    with imagefs.open_archive(archive) as fs:
        told = layers.views(fs, DOCKERFILE, base_layers=1)
    assert [v.origin for v in told] == ["base", "unknown", *(["dockerfile"] * 4)]


def test_explain_without_an_image_says_how_to_name_one(capsys):
    assert cli.main(["explain"]) == 1
    assert "explain needs an image" in capsys.readouterr().err


# -- the real matrix --------------------------------------------------------------------------------

MATRIX = apps.select(apps.discover(), (), (), bases.open_set("debian"))


@pytest.mark.docker
@pytest.mark.parametrize("variant", MATRIX, ids=lambda v: v.target)
def test_every_layer_of_every_image_has_its_dockerfile_line(debian_images, variant):
    """Every layer the variant's Dockerfile made is matched to its line; the rest are the base's, as
    their digests say, and as the history alone says too."""
    assert debian_images[variant.tag].result.ok
    build_args = variant.base_set.build_args()
    dockerfile = variant.app.dockerfile(variant.name).read_text()
    base_refs = [b.ref for b in origin.base_images(variant.app.dockerfile(variant.name), build_args)]
    with imagefs.saved(variant.tag) as fs:
        base_layers = origin.base_layer_count(
            [layer.diff_id for layer in fs.layers], (origin.layer_ids(ref) for ref in base_refs)
        )
        views = layers.views(fs, dockerfile, base_layers)
        inferred = layers.views(fs, dockerfile)  # without the digests: from the history alone
        size, wasted = fs.size, fs.wasted_bytes
    assert [v for v in views if v.origin == "unknown"] == []
    assert [v.origin for v in views].count("base") == base_layers
    assert [(v.origin, v.lines) for v in inferred] == [(v.origin, v.lines) for v in views]
    own = [v for v in views if v.origin == "dockerfile"]
    assert own, "no layer matched the Dockerfile"
    lines = dockerfile.splitlines()
    for view in own:  # the line named starts the instruction shown
        first = int(view.lines.split("-")[0])
        assert lines[first - 1].split()[0] == view.instruction.split()[0]
    assert sum(v.size for v in views) == size
    assert sum(v.hides_bytes for v in views) == wasted


@pytest.mark.docker
def test_explain_prints_each_layer_with_its_line(debian_images, capsys):
    """The command a learner runs: go-href's minimal image is two COPY layers on scratch."""
    assert debian_images["imagelab/go-href:minimal-debian"].result.ok
    dockerfile = apps.discover()["go-href"].dockerfile("minimal").read_text().splitlines()
    copy_binary = next(
        n for n, line in enumerate(dockerfile, 1) if line.startswith("COPY --from=build /out/")
    )

    assert cli.main(["explain", "--app", "go-href", "--variant", "minimal"]) == 0

    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if "/out/go-href" in line)
    cells = [cell.strip() for cell in row.split("│")[1:-1]]
    assert cells[1] == str(copy_binary)  # the line column
    assert cells[4].startswith("/ ")  # the binary is at the root: /go-href
    assert "where the bytes go" in out


def test_a_heredoc_body_is_no_instruction():
    """A script written by a heredoc may say `from x import y` or `RUN`: neither starts a stage or a layer."""
    text = """\
FROM python AS build
FROM scratch AS script
COPY <<'EOF' /run.py
from microblog import serve
RUN = "not an instruction"
EOF
FROM build
RUN <<-SH cat > /a <<B
	echo one
	SH
from b
B
RUN --mount=type=bind,from=script,source=/run.py,target=/app/run.py ["python", "/app/run.py"]
"""
    found = layers.parse_dockerfile(text)
    assert [(i.keyword, i.line, i.stage) for i in found] == [
        ("FROM", 1, 0),
        ("FROM", 2, 1),
        ("COPY", 3, 1),
        ("FROM", 7, 2),
        ("RUN", 8, 2),
        ("RUN", 13, 2),
    ]
    assert layers.froms(found) == [("python", "build"), ("scratch", "script"), ("build", "")]
    assert dockerfile.without_heredocs(text).splitlines()[3] == ""  # line numbers kept
