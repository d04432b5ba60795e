"""Which installed Debian packages have a fix waiting, and the CVE IDs the fix names.

An installed package is fixable when its release's security or updates pocket holds a higher version of
it than the one installed. A pocket may also hold a version lower than the installed one (a point
release superseded it): that is no fix. The CVE IDs come from the fixed package's changelog, the uploads
after the installed source version up to the fixed one.

Two kinds of fix, labelled apart (OsFix.kind): security fixes, from `<suite>-security`, and point-release
fixes, from `<suite>-updates`, where Debian publishes the stable updates it will not hold back until the
next point release. Both are read the same way, changelog and all. Not looked at: the release suite itself,
where a point release folds in the rest of its fixes (an index of tens of MB): an image built before a
point release can hold versions the release has replaced since, and those are not counted here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from imagelab.inspect import dpkg
from imagelab.vulns import debversion
from imagelab.vulns.archive import Archive, Binary, Index, split_source
from imagelab.vulns.changelog import Changelogs, cves_between
from imagelab.vulns.findings import DataDate, OsFix

#: Debian's release numbers and codenames, for images whose os-release names no codename.
CODENAMES = {"11": "bullseye", "12": "bookworm", "13": "trixie", "14": "forky"}


@dataclass(frozen=True)
class Installed:
    name: str
    version: str
    source: str
    source_version: str


def installed(records: Mapping[str, dpkg.Record]) -> list[Installed]:
    """The installed packages with their source package and source version."""
    found = []
    for name, record in sorted(records.items()):
        source, source_version = split_source(record.source, name, record.version)
        found.append(Installed(name, record.version, source, source_version))
    return found


def release(os_release: str, debian_version: str = "") -> str:
    """The Debian codename of an image, from /etc/os-release (VERSION_CODENAME, else the number in
    VERSION_ID) or /etc/debian_version ("12.11"); "" when it is not Debian or says nothing."""
    fields = {}
    for line in os_release.splitlines():
        key, _, value = line.partition("=")
        fields[key.strip()] = value.strip().strip('"')
    if fields.get("ID", "debian") != "debian" and "debian" not in fields.get("ID_LIKE", ""):
        return ""
    if fields.get("VERSION_CODENAME"):
        return fields["VERSION_CODENAME"]
    number = fields.get("VERSION_ID") or debian_version.strip()
    return CODENAMES.get(number.split(".")[0], "")


def fixes(packages: list[Installed], indexes: list[Index]) -> list[tuple[Installed, Binary, Index]]:
    """Each installed package with the highest version the pockets hold above it, and that pocket."""
    found = []
    for package in packages:
        best: tuple[Binary, Index] | None = None
        for index in indexes:
            candidate = index.newest(package.name)
            if candidate is None or not _newer(candidate.version, package.version):
                continue
            if best is None or _newer(candidate.version, best[0].version):
                best = (candidate, index)
        if best is not None:
            found.append((package, *best))
    return found


def scan(
    records: Mapping[str, dpkg.Record], codename: str, archive: Archive, changelogs: Changelogs
) -> tuple[list[OsFix], list[DataDate], list[str]]:
    """The fixable packages of an image, the dates of the indexes judged on, and notes on what is missing."""
    notes: list[str] = []
    indexes = archive.indexes(codename) if codename else []
    for suite, why in sorted(archive.errors.items()):
        if suite.startswith(f"{codename}-"):
            notes.append(f"{suite}: {why}")
    dates = [DataDate(index.suite, index.date, index.offline) for index in indexes]
    found = []
    for package, binary, index in fixes(installed(records), indexes):
        entries = changelogs.entries(
            binary.source,
            binary.source_version,
            index.of_source(binary.source, binary.source_version),
            index.base_url,
            first=binary.name,  # its own .deb first: documentation packages often hold no changelog
        )
        cves = cves_between(entries, package.source_version, binary.source_version) if entries else []
        if entries is None:
            notes.append(
                f"{package.name}: no changelog of {binary.source} {binary.source_version} "
                f"({changelogs.errors.get(f'{binary.source} {binary.source_version}', 'unknown')})"
            )
        found.append(
            OsFix(
                package.name,
                package.version,
                binary.version,
                index.suite,
                binary.source,
                tuple(cves),
                entries is not None,
            )
        )
    return found, dates, notes


def _newer(a: str, b: str) -> bool:
    try:
        return debversion.newer(a, b)
    except ValueError:  # a version dpkg would refuse is no evidence of a fix
        return False
