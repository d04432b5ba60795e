"""Debian's security-support lists: limited, ended and exceptions, on a trimmed real list (trixie's,
debian-security-support 1:13+2026.01.04), and fetched from a main suite served on 127.0.0.1."""

from __future__ import annotations

import hashlib
import lzma
from datetime import date
from pathlib import Path

import pytest
from vulns_archive import VULNS, archive_keyring, archive_server, make_deb, signer

from imagelab.vulns import archive, support
from imagelab.vulns.archive import Archive
from imagelab.vulns.debian import Installed

RULES = support.parse((VULNS / "security-support.deb13").read_text())
NOWHERE = "http://127.0.0.1:9/debian"  # nothing listens: every fetch fails at once


def test_the_list_is_read_with_its_three_kinds():
    by_name = {rule.pattern: rule for rule in RULES}

    assert by_name["binutils"].kind == "limited"
    assert by_name["rust-sequoia-sqv"].kind == "supported"
    assert (by_name["wpewebkit"].kind, by_name["wpewebkit"].version, by_name["wpewebkit"].until) == (
        "non-supported",
        "2.38.6-1",
        "2026-01-04",
    )


def test_installed_packages_are_judged_by_their_source():
    packages = [
        Installed("binutils-x86-64-linux-gnu", "2.44-3", "binutils", "2.44-3"),
        Installed("golang-1.24-go", "1.24.4-1", "golang-1.24", "1.24.4-1"),  # a pattern: golang.*
        Installed("sqv", "1.3.0-3", "rust-sequoia-sqv", "1.3.0-3"),  # rust.* limited, but named supported
        Installed("libwpewebkit-2.0-1", "2.38.6-1", "wpewebkit", "2.38.6-1"),
        Installed("libc6", "2.41-12", "glibc", "2.41-12"),
        Installed("libc++1", "1.0", "libc++", "1.0"),  # not a valid regular expression as a name
    ]

    found = support.limits(packages, RULES, today=date(2026, 12, 5))

    assert [(f.package, f.kind) for f in found] == [
        ("binutils-x86-64-linux-gnu", "limited"),
        ("golang-1.24-go", "limited"),
        ("libwpewebkit-2.0-1", "ended"),
    ]
    assert found[2].note.startswith("ended 2026-01-04 at 2.38.6-1")
    later = Installed("libwpewebkit-2.0-1", "2.40.0-1", "wpewebkit", "2.40.0-1")  # past the last supported
    assert support.limits([later], RULES) == []


DEB_PATH = "pool/main/d/debian-security-support/debian-security-support_13+2026.01.04_all.deb"


def serve_trixie(root: Path) -> None:
    """trixie's main suite under `root`: a signed InRelease, a Packages file of two packages, and the
    debian-security-support .deb holding the trimmed real list."""
    deb = make_deb(
        {f"{support.LISTS}security-support.deb13": (VULNS / "security-support.deb13").read_bytes()}
    )
    stanza = (
        "Package: debian-security-support\nVersion: 1:13+2026.01.04\nArchitecture: all\n"
        f"Filename: {DEB_PATH}\nSize: {len(deb)}\nSHA256: {hashlib.sha256(deb).hexdigest()}\n"
    )
    packages = lzma.compress(f"Package: bash\nVersion: 5.2.37-2\n\n{stanza}".encode())
    (root / DEB_PATH).parent.mkdir(parents=True)
    (root / DEB_PATH).write_bytes(deb)
    (root / "dists/trixie/main/binary-amd64").mkdir(parents=True)
    (root / "dists/trixie/main/binary-amd64/Packages.xz").write_bytes(packages)
    (root / "dists/trixie/InRelease").write_bytes(
        signer().sign(
            "Codename: trixie\nDate: Sat, 08 Nov 2026 10:00:00 UTC\nSHA256:\n"
            f" {hashlib.sha256(packages).hexdigest()} {len(packages)} main/binary-amd64/Packages.xz\n"
        )
    )


def support_lists(cache: Path, url: str = NOWHERE, offline: bool = False) -> support.SupportLists:
    archive = Archive(cache, mirror=url, security_mirror=url, offline=offline, keyring=archive_keyring())
    return support.SupportLists(archive, cache)


@pytest.fixture
def kept(tmp_path: Path) -> Path:
    """The cache after one run that fetched trixie's lists."""
    serve_trixie(tmp_path / "debian")
    with archive_server(tmp_path / "debian") as (url, _):
        assert support_lists(tmp_path / "cache", url).rules("trixie") is not None
    return tmp_path / "cache"


