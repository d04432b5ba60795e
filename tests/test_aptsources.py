"""Finding the Debian mirror in apt's two source formats, on fixture folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagelab import aptsources


@pytest.fixture(autouse=True)
def no_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(aptsources.MIRROR_ENV, raising=False)
    monkeypatch.delenv(aptsources.SECURITY_MIRROR_ENV, raising=False)


def apt_dir(tmp_path: Path, files: dict[str, str]) -> Path:
    (tmp_path / "sources.list.d").mkdir()
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return tmp_path


def test_a_one_line_source_with_options(tmp_path):
    folder = apt_dir(
        tmp_path,
        {
            "sources.list": (
                "# deb http://commented.example/debian bookworm main\n"
                "deb [arch=amd64 signed-by=/k.gpg] http://mirror.example/debian-security bookworm-security main\n"
                "deb [arch=amd64 signed-by=/k.gpg] http://mirror.example/debian/ bookworm main\n"
            )
        },
    )
    assert aptsources.debian_mirror(folder) == "http://mirror.example/debian"


def test_a_deb822_source_skips_disabled_and_source_stanzas(tmp_path):
    folder = apt_dir(
        tmp_path,
        {
            "sources.list.d/debian.sources": (
                "Types: deb-src\nURIs: http://src.example/debian\nSuites: trixie\n\n"
                "Types: deb\nURIs: http://off.example/debian\nSuites: trixie\nEnabled: no\n\n"
                "Types: deb\nURIs: http://on.example/debian\nSuites: trixie\nComponents: main\n"
            )
        },
    )
    assert aptsources.debian_mirror(folder) == "http://on.example/debian"


def test_the_variable_wins_and_nothing_found_is_empty(tmp_path, monkeypatch):
    assert aptsources.debian_mirror(apt_dir(tmp_path, {})) == ""
    monkeypatch.setenv(aptsources.MIRROR_ENV, "http://127.0.0.1:9/debian/")
    assert aptsources.debian_mirror(tmp_path) == "http://127.0.0.1:9/debian"


def test_the_security_archive_is_read_from_its_own_entry(tmp_path, monkeypatch):
    folder = apt_dir(
        tmp_path,
        {
            "sources.list.d/debian.sources": (
                "Types: deb\nURIs: http://mirror.example/debian\nSuites: trixie trixie-updates\n\n"
                "Types: deb\nURIs: http://security.example/debian-security/\nSuites: trixie-security\n"
            )
        },
    )
    assert aptsources.debian_security_mirror(folder) == "http://security.example/debian-security"
    assert aptsources.debian_mirror(folder) == "http://mirror.example/debian"
    (tmp_path / "none").mkdir()
    assert aptsources.debian_security_mirror(apt_dir(tmp_path / "none", {})) == ""
    monkeypatch.setenv(aptsources.SECURITY_MIRROR_ENV, "http://127.0.0.1:9/debian-security/")
    assert aptsources.debian_security_mirror(folder) == "http://127.0.0.1:9/debian-security"
