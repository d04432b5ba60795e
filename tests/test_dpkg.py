"""dpkg: the one rule for "installed", on status texts written for each edge case."""

from __future__ import annotations

import pytest
from saved_images import FIXTURES

from imagelab.inspect import dpkg
from imagelab.inspect.dpkg import Record


def stanza(package: str, status: str | None = "install ok installed", version: str = "1.0") -> str:
    status_line = f"Status: {status}\n" if status is not None else ""
    return f"Package: {package}\n{status_line}Version: {version}\nDescription: {package}\n"


def test_the_status_fixture_leaves_out_a_package_removed_but_not_purged():
    files = {"status": (FIXTURES / "dpkg/var/lib/dpkg/status").read_bytes()}

    assert dpkg.installed(files) == {"base-files": "13.8", "libc6": "2.41-12", "tzdata": "2025b-4"}


@pytest.mark.parametrize(
    ("status", "installed"),
    [
        ("install ok installed", True),
        ("hold ok installed", True),  # held back from upgrades: still installed
        ("install ok unpacked", True),  # files on disk, not configured yet
        ("install ok half-configured", True),
        ("install ok triggers-pending", True),
        ("deinstall ok config-files", False),  # removed without purge: only conffiles left
        ("purge ok not-installed", False),
        ("install reinstreq not-installed", False),
    ],
)
def test_a_package_counts_unless_its_state_leaves_no_files(status: str, installed: bool):
    files = {"status": stanza("pkg", status).encode()}

    assert dpkg.installed(files) == ({"pkg": "1.0"} if installed else {})


def test_status_d_records_have_no_status_field_and_count_as_installed():
    files = {
        "status.d/libc6": stanza("libc6", None, "2.41-12").encode(),
        "status.d/netbase": (stanza("netbase", None, "6.5") + "\n" + stanza("media-types", None)).encode(),
        "status.d/libc6.md5sums": b"Package: not-a-record\n",  # md5sums files are not stanzas
    }

    assert dpkg.installed(files) == {"libc6": "2.41-12", "netbase": "6.5", "media-types": "1.0"}


def test_a_package_in_both_the_status_file_and_status_d_counts_once():
    files = {"status": stanza("libc6").encode(), "status.d/libc6": stanza("libc6", None).encode()}

    assert list(dpkg.installed(files)) == ["libc6"]


def test_continuation_lines_are_not_fields():
    text = (
        "Package: tool\nStatus: deinstall ok config-files\nVersion: 2\n"
        "Description: a tool\n Status: install ok installed\n Package: other\n"
    )

    assert dpkg.parse(text) == [Record("tool", "2", "config-files")]


def test_stanzas_split_on_white_space_lines_and_field_names_ignore_case():
    text = "package: a\nstatus: install ok installed\nversion: 1\n  \t\nPACKAGE: b\nVERSION: 2\n"

    assert dpkg.parse(text) == [Record("a", "1", "installed"), Record("b", "2", "")]


def test_stanzas_without_a_package_are_skipped_and_a_missing_version_is_empty():
    text = "Status: install ok installed\nVersion: 9\n\nPackage: bare\n\n\n\nPackage:\nVersion: 3\n"

    assert dpkg.parse(text) == [Record("bare", "", "")]


def test_bytes_that_are_not_utf8_do_not_stop_the_reading():
    files = {"status": b"Package: caf\xe9\nStatus: install ok installed\nVersion: 1\n"}

    assert dpkg.installed(files) == {"caf\ufffd": "1"}


def test_records_keep_the_source_package_as_written():
    files = {
        "status": (
            b"Package: libc6\nStatus: install ok installed\nSource: glibc (2.36-9+deb12u10)\nVersion: 2.36-9+deb12u10+b1\n\n"
            b"Package: tzdata\nStatus: install ok installed\nVersion: 2025b-4\n"
        )
    }

    records = dpkg.installed_records(files)

    assert records["libc6"].source == "glibc (2.36-9+deb12u10)"
    assert records["tzdata"].source == ""
    assert dpkg.installed(files) == {"libc6": "2.36-9+deb12u10+b1", "tzdata": "2025b-4"}
