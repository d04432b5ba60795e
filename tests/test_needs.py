"""The oldest engine each Dockerfile needs: its header says it, the features it uses bear it out, and an
older engine leaves the file out in one line naming both versions. No engine needed."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from imagelab import ROOT, apps, needs

DOCKERFILES = sorted((ROOT / "dockerfiles").glob("*/*.Dockerfile"))
TEACHING = [p for p in DOCKERFILES if p.parent.name != "bases"]


@pytest.mark.parametrize("dockerfile", TEACHING, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_each_header_states_the_oldest_engine_its_features_need(dockerfile: Path) -> None:
    stated = needs.need(dockerfile)
    assert stated is not None, f"{dockerfile.name}: no '# Needs: Docker Engine X.Y (BuildKit A.B)' line"
    assert stated == needs.oldest_engine(dockerfile.read_text())


def test_features_are_spotted_in_instructions_not_in_comments() -> None:
    text = """\
# COPY --link and RUN <<EOF, as the comment explains them
FROM scratch AS script
COPY <<'EOF' run.py
print("hi")
EOF
FROM debian
RUN --mount=type=cache,target=/root/.cache true
COPY --link --from=script /run.py /run.py
"""
    assert [f.name for f in needs.features(text)] == ["RUN --mount", "COPY --link", "heredoc"]
    assert needs.oldest_engine(text) == needs.Need((23, 0), "0.10")
    assert needs.features("# COPY --link\nFROM scratch\nCOPY a b\n") == []
    assert needs.oldest_engine("FROM scratch\n") == needs.Need((20, 10), "0.8")


def write(tmp_path: Path, header: str) -> Path:
    path = tmp_path / "distroless.Dockerfile"
    path.write_text(
        f"# distroless: what it is.\n{header}FROM scratch\n# Needs: Docker Engine 99.0 (BuildKit 9.9)\n"
    )
    return path


def test_the_needs_line_is_read_from_the_header_only(tmp_path: Path) -> None:
    assert needs.need(write(tmp_path, "# Needs: Docker Engine 23.0 (BuildKit 0.10), for COPY --link.\n")) == (
        needs.Need((23, 0), "0.10")
    )
    assert needs.need(write(tmp_path, "")) is None  # the line below FROM is no header


@pytest.mark.parametrize(
    ("version", "api", "why"),
    [
        ("28.5.2+dfsg4", "1.51", ""),
        ("23.0.0", "1.42", ""),
        (
            "20.10.24+dfsg1",
            "1.41",
            "needs Docker Engine 23.0 (BuildKit 0.10); this engine is Docker 20.10.24+dfsg1 (API 1.41)",
        ),
        ("library-import", "1.56", ""),  # Docker 29 built from its module: its API version decides
        ("2.0.0-beta.24-module", "1.56", ""),  # the same, stamped with its module's version
        (
            "library-import",
            "1.41",
            "needs Docker Engine 23.0 (BuildKit 0.10); this engine is Docker library-import (API 1.41)",
        ),
    ],
)
def test_an_older_engine_is_named_with_the_one_the_file_needs(
    tmp_path: Path, version: str, api: str, why: str
):
    dockerfile = write(tmp_path, "# Needs: Docker Engine 23.0 (BuildKit 0.10), for COPY --link.\n")
    assert needs.unmet(dockerfile, version, api) == why


def test_a_dockerfile_without_a_needs_line_is_left_to_the_build(tmp_path: Path) -> None:
    assert needs.unmet(write(tmp_path, ""), "20.10.24", "1.41") == ""


def test_the_cli_leaves_out_what_the_engine_cannot_build_in_one_line_each(monkeypatch, capsys) -> None:
    """On Docker 20.10 the command goes on with the variants it can build, and names the others."""
    from imagelab import bases, engine, selection

    monkeypatch.setattr(selection, "ensure_engine", lambda: None)
    monkeypatch.setattr(engine, "versions", lambda: {"Version": "20.10.24+dfsg1", "ApiVersion": "1.41"})
    monkeypatch.setattr(bases, "resolve", lambda base_set, roles: argparse.Namespace(base_set=base_set))
    debian = bases.open_set("debian")
    kept = selection.variants(debian, ["go-href"], resolve=True)
    every = apps.select(apps.discover(), ["go-href"], [], debian)
    newer = [v for v in every if needs.need(v.app.dockerfile(v.name)).engine > (20, 10)]
    assert [v.name for v in kept] == [v.name for v in every if v not in newer]
    err = capsys.readouterr().err
    for variant in newer:
        assert (
            f"go-href/{variant.name}: needs Docker Engine 23.0 (BuildKit 0.10); this engine is Docker 20.10.24"
            in err
        )
