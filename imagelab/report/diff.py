"""What differs between two measurements of one image: packages by name, configuration, check verdicts,
known vulnerabilities by ID.

The gate and the bump report both read these, so a package the gate names is the one the report lists.
"""

from __future__ import annotations

from dataclasses import dataclass

from imagelab.report.model import CHECKS, ImageConfig, ImageResult, PackageRef
from imagelab.report.vuln_facts import VulnFacts

#: Labels the harness stamps on every image (build.labels): they differ between any two runs or base
#: sets by construction, and say nothing about what the base changed.
OWN_LABELS = ("org.opencontainers.image.revision", "org.imagelab.base-set")


@dataclass(frozen=True)
class PackageChange:
    kind: str  # deb, python, npm or go
    name: str
    old: str  # the version before ("" when added)
    new: str  # the version after ("" when removed)
    #: "base" when the base image's layers hold the package (the new version; for a removed one, the
    #: old), "own" when the image's own layers do, "" when the measurement did not record it.
    origin: str

    @property
    def how(self) -> str:
        return "added" if not self.old else "removed" if not self.new else "changed"

    def describe(self) -> str:
        where = f" ({self.origin})" if self.origin else ""
        if self.how == "added":
            return f"+{self.name} {self.new}{where}"
        if self.how == "removed":
            return f"-{self.name} {self.old}{where}"
        return f"{self.name} {self.old} -> {self.new}{where}"


@dataclass(frozen=True)
class ConfigChange:
    field: str  # "user", "entrypoint", "env PATH", "label org.example.x", ...
    old: str
    new: str


@dataclass(frozen=True)
class CheckChange:
    check: str  # smoke, structure, hardened or graceful stop
    old: str
    new: str


def _origin(ref: PackageRef) -> str:
    return "" if ref.in_base is None else "base" if ref.in_base else "own"


def _inventory(image: ImageResult) -> dict[tuple[str, str], dict[str, PackageRef]]:
    found: dict[tuple[str, str], dict[str, PackageRef]] = {}
    for ref in image.exposure.inventory if image.exposure else []:
        found.setdefault((ref.kind, ref.name), {})[ref.version] = ref
    return found


def packages(old: ImageResult, new: ImageResult) -> list[PackageChange]:
    """Packages added, removed and changed in version, sorted by kind and name.

    A name installed at several versions (npm nests them) changes version only when each side has one;
    otherwise its versions are added and removed one by one.
    """
    before, after = _inventory(old), _inventory(new)
    changes = []
    for key in sorted(before.keys() | after.keys()):
        kind, name = key
        was, now = before.get(key, {}), after.get(key, {})
        if set(was) == set(now):
            continue
        if len(was) == 1 and len(now) == 1:
            [(old_version, _)] = was.items()
            [(new_version, ref)] = now.items()
            changes.append(PackageChange(kind, name, old_version, new_version, _origin(ref)))
            continue
        changes += [PackageChange(kind, name, v, "", _origin(r)) for v, r in was.items() if v not in now]
        changes += [PackageChange(kind, name, "", v, _origin(r)) for v, r in now.items() if v not in was]
    return changes


def os_kind(change: PackageChange) -> bool:
    return change.kind == "deb"


def _words(values: list[str]) -> str:
    return " ".join(values) if values else "(none)"


def config(old: ImageConfig | None, new: ImageConfig | None) -> list[ConfigChange]:
    """How running a container of the image changed: user, entrypoint, cmd, env, ports, workdir, labels."""
    if old is None or new is None:
        return []
    changes = []
    for name, before, after in (
        ("user", old.user or "root", new.user or "root"),
        ("entrypoint", _words(old.entrypoint), _words(new.entrypoint)),
        ("cmd", _words(old.cmd), _words(new.cmd)),
        ("working dir", old.working_dir or "/", new.working_dir or "/"),
        ("exposed ports", _words(old.exposed_ports), _words(new.exposed_ports)),
    ):
        if before != after:
            changes.append(ConfigChange(name, before, after))
    for prefix, was, now in (("env", old.env, new.env), ("label", old.labels, new.labels)):
        for key in sorted(was.keys() | now.keys()):
            if prefix == "label" and key.startswith(OWN_LABELS):
                continue
            if was.get(key) != now.get(key):
                changes.append(
                    ConfigChange(f"{prefix} {key}", was.get(key, "(unset)"), now.get(key, "(unset)"))
                )
    return changes


