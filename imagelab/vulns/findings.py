"""What the vulnerability scan found in one image: typed, dated, and honest about what it does not see.

Every section carries the date of the data it was judged on. A count is None when there was no data to
judge with ("no data" in a report), never 0: zero means the data was there and found nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

#: What no offline source on these machines covers (PyPI's per-version JSON and `npm audit` do not
#: answer here): reports say so next to every figure instead of counting zero.
NOT_COVERED = "Python and npm packages"


@dataclass(frozen=True)
class DataDate:
    """Where one section's data came from, and how old it is."""

    source: str  # "trixie-security", "golang.org/x/vulndb@v0.0.0-20261105234957-e22db6528018"
    date: datetime  # when the data was written (the Release file's Date, the module version's time)
    offline: bool = False  # the fetch failed: this is data kept from an earlier run

    def age_days(self, now: datetime | None = None) -> float:
        return ((now or datetime.now(UTC)) - self.date).total_seconds() / 86400

    def describe(self) -> str:
        text = f"{self.source} of {self.date:%Y-%m-%d}"
        return text + (f" (offline: kept data, {self.age_days():.0f} days old)" if self.offline else "")


@dataclass(frozen=True)
class OsFix:
    """An installed Debian package with a newer version in the security or updates pocket."""

    package: str
    installed: str
    fixed: str
    suite: str  # the pocket that has the fix: "trixie-security"
    source: str  # the source package (one changelog, one Debian security advisory)
    cves: tuple[str, ...] = ()  # named by the uploads after `installed`, up to `fixed`
    changelog_read: bool = True  # False: the fixed .deb's changelog could not be had; CVE IDs unknown

    @property
    def key(self) -> tuple[str, str]:
        """The same fix in another image (its base): the same package at the same installed version."""
        return self.package, self.installed

    @property
    def kind(self) -> str:
        """What sort of fix: a "security" fix (the security archive's pocket) or a "point-release" fix
        (`<suite>-updates`: Debian's stable updates, released ahead of the next point release)."""
        return "security" if self.suite.endswith("-security") else "point-release"


@dataclass(frozen=True)
class GoFinding:
    """A known vulnerability of a module (or the standard library) compiled into a Go program."""

    id: str  # "GO-2022-1059"
    binary: str  # the program's path in the image
    module: str  # "golang.org/x/text", or "stdlib"
    installed: str  # the module's version in the program ("v0.3.7", "v1.24.2")
    fixed: str  # the first version without it; "" when there is none yet
    aliases: tuple[str, ...] = ()  # CVE and GHSA IDs of the same vulnerability
    called: bool = False  # the program holds one of the vulnerable functions, not only the module

    @property
    def key(self) -> tuple[str, str, str, str]:
        """The same finding in another image: the same program path, module version and vulnerability."""
        return self.binary, self.module, self.installed, self.id


@dataclass(frozen=True)
class SupportLimit:
    """An installed package whose Debian security support is limited or has ended."""

    package: str
    source: str
    kind: str  # "ended" or "limited"
    note: str = ""  # what Debian's list says (a version, a date, a reason)


@dataclass
class Findings:
    """One image's vulnerability figures, each with its data's date."""

    release: str = ""  # the Debian release the image's packages come from ("trixie"); "" when none
    packages: int = 0  # installed Debian packages
    os_fixes: list[OsFix] = field(default_factory=list)
    os_data: list[DataDate] = field(default_factory=list)  # empty: no index could be had
    go_binaries: list[str] = field(default_factory=list)  # the Go programs looked at
    go: list[GoFinding] = field(default_factory=list)
    go_data: DataDate | None = None  # None: no database (or no govulncheck) could be had
    support: list[SupportLimit] = field(default_factory=list)
    support_data: DataDate | None = None
    not_covered: str = NOT_COVERED
    notes: list[str] = field(default_factory=list)  # what went missing on the way, one line each

    @property
    def fixable_cves(self) -> int | None:
        """Distinct CVE IDs with a fix waiting in the archive; None when there was no data to judge."""
        if self.packages and not self.os_data:
            return None
        return len({cve for fix in self.os_fixes for cve in fix.cves})

    def fixable_cves_by_kind(self) -> dict[str, int]:
        """Distinct CVE IDs by the kind of fix that names them (OsFix.kind); a CVE named by both counts
        as a security fix."""
        security = {cve for fix in self.os_fixes if fix.kind == "security" for cve in fix.cves}
        point = {cve for fix in self.os_fixes if fix.kind != "security" for cve in fix.cves} - security
        return {"security": len(security), "point-release": len(point)}

    @property
    def fixable_packages(self) -> int | None:
        if self.packages and not self.os_data:
            return None
        return len(self.os_fixes)

    @property
    def go_vulns(self) -> int | None:
        """Distinct GO- IDs in the image's Go programs; None when there were programs and no database."""
        if self.go_binaries and self.go_data is None:
            return None
        return len({finding.id for finding in self.go})

    @property
    def support_limited(self) -> int | None:
        """Installed packages whose security support is limited or ends; None without Debian's lists."""
        if self.packages and self.support_data is None:
            return None
        return len(self.support)
