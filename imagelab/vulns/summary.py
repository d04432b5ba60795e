"""Findings as a few plain lines: a line a figure, each with its data's date, then the details."""

from __future__ import annotations

from imagelab.vulns.findings import Findings


def count(value: int | None, unit: str = "") -> str:
    """A figure as a report shows it: "no data" when there was nothing to judge with, never 0 (and then
    no unit: "no data packages" reads as a count)."""
    return "no data" if value is None else f"{value} {unit}".rstrip()


def summary(findings: Findings) -> str:
    lines = [
        f"Debian packages: {findings.packages} ({findings.release or 'no Debian release'})",
        f"fixable OS CVEs: {count(findings.fixable_cves)}"
        + ("" if findings.fixable_packages is None else f" in {findings.fixable_packages} packages")
        + (f" ({_by_kind(findings)})" if findings.fixable_cves else "")
        + (f"; data: {', '.join(d.describe() for d in findings.os_data)}" if findings.os_data else ""),
        f"Go vulnerabilities: {count(findings.go_vulns)} in {len(findings.go_binaries)} Go programs"
        + (f"; data: {findings.go_data.describe()}" if findings.go_data else ""),
        f"security support limited or ending: {count(findings.support_limited, 'packages')}"
        + (f"; data: {findings.support_data.describe()}" if findings.support_data else ""),
        f"not covered: {findings.not_covered}",
    ]
    for fix in sorted(findings.os_fixes, key=lambda f: (-len(f.cves), f.package)):
        cves = ", ".join(fix.cves) if fix.changelog_read else "CVE IDs unknown (no changelog)"
        lines.append(
            f"  {fix.package} {fix.installed} -> {fix.fixed} ({fix.kind} fix, {fix.suite}): "
            f"{cves or 'no CVE named'}"
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


def _by_kind(findings: Findings) -> str:
    """Which fixes name the CVEs: "3 by security fixes, 1 by point-release fixes"."""
    kinds = findings.fixable_cves_by_kind()
    return f"{kinds['security']} by security fixes, {kinds['point-release']} by point-release fixes"


def line(findings: Findings, base: Findings | None = None) -> str:
    """One line for an image: its counts, how many of them its base image's layers already hold (`base`:
    the findings of those layers; None for an image FROM scratch), the data's dates, what is not covered."""
    in_base = {fix.key for fix in base.os_fixes} if base else set()
    go_in_base = {finding.key for finding in base.go} if base else set()
    base_cves = {cve for fix in findings.os_fixes if fix.key in in_base for cve in fix.cves}
    base_go = {finding.id for finding in findings.go if finding.key in go_in_base}
    cves, go = findings.fixable_cves, findings.go_vulns
    text = f"fixable OS CVEs: {count(cves)}"
    if cves is not None:
        text += f" in {findings.fixable_packages} packages"
        text += f" ({len(base_cves)} in the base image's layers; {_by_kind(findings)})" if cves else ""
    text += f"; Go vulnerabilities: {count(go)} in {len(findings.go_binaries)} Go programs"
    text += f" ({len(base_go)} in the base image's layers)" if go else ""
    dates = [*findings.os_data, *([findings.go_data] if findings.go_data else [])]
    if dates:
        text += "; data: " + ", ".join(date.describe() for date in dates)
    return f"{text}; not covered: {findings.not_covered}"
