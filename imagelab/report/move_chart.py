"""The bump chart (of report/move_diff.py's Bump): per app, each variant's size before and after, split into base layers and own layers."""

from __future__ import annotations

from pathlib import Path

from imagelab.report.move_diff import Bump, ImageBump
from imagelab.report.units import MiB

BASE_COLOUR, OWN_COLOUR, UNKNOWN_COLOUR = "#9ecae9", "#4c78a8", "#bbbbbb"


def _parts(image: ImageBump, side: str) -> tuple[float, float, float]:
    """(base MiB, own MiB, unsplit MiB) of one side; unsplit when the measurement has no base layers."""
    base, own = getattr(image.base_bytes, side), getattr(image.own_bytes, side)
    if base is not None and own is not None:
        return base / MiB, own / MiB, 0.0
    size = getattr(image.metric("size"), side) or 0
    return 0.0, 0.0, size / MiB


def sizes(bump: Bump, path: Path) -> bool:
    """Write the chart (SVG or PNG); False, writing nothing, when no image has a size on both sides."""
    groups: dict[str, list[ImageBump]] = {}
    for image in bump.images:
        size = image.metric("size")
        if size is not None and size.old and size.new:
            groups.setdefault(image.app, []).append(image)
    if not groups:
        return False
    import matplotlib

    matplotlib.use("Agg")  # no display: write files only
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(groups), 1, figsize=(8, 1.4 + 2.0 * len(groups)), squeeze=False)
    for ax, (app, images) in zip(axes[:, 0], groups.items(), strict=True):
        labels, rows = [], []
        for image in images:
            for side, name in (("old", bump.old_set), ("new", bump.new_set)):
                labels.append(f"{image.variant} ({name})")
                rows.append(_parts(image, side))
        positions = range(len(rows))
        base = [r[0] for r in rows]
        own = [r[1] for r in rows]
        ax.barh(positions, base, color=BASE_COLOUR, label="base image's layers")
        ax.barh(positions, own, left=base, color=OWN_COLOUR, label="own layers")
        if any(r[2] for r in rows):  # measured before base layers were recorded
            ax.barh(positions, [r[2] for r in rows], color=UNKNOWN_COLOUR, label="not split")
        for y, (b, o, u) in zip(positions, rows, strict=True):
            ax.text(b + o + u, y, f" {b + o + u:.0f} MiB", va="center", fontsize=7)
        ax.set_yticks(list(positions), labels, fontsize=7)
        ax.invert_yaxis()
        ax.set_title(app, loc="left", fontsize=10)
        ax.tick_params(axis="x", labelsize=8)
        ax.margins(x=0.15)
    axes[0, 0].legend(fontsize=7, loc="lower right")
    axes[-1, 0].set_xlabel("MiB of layer files")
    fig.suptitle(f"imagelab bump: {bump.old_set} -> {bump.new_set}", fontsize=11)
    fig.tight_layout()
    fig.savefig(
        path, format=path.suffix.lstrip("."), metadata={"Date": None} if path.suffix == ".svg" else {}
    )
    plt.close(fig)
    return True
