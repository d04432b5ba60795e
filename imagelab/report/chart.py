"""The size chart: a horizontal bar per variant, per app, on a log axis (MB and GB both read)."""

from __future__ import annotations

from pathlib import Path

from imagelab.report.model import Run
from imagelab.report.units import MiB, human_size


def sizes(run: Run, path: Path) -> bool:
    """Write the chart to `path` (SVG or PNG); False, writing nothing, when no image has a size to draw."""
    groups = {app: [i for i in images if i.size] for app, images in run.by_app().items()}
    groups = {app: images for app, images in groups.items() if images}
    if not groups:
        return False
    import matplotlib

    matplotlib.use("Agg")  # no display: write files only
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(groups), 1, figsize=(8, 1.2 + 1.6 * len(groups)), squeeze=False, sharex=True)
    for ax, (app, images) in zip(axes[:, 0], groups.items(), strict=True):
        bars = ax.barh([i.variant for i in images], [(i.size or 0) / MiB for i in images], color="#4c78a8")
        ax.invert_yaxis()  # naive on top, minimal at the bottom
        ax.set_xscale("log")
        ax.set_title(app, loc="left", fontsize=10)
        ax.bar_label(bars, labels=[human_size(i.size) for i in images], padding=3, fontsize=8)
        ax.tick_params(labelsize=8)
    axes[-1, 0].set_xlabel(f"image size, MiB (log scale) -- {run.base_set} base set")
    fig.suptitle("imagelab: image size per variant", fontsize=11)
    fig.tight_layout()
    # No date in the SVG: the committed chart changes only when the sizes do.
    fig.savefig(
        path, format=path.suffix.lstrip("."), metadata={"Date": None} if path.suffix == ".svg" else {}
    )
    plt.close(fig)
    return True
