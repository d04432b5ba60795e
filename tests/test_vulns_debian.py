"""Debian's fix data: indexes fetched, kept and dated; changelogs read for CVE IDs; installed packages
judged against them. All on trimmed real data (tests/fixtures/vulns/) served on 127.0.0.1."""

from __future__ import annotations

import gzip
import hashlib
import lzma
from datetime import UTC, datetime
from pathlib import Path

import pytest
from vulns_archive import (
    AS_OF,
    EXPAT_FIXED,
    SUITE,
    VULNS,
    archive_keyring,
    archive_server,
    local_archive,
    make_deb,
    serve_tree,
    signer,
)

from imagelab.inspect import dpkg
from imagelab.vulns import archive, changelog, debian, scan, summary
from imagelab.vulns.archive import Archive
from imagelab.vulns.changelog import Changelogs

DATE = datetime(2026, 12, 4, 3, 54, 28, tzinfo=UTC)  # the fixture Release file's Date
#: The CVE IDs expat's uploads deb12u3, deb12u4 and deb12u5 name: what 2.5.0-1+deb12u2 is missing.
EXPAT_U2_TO_U5 = [
    "CVE-2024-28757",
    "CVE-2025-59375",
    "CVE-2026-24515",
    "CVE-2026-25210",
    "CVE-2026-32776",
    "CVE-2026-32777",
    "CVE-2026-32778",
    "CVE-2026-45186",
    "CVE-2026-50219",
    "CVE-2026-56131",
    "CVE-2026-56132",
    "CVE-2026-56403",
    "CVE-2026-56404",
    "CVE-2026-56405",
    "CVE-2026-56406",
    "CVE-2026-56407",
    "CVE-2026-56408",
    "CVE-2026-56409",
    "CVE-2026-56410",
    "CVE-2026-56411",
    "CVE-2026-56412",
    "CVE-2026-66046",
    "CVE-2026-72522",
    "CVE-2026-76957",
    "CVE-2026-77214",
    "CVE-2026-93990",
    "CVE-2026-102633",
]


# -- indexes ----------------------------------------------------------------------------------------


def test_the_release_file_gives_the_date_and_the_hashes():
    text = (VULNS / f"{SUITE}.Release").read_text() + "SHA256:\n 0123abcd 42 main/binary-amd64/Packages.xz\n"

    date, hashes = archive.parse_release(text)

    assert date == DATE
    assert hashes == {"main/binary-amd64/Packages.xz": ("0123abcd", 42)}


def test_the_packages_file_names_each_binary_with_its_source():
    packages = archive.parse_packages((VULNS / f"{SUITE}.Packages").read_text())

    assert packages["libexpat1"][0].version == EXPAT_FIXED
    assert (packages["libexpat1"][0].source, packages["libexpat1"][0].source_version) == (
        "expat",
        EXPAT_FIXED,
    )
    assert packages["openssl"][0].source == "openssl"  # no Source field: the binary's own name
    assert packages["libexpat1"][0].filename == f"pool/updates/main/e/expat/libexpat1_{EXPAT_FIXED}_amd64.deb"


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("", ("libc6", "2.36-9+deb12u10+b1")),
        ("glibc", ("glibc", "2.36-9+deb12u10+b1")),
        ("glibc (2.36-9+deb12u10)", ("glibc", "2.36-9+deb12u10")),  # a binary-only rebuild
    ],
)
def test_the_source_field_in_its_three_shapes(field: str, expected: tuple[str, str]):
    assert archive.split_source(field, "libc6", "2.36-9+deb12u10+b1") == expected


