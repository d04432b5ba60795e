"""The bump report (report/move_diff.py's Bump) in Markdown, fit for a pull request comment or a CI job summary: one summary table,
then a collapsed section per image with its metrics, packages by name, vulnerabilities fixed and
introduced, configuration and checks."""

from __future__ import annotations

from imagelab.report import units
from imagelab.report.diff import PackageChange, VulnChange
from imagelab.report.move_diff import Bump, ImageBump, Part


def render(bump: Bump, chart: str = "", trend: str = "") -> str:
    """`chart`, `trend`: file names beside the report to link ("" for none)."""
    lines = [f"# imagelab bump: {bump.old_set} -> {bump.new_set}", "", *_header(bump), ""]
    lines += _summary(bump)
    if chart:
        lines += ["", f"![size per image, base layers and own layers, before and after]({chart})"]
    if trend:
        lines += ["", f"Size over the recorded runs: [{trend}]({trend})."]
    lines += _vuln_totals(bump)
    lines += ["", "## Per image", ""]
    for image in bump.images:
        lines += _section(image)
    lines += [EXPLAINED]
    return "\n".join(lines) + "\n"


def _header(bump: Bump) -> list[str]:
    verdict = "**the gate fails**" if bump.failed else "the gate passes"
    failing = [i.name for i in bump.images if i.failed]
    lines = [
        f"From `{bump.old_source}` (revision `{bump.old_revision[:12]}`) to `{bump.new_source}` "
        f"(revision `{bump.new_revision[:12]}`), generated {bump.generated}: {len(bump.images)} images, "
        f"{verdict}" + (f" ({', '.join(failing)})." if failing else "."),
    ]
    if bump.only_old:
        lines += ["", f"Gone on the new side: {', '.join(bump.only_old)}."]
    if bump.only_new:
        lines += ["", f"New on the new side: {', '.join(bump.only_new)}."]
    moved = _bases_moved(bump)
    if moved:
        lines += ["", "Bases:", ""] + [f"- {line}" for line in moved]
    return lines


def _base(ref: str, digest: str) -> str:
    return f"`{ref}`" + (f" ({units.short_digest(digest)})" if digest else "")


def _bases_moved(bump: Bump) -> list[str]:
    """Each base the images start from, old -> new, once (the same Dockerfile: FROM lines pair up)."""
    seen: dict[str, str] = {}
    for image in bump.images:
        for old, new in zip(image.old_bases, image.new_bases, strict=False):
            seen.setdefault(_base(old.ref, old.digest), _base(new.ref, new.digest))
    return [f"{old} -> {new}" for old, new in seen.items()]


def _bytes(value: int | None) -> str:
    return units.human_size(value)


def delta(part: Part) -> str:
    change = part.change
    if change is None:
        return "-"
    return "±0" if change == 0 else ("+" if change > 0 else "-") + units.human_size(abs(change))


def package_counts(image: ImageBump) -> str:
    how = [p.how for p in image.packages]
    return f"+{how.count('added')} -{how.count('removed')} ~{how.count('changed')}"


def gate_cell(image: ImageBump) -> str:
    failed = [f.what for f in image.findings if f.regression]
    accepted = [f.what for f in image.findings if f.accepted]
    if failed:
        return "**FAIL**: " + ", ".join(failed)
    return "accepted: " + ", ".join(accepted) if accepted else "pass"


def vulns_cell(image: ImageBump) -> str:
    """CVEs fixed / introduced by the move, then Go vulnerabilities where any moved; "-" when not judged."""
    if not image.old_vuln_data or not image.new_vuln_data:
        return "-"
    cell = f"-{len(image.vulns('fixed'))} +{len(image.vulns('introduced'))}"
    go_fixed, go_new = image.vulns("fixed", go=True), image.vulns("introduced", go=True)
    return cell + (f" (Go -{len(go_fixed)} +{len(go_new)})" if go_fixed or go_new else "")


def _vuln_totals(bump: Bump) -> list[str]:
    """One sentence over all images: distinct CVE IDs the move fixed and introduced, base and own."""
    if not any(i.old_vuln_data and i.new_vuln_data for i in bump.images):
        return []
    parts = []
    for how, verb in (("fixed", "fixes"), ("introduced", "introduces")):
        ids = {v.id for i in bump.images for v in i.vulns(how)}
        base = {v.id for i in bump.images for v in i.vulns(how, origin="base")}
        own = {v.id for i in bump.images for v in i.vulns(how, origin="own")}
        go = {v.id for i in bump.images for v in i.vulns(how, go=True)}
        parts.append(
            f"{verb} {len(ids)} distinct fixable CVEs ({len(base)} in base image layers, {len(own)} in "
            f"the images' own) and {len(go)} Go vulnerabilities"
        )
    return ["", f"Known vulnerabilities: the move {parts[0]}; it {parts[1]}."]


