"""Renderers of a compare report: the terminal tables, Markdown, JSON and the size chart.

Each takes the report as the JSON-able dict that `compare.json` holds (schema in README.md), so a
baseline file and a fresh run render the same way.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from rich.table import Table

MiB = 1024 * 1024


def human_size(size: float | None) -> str:
    if size is None:
        return "-"
    if size >= 1000 * MiB:
        return f"{size / 1024 / MiB:.2f} GiB"
    if size >= 10 * MiB:
        return f"{size / MiB:.0f} MiB"
    return f"{size / MiB:.1f} MiB"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f} %"


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"


def _check(value: str | None) -> str:
    return {"pass": "pass", "fail": "FAIL", None: "-"}.get(value, value or "-")


def _flag(value: bool | None) -> str:
    return "-" if value is None else ("yes" if value else "no")


def _packages(row: dict) -> str:
    exposure = row.get("exposure")
    if not exposure:
        return "-"
    return f"{exposure['os_packages']} / {exposure['language_packages']}"


def _user(row: dict) -> str:
    exposure = row.get("exposure")
    if not exposure:
        return "-"
    name = exposure["user"] or "root"
    return f"{name} (root)" if exposure["root"] and name != "root" else name


#: (heading, how to render one image's row). Shared by the terminal and Markdown tables.
COLUMNS: list[tuple[str, Callable[[dict], str]]] = [
    ("variant", lambda r: r["variant"] if r["built"] else f"{r['variant']} (build FAILED)"),
    ("size", lambda r: human_size(r.get("size"))),
    ("pull (gzip)", lambda r: human_size(r.get("compressed_size"))),
    ("layers", lambda r: str(r.get("layers", "-"))),
    ("of naive", lambda r: _percent(r.get("share_of_naive"))),
    ("vs closure", lambda r: _ratio(r.get("closure_ratio"))),
    ("wasted", lambda r: human_size(r.get("wasted_bytes"))),
    ("build", lambda r: _seconds(r.get("build_seconds"))),
    ("rebuild", lambda r: _seconds(r.get("rebuild_seconds"))),
    ("1st answer", lambda r: _seconds(r.get("first_answer_seconds"))),
    ("memory", lambda r: human_size(r.get("memory_bytes"))),
    ("pkgs os/lang", _packages),
    ("shell", lambda r: _flag((r.get("exposure") or {}).get("shell"))),
    ("user", _user),
    ("smoke", lambda r: _check(r.get("smoke"))),
    ("structure", lambda r: _check(r.get("structure"))),
    ("hardened", lambda r: _check(r.get("hardened"))),
]


def by_app(report: dict) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {}
    for row in report["images"]:
        grouped.setdefault(row["app"], []).append(row)
    return grouped


def base_set_line(report: dict) -> str:
    return f"base set: {report['base_set']} -- {report['base_set_note']}"


def terminal_tables(report: dict) -> list[Table]:
    tables = []
    for app, rows in by_app(report).items():
        table = Table(title=f"{app} ({report['base_set']} base set)", title_justify="left")
        for heading, _ in COLUMNS:
            table.add_column(heading, justify="left" if heading in ("variant", "user") else "right")
        for row in rows:
            table.add_row(*(render(row) for _, render in COLUMNS), style=None if row_ok(row) else "red")
        tables.append(table)
    return tables


def row_ok(row: dict) -> bool:
    return row["built"] and all(
        row.get(k) in ("pass", "n/a", None) for k in ("smoke", "structure", "hardened")
    )


def markdown(report: dict) -> str:
    lines = [
        f"# imagelab compare: {report['base_set']} base set",
        "",
        f"{base_set_line(report)}.",
        "",
        f"Generated {report['generated']} at revision `{report['revision'][:12]}` on {report['engine']}.",
        "",
    ]
    for app, rows in by_app(report).items():
        lines += [
            f"## {app}",
            "",
            "| " + " | ".join(h for h, _ in COLUMNS) + " |",
            "|" + "|".join("---" if h in ("variant", "user") else "---:" for h, _ in COLUMNS) + "|",
        ]
        lines += ["| " + " | ".join(render(row) for _, render in COLUMNS) + " |" for row in rows]
        lines.append("")
        failures = [f"- {r['variant']}: {r['error']}" for r in rows if r.get("error")]
        if failures:
            lines += ["Failures:", "", *failures, ""]
    lines += [
        (
            "Columns: *size* on disk; *pull (gzip)* what a registry transfers; *of naive* size as a share of the "
            "naive image; *vs closure* size over the runtime closure (program, shared libraries, runtime, app and "
            "dependencies); *wasted* bytes later layers delete or overwrite; *build* and *rebuild* (after a "
            "one-line source change) in seconds within one parallel bake; *1st answer* from `docker run` to the "
            "first good probe; *pkgs* OS packages / language packages; *user* the user the image runs as."
        ),
        "",
    ]
    return "\n".join(lines)


def to_json(report: dict) -> str:
    return json.dumps(report, indent=2, sort_keys=False) + "\n"


def chart(report: dict, path: Path) -> None:
    """A horizontal bar chart of size per variant, per app, on a log axis (megabytes and gigabytes both read)."""
    import matplotlib

    matplotlib.use("Agg")  # no display: write files only
    import matplotlib.pyplot as plt

    groups = by_app(report)
    fig, axes = plt.subplots(len(groups), 1, figsize=(8, 1.2 + 1.6 * len(groups)), squeeze=False, sharex=True)
    for ax, (app, rows) in zip(axes[:, 0], groups.items(), strict=True):
        shown = [r for r in rows if r.get("size")]
        names = [r["variant"] for r in shown]
        sizes = [r["size"] / MiB for r in shown]
        bars = ax.barh(names, sizes, color="#4c78a8")
        ax.invert_yaxis()  # naive on top, minimal at the bottom
        ax.set_xscale("log")
        ax.set_title(app, loc="left", fontsize=10)
        ax.bar_label(bars, labels=[human_size(r["size"]) for r in shown], padding=3, fontsize=8)
        ax.tick_params(labelsize=8)
    axes[-1, 0].set_xlabel(f"image size, MiB (log scale) -- {report['base_set']} base set")
    fig.suptitle("imagelab: image size per variant", fontsize=11)
    fig.tight_layout()
    fig.savefig(
        path, format=path.suffix.lstrip("."), metadata={"Date": None} if path.suffix == ".svg" else {}
    )
    plt.close(fig)


def summary_lines(report: dict) -> list[str]:
    """Plain lines for logs: one per image."""
    return [
        f"{r['app']}/{r['variant']}: " + ", ".join(f"{h}={render(r)}" for h, render in COLUMNS[1:])
        for r in report["images"]
    ]


def write_all(report: dict, folder: Path) -> list[Path]:
    """Write compare.md, compare.json and sizes.svg; all or none replace the previous ones."""
    folder.mkdir(parents=True, exist_ok=True)
    staged = {folder / "compare.md": markdown(report), folder / "compare.json": to_json(report)}
    temporary = []
    for path, text in staged.items():
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text)
        temporary.append((tmp, path))
    svg = folder / "sizes.svg"
    tmp_svg = svg.with_name(".sizes.tmp.svg")
    chart(report, tmp_svg)
    temporary.append((tmp_svg, svg))
    for tmp, path in temporary:
        tmp.replace(path)
    return [path for _, path in temporary]


def changes_table(changes: list) -> Table:
    """The baseline gate's findings: old, new and change for what moved; regressions first."""
    table = Table(title="against the baseline", title_justify="left")
    for heading in ("image", "what", "old", "new", "change", "verdict"):
        table.add_column(heading)
    for change in sorted(changes, key=lambda c: not c.regression):
        table.add_row(
            change.image,
            change.what,
            change.old,
            change.new,
            change.change,
            "REGRESSION" if change.regression else "within threshold",
            style="red" if change.regression else None,
        )
    return table
