"""The compare report in Markdown, fit for a README or a CI job summary."""

from __future__ import annotations

from imagelab.report import breakdown, columns, sizes, units
from imagelab.report.model import ImageResult, Run


def base_set_line(run: Run) -> str:
    return f"base set: {run.base_set} -- {run.base_set_note}"


def render(run: Run) -> str:
    lines = [f"# imagelab compare: {run.base_set} base set", "", *header(run), ""]
    for app, images in run.by_app().items():
        lines += [f"## {app}", "", *_table(images), ""]
        data = columns.vuln_data(images)
        lines += [data, ""] if data else []
        lines += _bases(images)
        lines += provenance_lines(images)
        lines += breakdown.markdown(images)
        lines += sizes.markdown(images)
        lines += _failures(images)
    lines += [columns.EXPLAINED, "", breakdown.EXPLAINED, ""]
    if any(i.engine_sizes for i in run.images):
        lines += [sizes.EXPLAINED, ""]
    return "\n".join(lines)


def header(run: Run) -> list[str]:
    """The base set, when and at which revision; a report that merges runs says so for its rows."""
    lines = [f"{base_set_line(run)}.", ""]
    revisions = sorted({(i.measured_at, i.revision) for i in run.images if i.revision})
    if len({rev for _, rev in revisions}) > 1:
        lines.append(
            f"Generated {run.generated} on {run.engine}, from runs at {len(revisions)} revisions: each "
            "app's section says when its rows were measured."
        )
    else:
        lines.append(f"Generated {run.generated} at revision `{run.revision[:12]}` on {run.engine}.")
    return lines


def _table(images: list[ImageResult]) -> list[str]:
    headings = [h for h, _ in columns.COLUMNS]
    rule = ["---" if h in columns.LEFT_ALIGNED else "---:" for h in headings]
    return [
        "| " + " | ".join(headings) + " |",
        "|" + "|".join(rule) + "|",
        *("| " + " | ".join(columns.cells(image)) + " |" for image in images),
    ]


def _bases(images: list[ImageResult]) -> list[str]:
    """Each base the app's images start from, once, with its digest in short form."""
    seen: dict[str, tuple[str, str]] = {}
    for image in images:
        for base in image.base_images:
            # A plain reference the set replaced: as the Dockerfile writes it, then what it was built on.
            plain = base.written and "$" not in base.written and base.written != base.ref
            seen.setdefault(base.ref, (f"`{base.written}` as " if plain else "", base.digest))
    if not seen:
        return []
    named = [
        f"{written}`{ref}`" + (f" ({units.short_digest(d)})" if d else "")
        for ref, (written, d) in seen.items()
    ]
    stamp = sorted({(i.measured_at, i.revision[:12]) for i in images if i.revision})
    when = f" Measured {stamp[-1][0]} at `{stamp[-1][1]}`." if stamp else ""
    return [f"Bases: {', '.join(named)}.{when}", ""]


def unresolved_materials(image: ImageResult) -> list[str]:
    """The images the build's provenance says it pulled by a digest the harness did not resolve: where
    the two disagree. (A base the harness resolved that provenance lacks is no disagreement: a stage the
    target does not need, such as a debug stage's, is never pulled.)"""
    if image.provenance is None:
        return []
    resolved = {b.digest for b in image.base_images if b.digest}
    return [f"{p.ref}@{units.short_digest(p.digest)}" for p in image.provenance if p.digest not in resolved]


def provenance_lines(images: list[ImageResult]) -> list[str]:
    """Per image, the base digests its provenance attestation records next to the ones the harness
    resolved: BuildKit's word and ours must agree."""
    if all(image.provenance is None for image in images):
        return ["Provenance: no provenance on this store/engine (the classic image store keeps none).", ""]
    lines = ["Provenance (base digests BuildKit recorded / the harness resolved):", ""]
    for image in images:
        if image.provenance is None:
            lines.append(f"- **{image.variant}**: no provenance on this store/engine")
            continue
        recorded = ", ".join(units.short_digest(p.digest) for p in image.provenance) or "none"
        resolved = ", ".join(units.short_digest(b.digest) for b in image.base_images if b.digest) or "none"
        unresolved = unresolved_materials(image)
        verdict = f"DISAGREE: pulled, not resolved: {', '.join(unresolved)}" if unresolved else "agree"
        lines.append(f"- **{image.variant}**: {recorded} / {resolved}: {verdict}")
    return [*lines, ""]


def _failures(images: list[ImageResult]) -> list[str]:
    failed = [i for i in images if i.failures]
    if not failed:
        return []
    lines = ["Failures:", ""]
    for image in failed:
        for failure in image.failures:
            lines.append(
                f"- **{image.variant}** {failure.headline()}"
                + (f" -- {failure.hint}" if failure.hint else "")
            )
            if failure.log:
                lines += ["", "  <details><summary>last log lines</summary>", "", "  ```"]
                lines += [f"  {line}" for line in failure.log]
                lines += ["  ```", "", "  </details>"]
    return [*lines, ""]
