"""Findings as a few plain lines: a line a figure, each with its data's date, then the details."""

from __future__ import annotations

from imagelab.vulns.findings import Findings


def count(value: int | None) -> str:
    """A figure as a report shows it: "no data" when there was nothing to judge with, never 0."""
    return "no data" if value is None else str(value)


def summary(findings: Findings) -> str:
    lines = [
        f"Debian packages: {findings.packages} ({findings.release or 'no Debian release'})",
        f"fixable OS CVEs: {count(findings.fixable_cves)} in {count(findings.fixable_packages)} packages"
        + (f"; data: {', '.join(d.describe() for d in findings.os_data)}" if findings.os_data else ""),
        f"Go vulnerabilities: {count(findings.go_vulns)} in {len(findings.go_binaries)} Go programs"
        + (f"; data: {findings.go_data.describe()}" if findings.go_data else ""),
        f"security support limited or ending: {count(findings.support_limited)} packages"
        + (f"; data: {findings.support_data.describe()}" if findings.support_data else ""),
        f"not covered: {findings.not_covered}",
    ]
    for fix in sorted(findings.os_fixes, key=lambda f: (-len(f.cves), f.package)):
        cves = ", ".join(fix.cves) if fix.changelog_read else "CVE IDs unknown (no changelog)"
        lines.append(
            f"  {fix.package} {fix.installed} -> {fix.fixed} ({fix.suite}): {cves or 'no CVE named'}"
        )
    for go in findings.go:
        called = "called" if go.called else "in the module"
        lines.append(
            f"  {go.binary}: {go.id} {go.module} {go.installed} -> {go.fixed or 'no fix'} ({called})"
        )
    for limit in findings.support:
        lines.append(
            f"  security support {limit.kind}: {limit.package} ({limit.source}) {limit.note}".rstrip()
        )
    lines += [f"note: {note}" for note in findings.notes]
    return "\n".join(lines)
