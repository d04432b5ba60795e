"""Debian's security-support lists: limited, ended and exceptions, on a trimmed real list (trixie's,
debian-security-support 1:13+2026.01.04), and fetched from a main suite served on 127.0.0.1."""

from __future__ import annotations

import hashlib
import lzma
from datetime import date

from vulns_archive import VULNS, archive_keyring, archive_server, make_deb, signer

from imagelab.vulns import support
from imagelab.vulns.archive import Archive
from imagelab.vulns.debian import Installed

RULES = support.parse((VULNS / "security-support.deb13").read_text())


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


def test_the_lists_come_from_the_suites_package_and_are_kept(tmp_path):
    deb = make_deb(
        {
            "usr/share/debian-security-support/security-support.deb13": (
                VULNS / "security-support.deb13"
            ).read_bytes()
        }
    )
    stanza = (
        "Package: debian-security-support\nVersion: 1:13+2026.01.04\nArchitecture: all\n"
        "Filename: pool/main/d/debian-security-support/debian-security-support_13+2026.01.04_all.deb\n"
        f"Size: {len(deb)}\nSHA256: {hashlib.sha256(deb).hexdigest()}\n"
    )
    packages = lzma.compress(f"Package: bash\nVersion: 5.2.37-2\n\n{stanza}".encode())
    root = tmp_path / "debian"
    (root / "pool/main/d/debian-security-support").mkdir(parents=True)
    (root / "pool/main/d/debian-security-support/debian-security-support_13+2026.01.04_all.deb").write_bytes(
        deb
    )
    (root / "dists/trixie/main/binary-amd64").mkdir(parents=True)
    (root / "dists/trixie/main/binary-amd64/Packages.xz").write_bytes(packages)
    (root / "dists/trixie/InRelease").write_bytes(
        signer().sign(
            "Codename: trixie\nDate: Sat, 08 Nov 2026 10:00:00 UTC\nSHA256:\n"
            f" {hashlib.sha256(packages).hexdigest()} {len(packages)} main/binary-amd64/Packages.xz\n"
        )
    )
    with archive_server(root) as (url, requests):
        lists = support.SupportLists(
            Archive(tmp_path / "cache", mirror=url, security_mirror=url, keyring=archive_keyring()),
            tmp_path / "cache",
        )
        rules, data = lists.rules("trixie")
        again = support.SupportLists(
            Archive(tmp_path / "cache", mirror=url, security_mirror=url, keyring=archive_keyring()),
            tmp_path / "cache",
        )
        assert again.rules("trixie")[0] == rules

    assert rules == RULES
    assert data.describe() == "debian-security-support 1:13+2026.01.04 (trixie) of 2026-11-08"
    assert sum(path.endswith(".deb") for path in requests) == 1  # the suite did not move: kept
    offline = support.SupportLists(Archive(tmp_path / "cache", offline=True), tmp_path / "cache")
    assert offline.rules("trixie")[1].offline


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