def test_an_index_is_fetched_once_a_run_by_hash_and_kept(tmp_path, served):
    url, requests = served
    run = local_archive(tmp_path / "cache", url)

    index = run.index(SUITE)
    run.index(SUITE)

    assert index is not None and not index.offline
    assert index.date == DATE
    assert len(index.packages) == 6
    assert [path.split("/")[-2] for path in requests] == [SUITE, "SHA256"]  # InRelease, then by hash
    next_run = local_archive(tmp_path / "cache", url)
    assert next_run.index(SUITE).packages == index.packages
    assert requests[2:] == [f"/dists/{SUITE}/InRelease"]  # unchanged: the kept Packages file serves


def test_with_no_network_the_kept_index_serves_and_says_how_old_it_is(tmp_path, served):
    url, _ = served
    local_archive(tmp_path / "cache", url).index(SUITE)

    offline = local_archive(tmp_path / "cache", "http://127.0.0.1:9/debian-security")
    index = offline.index(SUITE)

    assert index is not None and index.offline
    assert index.date == DATE
    assert "cannot reach the archive" in offline.errors[SUITE]
    assert "offline: kept data" in index.describe()


def test_with_no_network_and_nothing_kept_there_is_no_index(tmp_path):
    run = local_archive(tmp_path / "cache", "http://127.0.0.1:9/debian-security")

    assert run.index(SUITE) is None
    assert run.indexes("bookworm") == []


def test_a_packages_file_that_does_not_match_its_release_is_refused(tmp_path):
    root = tmp_path / "debian-security"
    serve_tree(root)
    by_hash = next((root / "dists" / SUITE / "main/binary-amd64/by-hash/SHA256").iterdir())
    by_hash.write_bytes(b"not the file the Release lists")
    with archive_server(root) as (url, _):
        run = local_archive(tmp_path / "cache", url)
        assert run.index(SUITE) is None
    assert "does not match" in run.errors[SUITE]


# -- changelogs -------------------------------------------------------------------------------------


def expat_entries() -> list[changelog.Entry]:
    return changelog.parse((VULNS / f"expat_{EXPAT_FIXED}.changelog").read_text())


def test_a_changelog_is_one_entry_per_upload_newest_first():
    entries = expat_entries()

    assert [e.version for e in entries[:3]] == ["2.5.0-1+deb12u5", "2.5.0-1+deb12u4", "2.5.0-1+deb12u3"]
    assert entries[-1].version == "2.4.9-1"
    assert entries[0].cves == ["CVE-2025-59375", "CVE-2026-102633", "CVE-2026-56132", "CVE-2026-77214"]


def test_the_cves_between_installed_and_fixed_are_the_uploads_after_the_installed_one():
    entries = expat_entries()

    assert changelog.cves_between(entries, "2.5.0-1+deb12u2", EXPAT_FIXED) == EXPAT_U2_TO_U5
    assert changelog.cves_between(entries, EXPAT_FIXED, EXPAT_FIXED) == []
    # up to the fixed version only: deb12u4 does not bring deb12u5's fixes
    assert "CVE-2026-102633" not in changelog.cves_between(entries, "2.5.0-1+deb12u2", "2.5.0-1+deb12u4")
    # from bookworm's first expat, deb12u1's three and deb12u2's three come too
    assert len(changelog.cves_between(entries, "2.5.0-1", EXPAT_FIXED)) == len(EXPAT_U2_TO_U5) + 6


def test_the_changelog_is_read_from_inside_a_deb():
    text = "expat (1.0-1) unstable; urgency=low\n\n  * CVE-2020-1234\n"
    deb = make_deb({"usr/share/doc/libexpat1/changelog.Debian.gz": gzip.compress(text.encode())})

    assert changelog.from_deb(deb, "libexpat1") == text
    linked = make_deb({}, symlinks={"usr/share/doc/libexpat1-dev": "libexpat1"})
    assert changelog.from_deb(linked, "libexpat1-dev") is None
    with pytest.raises(ValueError, match="not an ar archive"):
        changelog.from_deb(b"PK\x03\x04", "libexpat1")


