"""results/history.jsonl: one line per full compare run, and the trend chart drawn from it.

A line keeps what a trend needs and nothing that changes without the images changing: when, at which
revision, on which base set and base digests, and per image its size, compressed size, package counts,
first answer, memory and check verdicts. Lines are only ever appended; a line that does not read is
named by its number, never silently skipped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pydantic

from imagelab.errors import ConfigError
from imagelab.report.model import Run, Verdict


@dataclass
class ImagePoint:
    size: int | None = None
    compressed_size: int | None = None
    os_packages: int | None = None
    language_packages: int | None = None
    first_answer_seconds: float | None = None
    memory_bytes: int | None = None
    smoke: Verdict | None = None
    structure: Verdict | None = None
    hardened: Verdict | None = None


@dataclass
class Entry:
    time: str
    revision: str
    base_set: str
    bases: dict[str, str] = field(default_factory=dict)  # ref -> digest (or local id where none)
    images: dict[str, ImagePoint] = field(default_factory=dict)  # "app/variant" -> figures


_ENTRY = pydantic.TypeAdapter(Entry)


def entry(run: Run) -> Entry:
    bases: dict[str, str] = {}
    images = {}
    for image in run.images:
        for base in image.base_images:
            bases.setdefault(base.ref, base.digest or base.id)
        found = image.exposure
        images[f"{image.app}/{image.variant}"] = ImagePoint(
            size=image.size,
            compressed_size=image.compressed_size,
            os_packages=found.os_packages if found else None,
            language_packages=found.language_packages if found else None,
            first_answer_seconds=image.first_answer_seconds,
            memory_bytes=image.memory_bytes,
            smoke=image.smoke,
            structure=image.structure,
            hardened=image.hardened,
        )
    return Entry(run.generated, run.revision, run.base_set, bases, images)


def append(run: Run, path: Path) -> None:
    """Add the run as one line at the end of the history file (created when missing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(_ENTRY.dump_python(entry(run), mode="json"), separators=(",", ":"))
    with path.open("a") as history:
        history.write(line + "\n")


def read(path: Path) -> list[Entry]:
    if not path.is_file():
        raise ConfigError(f"{path} does not exist", hint="every full `nox -s compare` appends to it")
    entries = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entries.append(_ENTRY.validate_json(line))
        except pydantic.ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise ConfigError(
                f"{path}: line {number} is not a history entry ({where}: {first['msg']})",
                hint="the file is append-only JSON lines; remove or repair that line",
            ) from exc
    return entries


def trend(entries: list[Entry], path: Path, last: int = 20) -> bool:
    """Draw size per variant over the last `last` runs, one panel per app; False when nothing to draw."""
    window = entries[-last:]
    apps = sorted({key.split("/")[0] for e in window for key, p in e.images.items() if p.size})
    if not apps:
        return False
    import matplotlib

    matplotlib.use("Agg")  # no display: write files only
    import matplotlib.pyplot as plt

    sets = {e.base_set for e in window}
    fig, axes = plt.subplots(len(apps), 1, figsize=(9, 1.6 + 2.2 * len(apps)), squeeze=False, sharex=True)
    for ax, app in zip(axes[:, 0], apps, strict=True):
        series: dict[str, tuple[list[int], list[float]]] = {}
        for x, run in enumerate(window):
            for key, point in run.images.items():
                if key.split("/")[0] == app and point.size:
                    variant = key.split("/", 1)[1]
                    label = variant if len(sets) == 1 else f"{variant} ({run.base_set})"
                    xs, ys = series.setdefault(label, ([], []))
                    xs.append(x)
                    ys.append(point.size / 1024**2)
        for label, (xs, ys) in series.items():
            ax.plot(xs, ys, marker="o", markersize=3, linewidth=1, label=label)
        ax.set_yscale("log")
        ax.set_title(app, loc="left", fontsize=10)
        ax.set_ylabel("MiB", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=6, loc="center left", bbox_to_anchor=(1.0, 0.5))
    ticks = [f"{e.time[5:16].replace('T', ' ')}\n{e.revision[:7]}" for e in window]
    axes[-1, 0].set_xticks(range(len(window)), ticks, rotation=60, fontsize=6)
    fig.suptitle(f"imagelab: image size over the last {len(window)} recorded runs", fontsize=11)
    fig.tight_layout()
    fig.savefig(
        path, format=path.suffix.lstrip("."), metadata={"Date": None} if path.suffix == ".svg" else {}
    )
    plt.close(fig)
    return True
