"""The stand-ins' releases and recipe fields: Go from the toolchain module, Node.js's major, packages a set
adds, /usr merged without usrmerge. No engine: what bases.toml says and what the downloads leave on disk."""

from __future__ import annotations

import shutil
import stat
from dataclasses import replace
from pathlib import Path

import pytest

from imagelab.bases import golang, provenance, recipes
from imagelab.errors import BuildError, ConfigError

SET = """
[sets.debian]
suite = "trixie"
tag = "debian13"
python = "3.13"
node = "26"
npm = "11"
{extra}

[roles.debian-slim]
official = "debian:{{suite}}-slim"
recipe = "rootfs"
dockerfile = "debian-slim.Dockerfile"

[roles.golang]
official = "golang:{{go_minor}}-{{suite}}"
recipe = "dockerfile"
from = "debian-slim"
dockerfile = "golang.Dockerfile"
go = true
packages = ["gcc"]

[roles.node-slim]
official = "node:{{node}}-{{suite}}-slim"
recipe = "dockerfile"
from = "debian-slim"
dockerfile = "node.Dockerfile"
node = true
"""


def write(tmp_path: Path, extra: str) -> Path:
    for name in ("debian-slim.Dockerfile", "golang.Dockerfile", "node.Dockerfile"):
        shutil.copy(recipes.BASES_DIR / name, tmp_path)
    path = tmp_path / "bases.toml"
    path.write_text(SET.format(extra=extra))
    return path


def test_the_official_references_follow_the_sets_releases(tmp_path: Path) -> None:
    made = recipes.load(write(tmp_path, 'go = "1.27.3"'))
    assert made.debian.go == "1.27.3"
    assert made.roles["golang"].official == "golang:1.27-trixie"
    assert made.roles["node-slim"].official == "node:26-trixie-slim"


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        ("", "names no `go` release"),
        ('go = "1.27"', "must be a Go release such as"),
        ('go = "go1.27.3"', "must be a Go release such as"),
        ('add = { nothing = ["x"] }', "add names unknown role 'nothing'"),
        ('add = { node-slim = "libatomic1" }', "must map roles to lists"),
        ('go = "1.27.3"\nusr_is_merged = "yes"', "usr_is_merged must be true or false"),
        ('go = "1.27.3"\ndistroless = 13', "distroless must be a non-empty string"),
    ],
)
def test_a_bad_release_or_field_is_one_line_naming_it(tmp_path: Path, extra: str, says: str) -> None:
    path = write(tmp_path, extra)
    with pytest.raises(ConfigError) as caught:
        recipes.load(path)
    assert str(path) in caught.value.cause
    assert says in caught.value.cause


def test_a_set_adds_packages_to_one_role_only(tmp_path: Path) -> None:
    made = recipes.load(write(tmp_path, 'go = "1.27.3"\nadd = { node-slim = ["libatomic1"] }'))
    assert made.roles["node-slim"].packages == ("libatomic1",)
    assert made.roles["golang"].packages == ("gcc",)


def test_the_project_sets_are_on_supported_releases() -> None:
    """Go's two newest releases are supported; Node.js 26 is the Active LTS (docs/base-lifecycles.md)."""
    every = recipes.load_recipes()
    for name in ("debian", "debian-release"):
        debian = every.local_set(name).debian
        assert debian.go.startswith("1.27.") and debian.node == "26" and debian.npm == "11"
        assert every.local_set(name).roles["golang"].go
        assert "libatomic1" in every.local_set(name).roles["node-slim"].packages  # node 24+ links it
    bookworm = every.local_set("debian12")
    assert bookworm.debian.usr_is_merged and not every.local_set("debian").debian.usr_is_merged


def test_the_go_release_is_in_the_golang_key_only() -> None:
    sets = recipes.load()
    go = golang.GoRelease("1.27.3", Path("go"))
    newer = golang.GoRelease("1.27.4", Path("go"))
    golang_role, slim = sets.roles["golang"], sets.roles["debian-slim"]
    assert provenance.key(golang_role, sets, b"", provenance.Takes(go=go)) != provenance.key(
        golang_role, sets, b"", provenance.Takes(go=newer)
    )
    assert provenance.key(slim, sets, b"", provenance.Takes(go=go)) == provenance.key(
        slim, sets, b"", provenance.Takes()
    )


def test_merging_usr_by_the_hook_is_in_the_rootfs_key_only() -> None:
    sets = recipes.load()
    merged = replace(sets, debian=replace(sets.debian, usr_is_merged=True))
    slim, python = sets.roles["debian-slim"], sets.roles["python-slim"]
    assert provenance.key(slim, sets, b"", provenance.Takes()) != provenance.key(
        slim, merged, b"", provenance.Takes()
    )
    assert provenance.key(python, sets, b"", provenance.Takes()) == provenance.key(
        python, merged, b"", provenance.Takes()
    )


def test_the_toolchain_module_version_names_the_release_and_machine() -> None:
    assert golang.module_version("1.27.3", "x86_64") == "v0.0.1-go1.27.3.linux-amd64"
    assert golang.module_version("1.27.3", "aarch64") == "v0.0.1-go1.27.3.linux-arm64"
    with pytest.raises(BuildError) as caught:
        golang.module_version("1.27.3", "sparc64")
    assert "sparc64" in caught.value.cause


def test_a_release_copied_before_is_used_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(golang, "DOWNLOADS", tmp_path)
    kept = tmp_path / f"go1.27.3.linux-{golang.GOARCH['x86_64']}"
    kept.mkdir()
    (kept / "VERSION").write_text("go1.27.3\n")
    monkeypatch.setattr(golang.platform, "machine", lambda: "x86_64")
    monkeypatch.setattr(golang.shutil, "which", lambda _name: None)  # no go: nothing to download with
    assert golang.go_release("1.27.3", log=lambda _line: None).goroot == kept


def test_without_go_and_nothing_kept_the_error_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(golang, "DOWNLOADS", tmp_path)
    monkeypatch.setattr(golang, "GO_FALLBACK", tmp_path / "no-go")
    monkeypatch.setattr(golang.shutil, "which", lambda _name: None)
    with pytest.raises(BuildError) as caught:
        golang.go_release("1.27.3", log=lambda _line: None)
    assert "no go command" in caught.value.cause and "go.dev/dl" in caught.value.hint


def test_the_goroot_gets_the_modes_of_the_release_tarball(tmp_path: Path) -> None:
    goroot = tmp_path / "go"
    for name in ("bin/go", "pkg/tool/linux_amd64/compile", "src/fmt/print.go", "VERSION"):
        (goroot / name).parent.mkdir(parents=True, exist_ok=True)
        (goroot / name).write_text("x")
        (goroot / name).chmod(0o444)  # as the module cache leaves them
    golang.goroot_modes(goroot)

    def mode(name: str) -> int:
        return stat.S_IMODE((goroot / name).stat().st_mode)

    assert mode("bin/go") == 0o755 and mode("pkg/tool/linux_amd64/compile") == 0o755
    assert mode("src/fmt/print.go") == 0o644 and mode("VERSION") == 0o644
    assert mode("src/fmt") == 0o755