def test_a_debian_native_package_keeps_its_changelog_as_changelog_gz():
    """apt 2.6.2 has no revision: Debian is its upstream, and its one changelog is changelog.gz."""
    text = "apt (2.6.2) bookworm-security; urgency=high\n\n  * Fix CVE-2026-109518\n"
    deb = make_deb({"usr/share/doc/apt/changelog.gz": gzip.compress(text.encode())})

    assert changelog.from_deb(deb, "apt", native=True) == text
    assert changelog.from_deb(deb, "apt") is None  # elsewhere changelog.gz is upstream's, not Debian's


def test_a_changelog_is_fetched_once_per_source_version_and_checked(tmp_path, served):
    url, _ = served
    index = local_archive(tmp_path / "cache", url).index(SUITE)
    binaries = index.of_source("expat", EXPAT_FIXED)
    assert [b.name for b in binaries] == ["libexpat1", "libexpat1-dev"]  # smallest first
    fetched: list[str] = []

    def fetch(address: str) -> bytes:
        fetched.append(address)
        return Archive(tmp_path).fetch(address)

    logs = Changelogs(tmp_path / "cache", fetch)
    assert logs.entries("expat", EXPAT_FIXED, binaries, url)[0].version == EXPAT_FIXED
    assert Changelogs(tmp_path / "cache", fetch).entries("expat", EXPAT_FIXED, binaries, url) is not None
    assert len(fetched) == 1  # libexpat1's .deb, once

    missing = Changelogs(tmp_path / "other", fetch)
    assert (
        missing.entries("openssl", "3.0.22-1~deb12u2", index.of_source("openssl", "3.0.22-1~deb12u2"), url)
        is None
    )
    assert "404" in missing.errors["openssl 3.0.22-1~deb12u2"]


# -- an image's packages ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("os_release", "debian_version", "codename"),
    [
        (
            'PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\nVERSION_ID="13"\nVERSION_CODENAME=trixie\nID=debian\n',
            "",
            "trixie",
        ),
        ('ID=debian\nVERSION_ID="12"\n', "", "bookworm"),  # no codename: from the number
        ("", "12.11\n", "bookworm"),  # no os-release: /etc/debian_version
        ("ID=alpine\nVERSION_ID=3.22.0\n", "", ""),
        ("ID=ubuntu\nID_LIKE=debian\nVERSION_CODENAME=noble\n", "", "noble"),
    ],
)
def test_the_release_of_an_image(os_release: str, debian_version: str, codename: str):
    assert debian.release(os_release, debian_version) == codename


def test_an_image_is_judged_against_the_pockets_with_the_cves_of_its_fixes(tmp_path, served):
    url, _ = served
    records = dpkg.installed_records({"status": (VULNS / "status").read_bytes()})
    run = local_archive(tmp_path / "cache", url)

    fixes, dates, notes = debian.scan(records, "bookworm", run, Changelogs(tmp_path / "cache", run.fetch))

    by_package = {fix.package: fix for fix in fixes}
    # libc6 2.36-9+deb12u14 is newer than the pocket's deb12u7 (a point release passed it): no fix.
    # zlib1g is removed, only its configuration files are left: nothing to fix.
    assert sorted(by_package) == ["libexpat1", "libssl3"]
    expat = by_package["libexpat1"]
    assert (expat.installed, expat.fixed, expat.suite, expat.source) == (
        "2.5.0-1+deb12u2",
        EXPAT_FIXED,
        SUITE,
        "expat",
    )
    assert list(expat.cves) == EXPAT_U2_TO_U5
    # openssl's .deb is not served here: the fix counts, its CVE IDs are unknown, and a note says why
    assert by_package["libssl3"].fixed == "3.0.22-1~deb12u2"
    assert not by_package["libssl3"].changelog_read
    assert any(note.startswith("libssl3: no changelog of openssl") for note in notes)
    assert any(note.startswith("bookworm-updates:") for note in notes)  # unreachable, nothing kept
    assert [d.source for d in dates] == [SUITE]
    assert dates[0].date == DATE


