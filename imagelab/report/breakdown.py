"""Where the bytes go, in the report: one compact table per app (Markdown), the largest layers of each
image with their Dockerfile lines, and a stacked bar chart per app (results/composition.svg).

The kinds and their precedence are inspect/composition.py's; each row adds up to the image's size.
"""

from __future__ import annotations

from pathlib import Path

from imagelab.inspect.composition import KINDS
from imagelab.report.model import ImageResult, LayerSize, Run
from imagelab.report.units import MiB, human_size

#: Short column names for the Markdown table, in KINDS order.
HEADINGS = {
    "app": "app",
    "dependencies": "deps",
    "runtime": "runtime",
    "os": "OS pkgs",
    "toolchain": "toolchain",
    "docs": "docs",
    "caches": "caches",
    "wasted": "wasted",
    "other": "other",
}
#: One colour per kind, the same in every chart: the app dark, what it drags along lighter.
COLOURS = {
    "app": "#1b4f72",
    "dependencies": "#2e86c1",
    "runtime": "#48c9b0",
    "os": "#aab7b8",
    "toolchain": "#e67e22",
    "docs": "#f4d03f",
    "caches": "#c0392b",
    "wasted": "#7d3c98",
    "other": "#d5d8dc",
}
EXPLAINED = (
    "Where the bytes go, in MiB: every byte of the image in one kind, so each row adds up to its size. "
    "deps: site-packages, node_modules, Go modules; runtime: the interpreter and standard library (Go: "
    "its toolchain); OS pkgs: Debian's packages and system files; toolchain: compilers, headers, static "
    "libraries; caches: pip, npm, Go build caches and apt lists; wasted: bytes of a layer that a later "
    "layer deletes or overwrites. `nox -s explain -- --app A --variant V` shows each layer."
)


def markdown(images: list[ImageResult]) -> list[str]:
    """The app's composition table and each image's three largest layers, as Markdown lines."""
    shown = [i for i in images if i.composition]
    if not shown:
        return []
    headings = ["variant", *(HEADINGS[kind] for kind in KINDS), "total"]
    lines = [
        "| " + " | ".join(headings) + " |",
        "|---|" + "---:|" * (len(headings) - 1),
    ]
    for image in shown:
        parts = image.composition
        cells = [_mib(parts.get(kind, 0)) for kind in KINDS]
        lines.append(f"| {image.variant} | " + " | ".join(cells) + f" | {_mib(sum(parts.values()))} |")
    lines += ["", "Largest layers:", ""]
    for image in shown:
        layers = "; ".join(
            f"{_line(layer)}`{_short(layer.instruction)}` {human_size(layer.size)}"
            for layer in image.largest_layers
        )
        lines.append(f"- **{image.variant}**: {layers}")
    return [*lines, ""]


def chart(run: Run, path: Path) -> bool:
    """Write the stacked bars to `path` (SVG or PNG); False, writing nothing, when nothing has a composition."""
    groups = {app: [i for i in images if i.composition] for app, images in run.by_app().items()}
    groups = {app: images for app, images in groups.items() if images}
    if not groups:
        return False
    import matplotlib

    matplotlib.use("Agg")  # no display: write files only
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(groups), 1, figsize=(9, 1.6 + 1.9 * len(groups)), squeeze=False)
    for ax, (app, images) in zip(axes[:, 0], groups.items(), strict=True):
        names = [i.variant for i in images]
        left = [0.0] * len(images)
        for kind, label in KINDS.items():
            widths = [i.composition.get(kind, 0) / MiB for i in images]
            ax.barh(names, widths, left=left, color=COLOURS[kind], label=label, height=0.7)
            left = [a + b for a, b in zip(left, widths, strict=True)]
        for y, image in enumerate(images):
            total = sum(image.composition.values())
            ax.text(left[y], y, f" {human_size(total)}", va="center", fontsize=8)
        ax.invert_yaxis()  # naive on top, minimal at the bottom
        ax.set_xlim(0, max(left) * 1.15)
        ax.set_title(app, loc="left", fontsize=10)
        ax.tick_params(labelsize=8)
        ax.set_xlabel("MiB", fontsize=8)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=8, frameon=False)
    fig.suptitle(f"imagelab: where the bytes go -- {run.base_set} base set", fontsize=11)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    # No date in the SVG: the committed chart changes only when the bytes do.
    fig.savefig(
        path, format=path.suffix.lstrip("."), metadata={"Date": None} if path.suffix == ".svg" else {}
    )
    plt.close(fig)
    return True


def _mib(size: int) -> str:
    if size == 0:
        return "0"
    if size < MiB // 20:
        return "<0.1"
    return f"{size / MiB:.1f}" if size < 10 * MiB else f"{size / MiB:.0f}"


def _line(layer: LayerSize) -> str:
    """Where the layer comes from: its Dockerfile line, or the FROM line of the base image it is in."""
    if not layer.line:
        return ""
    return (
        f"line {layer.line}: " if layer.origin == "dockerfile" else f"base image (FROM, line {layer.line}): "
    )


def _short(text: str, limit: int = 70) -> str:
    text = text.replace("`", "'")
    return text if len(text) <= limit else text[: limit - 3] + "..."
