"""Debian version order: a table of real pairs from the archive, and dpkg itself as the referee."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from imagelab.vulns import debversion

#: (lower, higher) pairs, each seen in Debian's archive or in dpkg's own rules.
ORDERED = [
    ("2.5.0-1+deb12u1", "2.5.0-1+deb12u2"),  # libexpat1, bookworm-security
    ("2.5.0-1+deb12u9", "2.5.0-1+deb12u10"),  # digits compare as numbers, not text
    ("2.5.0-1", "2.5.0-1+deb12u1"),  # the end of a string sorts before "+"
    ("3.0.15-1~deb12u1", "3.0.15-1"),  # "~" sorts before the end: a backport below the release
    ("3.0.16-1~deb12u1", "3.0.17-1~deb12u1"),  # openssl's stable updates
    ("1.0~rc1", "1.0"),
    ("1.0~~", "1.0~"),
    ("1.0~", "1.0"),
    ("1.0", "1.0a"),  # letters after the end
    ("1.0a", "1.0+"),  # letters before every other character
    ("1.0+", "1.0."),  # then by character code: "+" (43) before "." (46)
    ("2.36-9+deb12u9", "2.36-9+deb12u10"),  # glibc
    ("2.41-12", "2.41-12+deb13u1"),  # glibc, trixie
    ("1:2.0", "2:1.0"),  # the epoch wins
    ("9.9", "1:0.1"),  # no epoch is epoch 0
    ("1:9.2p1-2+deb12u5", "1:9.2p1-2+deb12u6"),  # openssh
    ("252.30-1~deb12u2", "252.31-1~deb12u1"),  # systemd
    ("2023c-5", "2024a-0+deb12u1"),  # tzdata
    ("2024a-0+deb12u1", "2025b-0+deb12u1"),
    ("7.88.1-10+deb12u8", "7.88.1-10+deb12u12"),  # curl
    ("1.2.13.dfsg-1", "1:1.2.13.dfsg-1"),  # zlib's epoch
    ("20230311", "20230311+deb12u1"),  # ca-certificates: no revision at all
    ("1.0-1", "1.0-1.1"),  # a non-maintainer upload
    ("1.0-1", "1.0.1-1"),
    ("1.0-2", "1.0-10"),
    ("0.9.8", "0.10"),  # "9" against "10": numbers
    ("1.2.3-1", "1.2.3-1build1"),  # Ubuntu-style rebuilds sort after
    ("6.1.0-18", "6.1.0-18+b1"),  # a binary NMU
    ("2:8.2.3995-1+deb12u1", "2:9.0.1378-2"),  # vim: bookworm to trixie
    ("1.21.4-1", "1.21.4-1+deb12u1"),
    ("12.2.0-14", "12.2.0-14+deb12u1"),  # gcc-12
    ("2.40-1", "2.40-1+b1"),
    ("1.0-1~bpo12+1", "1.0-1"),  # backports sort below the release they came from
]

EQUAL = [
    ("1.0", "1.0"),
    ("0:1.0", "1.0"),  # epoch 0 is no epoch
    ("1.0-0", "1.0-0"),
    ("1.007", "1.7"),  # digits as numbers: leading zeros do not count
    ("1.0-1", "1.0-01"),
]


@pytest.mark.parametrize(("lower", "higher"), ORDERED)
def test_pairs_sort_in_dpkg_order(lower: str, higher: str):
    assert debversion.compare(lower, higher) == -1
    assert debversion.compare(higher, lower) == 1
    assert debversion.newer(higher, lower)
    assert not debversion.newer(lower, higher)


@pytest.mark.parametrize(("a", "b"), EQUAL)
def test_equal_versions_compare_as_zero(a: str, b: str):
    assert debversion.compare(a, b) == 0


def test_a_list_sorts_like_dpkg():
    versions = ["1.0", "1.0~rc1", "1:0.5", "1.0+deb12u1", "1.0-1", "1.0a", "0.9"]

    assert sorted(versions, key=debversion.sort_key) == [
        "0.9",
        "1.0~rc1",
        "1.0",
        "1.0-1",
        "1.0a",
        "1.0+deb12u1",
        "1:0.5",
    ]


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("2.5.0-1+deb12u5", (0, "2.5.0", "1+deb12u5")),
        ("1:9.2p1-2+deb12u6", (1, "9.2p1", "2+deb12u6")),
        ("20230311+deb12u1", (0, "20230311+deb12u1", "")),
        ("1.2-3-4", (0, "1.2-3", "4")),  # the revision follows the last hyphen
    ],
)
def test_parse_splits_epoch_upstream_and_revision(text: str, parts: tuple[int, str, str]):
    assert tuple(debversion.parse(text)) == parts
    assert str(debversion.parse(text)) == text


@pytest.mark.parametrize("text", ["", "a:1.0", "1:"])
def test_parse_refuses_what_dpkg_refuses(text: str):
    with pytest.raises(ValueError, match="not a Debian version"):
        debversion.parse(text)


@pytest.mark.skipif(shutil.which("dpkg") is None, reason="dpkg is not installed: no referee to check against")
def test_dpkg_agrees_with_every_pair_of_the_table():
    """The table is ours; dpkg is the authority. Every ordered and equal pair, both ways."""

    def dpkg_says(a: str, op: str, b: str) -> bool:
        done = subprocess.run(["dpkg", "--compare-versions", a, op, b], check=False, timeout=10)
        return done.returncode == 0

    disagreements = [(a, b) for a, b in ORDERED if not (dpkg_says(a, "lt", b) and dpkg_says(b, "gt", a))] + [
        (a, b) for a, b in EQUAL if not dpkg_says(a, "eq", b)
    ]

    assert disagreements == []