# -- point-release fixes ----------------------------------------------------------------------------

#: A made-up stable update of glibc in bookworm-updates, above the installed 2.36-9+deb12u14.
LIBC6_UPDATE = "2.36-9+deb12u15"
LIBC6_CHANGELOG = f"""glibc ({LIBC6_UPDATE}) bookworm; urgency=medium

  * Fix a stack overflow in the DNS resolver (CVE-2026-99001).

 -- Debian GNU C Library Maintainers <debian-glibc@lists.debian.org>  Sat, 28 Nov 2026 10:00:00 +0000

glibc (2.36-9+deb12u14) bookworm; urgency=medium

  * Fix CVE-2026-11111.

 -- Debian GNU C Library Maintainers <debian-glibc@lists.debian.org>  Sat, 01 Nov 2026 10:00:00 +0000
"""


def serve_updates(root: Path) -> None:
    """bookworm-updates under `root` (the release mirror's tree), with libc6's update and its .deb."""
    deb = make_deb({"usr/share/doc/libc6/changelog.Debian.gz": gzip.compress(LIBC6_CHANGELOG.encode())})
    pool = f"pool/main/g/glibc/libc6_{LIBC6_UPDATE}_amd64.deb"
    (root / pool).parent.mkdir(parents=True)
    (root / pool).write_bytes(deb)
    packages = lzma.compress(
        f"Package: libc6\nSource: glibc\nVersion: {LIBC6_UPDATE}\nFilename: {pool}\n"
        f"Size: {len(deb)}\nSHA256: {hashlib.sha256(deb).hexdigest()}\n".encode()
    )
    dists = root / "dists" / "bookworm-updates"
    (dists / "main/binary-amd64").mkdir(parents=True)
    (dists / "main/binary-amd64/Packages.xz").write_bytes(packages)
    release = (
        "Codename: bookworm-updates\nDate: Sat, 05 Dec 2026 02:09:32 UTC\nSHA256:\n"
        f" {hashlib.sha256(packages).hexdigest()} {len(packages)} main/binary-amd64/Packages.xz\n"
    )
    (dists / "InRelease").write_bytes(signer().sign(release))


def test_a_fix_in_the_updates_pocket_counts_as_a_point_release_fix_with_its_cves(tmp_path, served):
    security, _ = served
    serve_updates(tmp_path / "debian")
    records = dpkg.installed_records({"status": (VULNS / "status").read_bytes()})
    with archive_server(tmp_path / "debian") as (mirror, _):
        run = Archive(
            tmp_path / "cache",
            mirror=mirror,
            security_mirror=security,
            keyring=archive_keyring(),
            now=lambda: AS_OF,
        )
        fixes, dates, _ = debian.scan(records, "bookworm", run, Changelogs(tmp_path / "cache", run.fetch))

    by_package = {fix.package: fix for fix in fixes}
    libc6 = by_package["libc6"]
    assert (libc6.fixed, libc6.suite, libc6.kind) == (LIBC6_UPDATE, "bookworm-updates", "point-release")
    assert list(libc6.cves) == ["CVE-2026-99001"]  # only the uploads after the installed one
    assert by_package["libexpat1"].kind == "security"
    assert [d.source for d in dates] == [SUITE, "bookworm-updates"]
    found = scan.Findings(release="bookworm", packages=4, os_fixes=fixes, os_data=dates)
    assert found.fixable_cves_by_kind() == {"security": len(EXPAT_U2_TO_U5), "point-release": 1}
    text = summary.summary(found)
    assert f"({len(EXPAT_U2_TO_U5)} by security fixes, 1 by point-release fixes)" in text
    assert (
        f"libc6 2.36-9+deb12u14 -> {LIBC6_UPDATE} (point-release fix, bookworm-updates): CVE-2026-99001"
        in text
    )