def checks(old: ImageResult, new: ImageResult) -> list[CheckChange]:
    """Checks whose verdict changed (a check not run is "-")."""
    changes = [
        CheckChange(check, old.verdict(check) or "-", new.verdict(check) or "-")
        for check in CHECKS
        if old.verdict(check) != new.verdict(check)
    ]
    if old.graceful_stop != new.graceful_stop:
        flag = {True: "pass", False: "fail", None: "-"}
        changes.append(CheckChange("graceful stop", flag[old.graceful_stop], flag[new.graceful_stop]))
    return changes


@dataclass(frozen=True)
class VulnChange:
    """A vulnerability one side has and the other has not: fixed by the move, or introduced by it."""

    id: str  # a CVE ID (a Debian fix waiting) or a GO- ID
    how: str  # "fixed" (the old side had it) or "introduced" (the new side has it)
    packages: tuple[str, ...]  # the Debian packages or Go modules it was found in, with their versions
    #: "base" when the base image's layers hold it (the side that has it), "own" when the image's own
    #: layers do, "" when the measurement did not record it.
    origin: str
    go: bool = False  # a GO- ID of a Go program, not a Debian fix

    def describe(self) -> str:
        where = f", {self.origin}" if self.origin else ""
        return f"{'+' if self.how == 'introduced' else '-'}{self.id} ({', '.join(self.packages)}{where})"


def _vuln_index(found: VulnFacts) -> dict[tuple[bool, str], tuple[list[str], set[bool | None]]]:
    """(go?, ID) -> (where it was found, whether those places are in the base layers)."""
    index: dict[tuple[bool, str], tuple[list[str], set[bool | None]]] = {}
    for fix in found.os_fixes:
        for cve in fix.cves:
            places, origins = index.setdefault((False, cve), ([], set()))
            places.append(f"{fix.package} {fix.installed}")
            origins.add(fix.in_base)
    for finding in found.go:
        places, origins = index.setdefault((True, finding.id), ([], set()))
        places.append(f"{finding.module} {finding.installed}")
        origins.add(finding.in_base)
    return index


def _vuln_origin(origins: set[bool | None]) -> str:
    # Found in the base and in the image's own layers: the base's, since moving the base is what fixes it there.
    return "" if None in origins else "base" if True in origins else "own"


def vulnerabilities(old: ImageResult, new: ImageResult) -> list[VulnChange]:
    """Fixable CVEs and Go vulnerabilities the move fixed and introduced, by ID. A CVE is "fixed" when
    the new image no longer has a fix waiting for it (it has the fix, or no longer has the package).
    Only what both sides judged is compared: a side not scanned, or with "no data", says nothing."""
    was, now = old.vulnerabilities, new.vulnerabilities
    if was is None or now is None:
        return []
    judged = {
        False: was.fixable_cves is not None and now.fixable_cves is not None,
        True: was.go_vulns is not None and now.go_vulns is not None,
    }
    before, after = _vuln_index(was), _vuln_index(now)
    changes = []
    for key in sorted(before.keys() | after.keys()):
        if not judged[key[0]] or (key in before) == (key in after):
            continue
        how, (places, origins) = ("fixed", before[key]) if key in before else ("introduced", after[key])
        changes.append(VulnChange(key[1], how, tuple(dict.fromkeys(places)), _vuln_origin(origins), key[0]))
    return changes