def _summary(bump: Bump) -> list[str]:
    lines = [
        (
            "| image | size | change | in base layers | in own layers | packages +/-/~ | CVEs fixed/new "
            "| config | checks | gate |"
        ),
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for image in bump.images:
        size = image.size
        checks = ", ".join(f"{c.check} {c.old}->{c.new}" for c in image.checks) or "same"
        lines.append(
            f"| {image.name} | {size.shown_old} -> {size.shown_new} | {size.change or '±0'} "
            f"| {delta(image.base_bytes)} | {delta(image.own_bytes)} | {package_counts(image)} "
            f"| {vulns_cell(image)} | {len(image.config)} | {checks} | {gate_cell(image)} |"
        )
    return lines


def _section(image: ImageBump) -> list[str]:
    size = image.size
    own = image.packages_from("own")
    base = image.packages_from("base")
    summary = (
        f"<b>{image.name}</b>: size {size.change or '±0'}, base layers {delta(image.base_bytes)}, "
        f"own layers {delta(image.own_bytes)}; {len(image.packages)} package changes "
        f"({len(base)} in base layers, {len(own)} in own); gate: {gate_cell(image).replace('**', '')}"
    )
    lines = ["<details>", f"<summary>{summary}</summary>", ""]
    lines += [f"`{image.old_tag}` -> `{image.new_tag}`", ""]
    lines += ["| metric | old | new | change |", "|---|---:|---:|---:|"]
    lines += [f"| {m.name} | {m.shown_old} | {m.shown_new} | {m.change} |" for m in image.metrics]
    where = (
        f"Where the size change came from: the base image's layers {_bytes(image.base_bytes.old)} -> "
        f"{_bytes(image.base_bytes.new)} ({delta(image.base_bytes)}), the image's own layers "
        f"{_bytes(image.own_bytes.old)} -> {_bytes(image.own_bytes.new)} ({delta(image.own_bytes)})."
    )
    lines += ["", where, ""]
    for title, changes in (
        ("Packages in the image's own layers", own),
        ("Packages in the base image's layers", base),
        ("Packages (where from: not recorded)", image.packages_from("")),
    ):
        if changes:
            lines += _packages(title, changes)
    if not image.packages:
        lines += ["Packages: no change.", ""]
    lines += _vulnerabilities(image)
    if image.config:
        lines += ["Configuration:", ""]
        lines += [f"- {c.field}: `{c.old}` -> `{c.new}`" for c in image.config]
        lines += [""]
    if image.checks:
        lines += ["Checks:", ""] + [f"- {c.check}: {c.old} -> {c.new}" for c in image.checks] + [""]
    findings = [f for f in image.findings if f.regression or f.accepted or f.note]
    if findings:
        lines += ["Gate:", ""]
        for found in findings:
            verdict = "REGRESSION" if found.regression else f"accepted: {found.accepted}"
            note = f" ({found.note})" if found.note else ""
            lines.append(f"- {found.what} {found.old} -> {found.new} ({found.change}): {verdict}{note}")
        lines += [""]
    return [*lines, "</details>", ""]


def _packages(title: str, changes: list[PackageChange]) -> list[str]:
    """One paragraph per kind of change: names and versions, compact enough for hundreds of packages."""
    lines = [f"{title} ({len(changes)}):", ""]
    for how in ("added", "removed", "changed"):
        found = [c for c in changes if c.how == how]
        if found:
            shown = ", ".join(_package(c) for c in found)
            lines.append(f"- {how} ({len(found)}): {shown}")
    return [*lines, ""]


def _vulnerabilities(image: ImageBump) -> list[str]:
    """The CVEs and Go vulnerabilities the move fixed and introduced, each part base or own."""
    if not image.old_vuln_data or not image.new_vuln_data:
        return []
    lines = [
        f"Known vulnerabilities (old side's data: {image.old_vuln_data}; new side's: {image.new_vuln_data}):",
        "",
    ]
    for go, kind in ((False, "fixable CVEs"), (True, "Go vulnerabilities")):
        for how in ("fixed", "introduced"):
            found = image.vulns(how, go=go)
            if not found:
                continue
            where = ", ".join(
                f"{len(image.vulns(how, go, origin))} {label}"
                for origin, label in (("base", "in base layers"), ("own", "in own layers"), ("", "unknown"))
                if image.vulns(how, go, origin)
            )
            lines.append(f"- {kind} {how} by the move ({len(found)}: {where}): {_vuln_list(found)}")
    if len(lines) == 2:
        lines.append("- none fixed, none introduced")
    return [*lines, ""]


def _vuln_list(changes: list[VulnChange], shown: int = 60) -> str:
    named = [f"{v.id} ({', '.join(v.packages)}{', ' + v.origin if v.origin else ''})" for v in changes]
    more = f", and {len(named) - shown} more" if len(named) > shown else ""
    return ", ".join(named[:shown]) + more


def _package(change: PackageChange) -> str:
    kind = "" if change.kind == "deb" else f"{change.kind}:"
    if change.how == "added":
        return f"{kind}{change.name} {change.new}"
    if change.how == "removed":
        return f"{kind}{change.name} {change.old}"
    return f"{kind}{change.name} {change.old} -> {change.new}"


#: How to read the report, once at its end.
EXPLAINED = (
    "Where from: an image's base layers are its leading layers equal (by diff_id) to the layers of the "
    "image its final stage starts FROM; the rest are its own. A package is in the base's layers when "
    "the base image has it at that version. Sizes are the bytes of the layers' files; *packages +/-/~* "
    "counts packages added, removed and changed in version (OS and language). *CVEs fixed/new*: CVE IDs "
    "with a Debian fix waiting that the move removed and brought (a CVE is fixed when the new image no "
    "longer has a fix waiting for it), then Go vulnerabilities by GO- ID; each side judged on its own "
    "run's data, whose dates each image's section gives. The gate's limits, and "
    "how to accept a reviewed change: `results/accepted.toml`."
)