def test_the_lists_come_from_the_suites_package_and_are_kept(tmp_path):
    serve_trixie(tmp_path / "debian")
    with archive_server(tmp_path / "debian") as (url, requests):
        rules, data = support_lists(tmp_path / "cache", url).rules("trixie")
        assert support_lists(tmp_path / "cache", url).rules("trixie")[0] == rules

    assert rules == RULES
    assert data.describe() == "debian-security-support 1:13+2026.01.04 (trixie) of 2026-11-08"
    assert sum(path.endswith(".deb") for path in requests) == 1  # the suite did not move: kept
    offline = support_lists(tmp_path / "cache", offline=True).rules("trixie")
    assert offline is not None and offline[0] == RULES and offline[1].offline


def test_a_kept_deb_altered_since_is_no_data_offline_and_fetched_again_online(tmp_path, kept):
    deb = kept / "support/trixie/debian-security-support.deb"
    deb.write_bytes(make_deb({f"{support.LISTS}security-support.deb13": b"wpewebkit supported\n"}))

    offline = support_lists(kept, offline=True)

    assert offline.rules("trixie") is None
    assert offline.errors == [
        (
            "debian-security-support for trixie: the kept debian-security-support.deb does not have the "
            "index's SHA256 (altered, or an older version) (hint: a run with the network fetches it again)"
        )
    ]
    with archive_server(tmp_path / "debian") as (url, _):
        assert support_lists(kept, url).rules("trixie")[0] == RULES
    assert support_lists(kept, offline=True).rules("trixie")[0] == RULES  # the fetched one, kept


def test_a_missing_kept_deb_is_no_data_offline(kept):
    (kept / "support/trixie/debian-security-support.deb").unlink()

    offline = support_lists(kept, offline=True)

    assert offline.rules("trixie") is None
    assert "no debian-security-support.deb 1:13+2026.01.04 kept" in offline.errors[0]


@pytest.mark.parametrize(
    ("name", "change", "reason"),
    [
        ("Packages.xz", lambda data: lzma.compress(b"Package: debian-security-support\n"), "does not match"),
        ("InRelease", lambda data: data.replace(b"Date: ", b"Date:  ", 1), "signature is bad"),
    ],
)
def test_a_kept_index_of_the_suite_altered_since_is_no_data(kept, name, change, reason):
    path = kept / "debian/trixie_main_amd64" / name
    path.write_bytes(change(path.read_bytes()))

    offline = support_lists(kept, offline=True)

    assert offline.rules("trixie") is None
    assert reason in offline.errors[0] and offline.errors[0].startswith("debian-security-support for trixie:")


def test_lists_extracted_by_an_older_version_are_not_trusted(kept):
    folder = kept / "support/trixie"  # the layout before the .deb was kept: lists, date, version
    (folder / "debian-security-support.deb").unlink()  # the index is kept and verifies; the .deb is gone
    (folder / "security-support.deb13").write_text("wpewebkit supported\n")
    (folder / "date").write_text("2026-11-08T10:00:00+00:00")
    (folder / "version").write_text("1:13+2026.01.04")

    offline = support_lists(kept, offline=True)

    assert offline.rules("trixie") is None
    assert "no debian-security-support.deb 1:13+2026.01.04 kept" in offline.errors[0]


@pytest.mark.parametrize("chunk", [7, archive.STANZA_CHUNK])  # 7 bytes: names cut between chunks
@pytest.mark.parametrize("name", ["pkg-0", "pkg-1500", "pkg-2999", "pkg-15"])
def test_one_stanza_is_found_wherever_the_chunks_cut_and_only_that_package_s(monkeypatch, chunk, name):
    text = "\n".join(
        f"Package: pkg-{i}\nVersion: {i}\nSHA256: {hashlib.sha256(str(i).encode()).hexdigest()}\n"
        for i in range(3000)
    ).rstrip("\n")  # the last stanza with no blank line after it
    monkeypatch.setattr(archive, "STANZA_CHUNK", chunk)

    found = archive.stanza(lzma.compress(text.encode()), name)

    assert archive.parse_packages(found) == {name: archive.parse_packages(text)[name]}
    assert archive.stanza(lzma.compress(text.encode()), "pkg") == ""  # a prefix of names is none of them


def test_bookworms_two_file_layout_reads_as_the_same_rules():
    rules = support.parse_split(
        (VULNS / "security-support-limited").read_text(), (VULNS / "security-support-ended.deb12").read_text()
    )
    by_name = {rule.pattern: rule for rule in rules}

    assert by_name["binutils"].kind == "limited"
    assert (by_name["wpewebkit"].kind, by_name["wpewebkit"].version, by_name["wpewebkit"].until) == (
        "non-supported",
        "2.38.6-1",
        "2023-05-09",
    )
    webkit = Installed("libwpewebkit-1.1-0", "2.38.6-1", "wpewebkit", "2.38.6-1")
    assert [f.kind for f in support.limits([webkit], rules)] == ["ended"]
