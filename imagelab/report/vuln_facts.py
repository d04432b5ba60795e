"""What a scanner would say of one image, as the report keeps it (model.ImageResult.vulnerabilities):
the Debian fixes waiting, the Go vulnerabilities, the packages whose support is limited, and where and
when each figure's data came from. imagelab/vulns/ finds them; image_costs.vulnerabilities turns its
findings into these.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from imagelab.report.strict import STRICT


@dataclass
class VulnData:
    """Where one part of the vulnerability figures came from, and its date."""

    __pydantic_config__ = STRICT

    source: str  # "trixie-security", "golang.org/x/vulndb@v0.0.0-..." (imagelab/vulns/)
    date: str  # the day the data was written (the index's Release date, the module version's time)
    offline: bool = False  # the fetch failed: data kept from an earlier run

    def describe(self) -> str:
        return f"{self.source} of {self.date}" + (" (kept from an earlier run)" if self.offline else "")


@dataclass
class OsFixFacts:
    """An installed Debian package whose release has a fixed version waiting (security or updates)."""

    __pydantic_config__ = STRICT

    package: str
    installed: str
    fixed: str
    suite: str  # the pocket that has the fix: "trixie-security"
    source: str  # the source package
    cves: list[str] = field(default_factory=list)  # named by the uploads after `installed`, up to `fixed`
    changelog_read: bool = True  # False: the fix's changelog could not be had, its CVE IDs are unknown
    #: True when the image's base layers already hold the package at this version; None: not known.
    in_base: bool | None = None


@dataclass
class GoVulnFacts:
    """A known vulnerability of a module (or the standard library) compiled into a Go program."""

    __pydantic_config__ = STRICT

    id: str  # "GO-2025-3750"
    binary: str  # the program's path in the image
    module: str  # "golang.org/x/net", or "stdlib"
    installed: str
    fixed: str  # "" when no fixed version exists yet
    aliases: list[str] = field(default_factory=list)  # CVE and GHSA IDs
    called: bool = False  # the program holds one of the vulnerable functions, not only the module
    in_base: bool | None = None  # the base image's layers hold the same program with it


@dataclass
class SupportFacts:
    """An installed package whose Debian security support is limited or has ended."""

    __pydantic_config__ = STRICT

    package: str
    source: str
    kind: str  # "ended" or "limited"
    note: str = ""


@dataclass
class VulnFacts:
    """What a scanner would say, from the data the machine reached (imagelab/vulns/). A count is None
    when there was no data to judge with ("no data"), never 0."""

    __pydantic_config__ = STRICT

    fixable_cves: int | None  # distinct CVE IDs the waiting fixes name
    fixable_packages: int | None
    go_vulns: int | None  # distinct GO- IDs in the image's Go programs
    support_limited: int | None
    release: str = ""  # the Debian release its packages are judged against ("" when none)
    os_fixes: list[OsFixFacts] = field(default_factory=list)
    go: list[GoVulnFacts] = field(default_factory=list)
    go_binaries: list[str] = field(default_factory=list)  # the Go programs looked at
    support: list[SupportFacts] = field(default_factory=list)
    os_data: list[VulnData] = field(default_factory=list)  # empty: no index could be had
    go_data: VulnData | None = None
    support_data: VulnData | None = None
    not_covered: str = ""  # what no offline source covers ("Python and npm packages")
    notes: list[str] = field(default_factory=list)  # what went missing on the way

    def cves(self, in_base: bool | None = None) -> set[str]:
        """The fixable CVE IDs; with `in_base`, only those of fixes in (True) or out of (False) the base."""
        return {
            cve
            for fix in self.os_fixes
            if in_base is None or bool(fix.in_base) == in_base
            for cve in fix.cves
        }

    def go_ids(self, in_base: bool | None = None) -> set[str]:
        return {g.id for g in self.go if in_base is None or bool(g.in_base) == in_base}

    def dates(self) -> list[VulnData]:
        return [*self.os_data, *(d for d in (self.go_data, self.support_data) if d is not None)]
