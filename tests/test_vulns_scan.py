"""A whole image scanned: its packages, its release, its Go programs, dated, and "no data" kept apart
from zero. On fixtures served on 127.0.0.1; one test against Debian's real trixie-security."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from saved_images import file, write_docker_archive
from vulns_archive import AS_OF, VULNS, archive_keyring, archive_server, serve_tree

from imagelab.inspect import imagefs
from imagelab.vulns import scan, summary
from imagelab.vulns.archive import Archive
from imagelab.vulns.findings import NOT_COVERED
from imagelab.vulns.golang import GoVulns
from imagelab.vulns.rootfs import RootFS

BOOKWORM = (
    b'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n'
)
NOWHERE = "http://127.0.0.1:9"  # nothing listens: every fetch fails at once


def rootfs(folder: Path, files: dict[str, bytes]) -> RootFS:
    for path, content in files.items():
        (folder / path.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
        (folder / path.lstrip("/")).write_bytes(content)
    return RootFS(folder)


def scanner(cache: Path, security: str = NOWHERE, offline: bool = False) -> scan.Scanner:
    archive = Archive(
        cache,
        mirror=f"{NOWHERE}/debian",
        security_mirror=security,
        offline=offline,
        keyring=archive_keyring(),
        now=lambda: AS_OF,
    )
    return scan.Scanner(cache, archive=archive, go=GoVulns(cache, offline=True))


def test_an_image_with_fixable_packages_reports_their_cves_with_the_data_date(tmp_path):
    root = tmp_path / "debian-security"
    serve_tree(root)
    image = rootfs(
        tmp_path / "rootfs",
        {"/etc/os-release": BOOKWORM, "/var/lib/dpkg/status": (VULNS / "status").read_bytes()},
    )
    with archive_server(root) as (url, _):
        findings = scanner(tmp_path / "cache", url).scan(image)

    assert (findings.release, findings.packages) == ("bookworm", 4)
    assert findings.fixable_packages == 2  # libexpat1 and libssl3
    assert findings.fixable_cves == 27  # expat's; openssl's changelog is not served here
    assert [d.describe() for d in findings.os_data] == ["bookworm-security of 2026-12-04"]
    assert findings.go_binaries == [] and findings.go_vulns == 0  # no Go program: a true zero
    assert findings.not_covered == NOT_COVERED
    text = summary.summary(findings)
    assert (
        "fixable OS CVEs: 27 in 2 packages (27 by security fixes, 0 by point-release fixes); "
        "data: bookworm-security of 2026-12-04"
    ) in text
    assert "not covered: Python and npm packages" in text


def test_an_index_whose_signature_fails_makes_the_figure_no_data_with_the_reason(tmp_path):
    root = tmp_path / "debian-security"
    serve_tree(root)
    inrelease = next(root.rglob("InRelease"))
    inrelease.write_bytes(inrelease.read_bytes().replace(b"Date: ", b"Date:  ", 1))
    image = rootfs(
        tmp_path / "rootfs",
        {"/etc/os-release": BOOKWORM, "/var/lib/dpkg/status": (VULNS / "status").read_bytes()},
    )
    with archive_server(root) as (url, _):
        findings = scanner(tmp_path / "cache", url).scan(image)

    assert findings.fixable_cves is None  # never 0: nothing trustworthy to judge with
    assert "fixable OS CVEs: no data" in summary.summary(findings)
    (note,) = [n for n in findings.notes if n.startswith("bookworm-security:")]
    assert "InRelease does not verify" in note and "hint:" in note


def test_with_no_data_at_all_the_figures_say_no_data_not_zero(tmp_path):
    image = rootfs(
        tmp_path / "rootfs",
        {"/etc/os-release": BOOKWORM, "/var/lib/dpkg/status": (VULNS / "status").read_bytes()},
    )

    findings = scanner(tmp_path / "cache").scan(image)

    assert findings.fixable_cves is None and findings.fixable_packages is None
    lines = summary.summary(findings).splitlines()
    assert "fixable OS CVEs: no data" in lines  # not "no data in no data packages"
    assert "security support limited or ending: no data" in lines
    assert any(note.startswith("bookworm-security: cannot reach the archive") for note in findings.notes)


def test_a_saved_image_is_read_through_the_same_interface(tmp_path):
    """distroless keeps one status.d/ file per package and no status file."""
    archive = write_docker_archive(
        tmp_path / "image.tar",
        [
            [
                file("etc/os-release", BOOKWORM),
                file(
                    "var/lib/dpkg/status.d/libexpat1",
                    b"Package: libexpat1\nSource: expat\nVersion: 2.5.0-1+deb12u2\n",
                ),
                file("var/lib/dpkg/status.d/libexpat1.md5sums", b"0 usr/lib/libexpat.so.1\n"),
            ]
        ],
    )
    root = tmp_path / "debian-security"
    serve_tree(root)
    with archive_server(root) as (url, _), imagefs.open_archive(archive) as image:
        findings = scanner(tmp_path / "cache", url).scan(image)

    assert [(f.package, f.fixed, len(f.cves)) for f in findings.os_fixes] == [
        ("libexpat1", "2.5.0-1+deb12u5", 27)
    ]


def test_a_go_program_with_no_database_is_no_data(tmp_path, monkeypatch):
    image = rootfs(tmp_path / "rootfs", {"/app/prog": b"\x7fELF"})
    monkeypatch.setattr(scan.exposure, "go_binaries", lambda image: [("/app/prog", None)])

    findings = scanner(tmp_path / "cache").scan(image)

    assert findings.go_binaries == ["/app/prog"]
    assert findings.go_vulns is None and findings.go_data is None
    assert "Go vulnerabilities: no data in 1 Go programs" in summary.summary(findings)
    assert "golang.org/x/vulndb: offline: not downloaded" in findings.notes


def test_findings_serialize_to_json(tmp_path):
    image = rootfs(tmp_path / "rootfs", {"/etc/hostname": b"x\n"})
    findings = scanner(tmp_path / "cache").scan(image)

    data = json.loads(json.dumps(findings, default=lambda o: o.__dict__))
    assert data["packages"] == 0 and data["not_covered"] == NOT_COVERED
    assert findings.fixable_cves == 0  # no Debian packages at all: nothing to fix, truly


@pytest.mark.network
def test_trixies_release_version_of_libzstd_is_reported_with_its_real_cve(tmp_path):
    """libzstd1 1.5.7+dfsg-1 is what Debian 13 released (what a stand-in built from `trixie` alone has);
    trixie-security has 1.5.7+dfsg-1+deb13u1 (CVE-2026-124851) or later."""
    image = rootfs(
        tmp_path / "rootfs",
        {
            "/etc/os-release": b'ID=debian\nVERSION_ID="13"\nVERSION_CODENAME=trixie\n',
            "/var/lib/dpkg/status": (
                b"Package: libzstd1\nStatus: install ok installed\nSource: libzstd\nVersion: 1.5.7+dfsg-1\n"
            ),
        },
    )
    run = scan.Scanner()  # the harness's own cache and the machine's mirrors
    if run.archive.index("trixie-security") is None:
        pytest.skip(f"Debian's security archive does not answer and nothing is kept: {run.archive.errors}")

    findings = run.scan(image)

    (fix,) = findings.os_fixes
    assert (fix.package, fix.suite, fix.changelog_read) == ("libzstd1", "trixie-security", True)
    assert "CVE-2026-124851" in fix.cves
    assert findings.os_data[0].source == "trixie-security"


def test_one_line_per_image_counts_the_base_layers_share_and_dates_its_data(tmp_path):
    """explain's line: the same counts as the compare table, with the base image's share beside them."""
    root = tmp_path / "debian-security"
    serve_tree(root)
    image = rootfs(
        tmp_path / "rootfs",
        {"/etc/os-release": BOOKWORM, "/var/lib/dpkg/status": (VULNS / "status").read_bytes()},
    )
    with archive_server(root) as (url, _):
        findings = scanner(tmp_path / "cache", url).scan(image)
    base = scan.Findings(os_fixes=[fix for fix in findings.os_fixes if fix.package == "libexpat1"])

    assert summary.line(findings, base) == (
        "fixable OS CVEs: 27 in 2 packages (27 in the base image's layers; 27 by security fixes, "
        "0 by point-release fixes); Go vulnerabilities: 0 in 0 Go programs; data: bookworm-security of 2026-12-04; not covered: Python and npm packages"
    )
    assert summary.line(scanner(tmp_path / "none").scan(image)) == (
        "fixable OS CVEs: no data; Go vulnerabilities: 0 in 0 Go programs; not covered: Python and npm packages"
    )
