"""The reproducibility report: each image built twice from no cache, its two digests, the verdict, and
when they differ the files that do and why. Rendered as results/repro.md, with results/repro.json beside
it for whoever wants every difference."""

from __future__ import annotations

import collections
import json
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from imagelab.inspect.layerdiff import Difference

REPRODUCIBLE, DIFFERS, FAILED = "reproducible", "differs", "not built"
#: How many differing files the Markdown names per image; the JSON has them all.
SHOWN = 3


@dataclass
class ImageRepro:
    """One image, built twice."""

    app: str
    variant: str
    verdict: str  # REPRODUCIBLE, DIFFERS or FAILED
    digests: tuple[str, str] = ("", "")
    differences: list[Difference] = field(default_factory=list)
    differing_layers: list[int] = field(default_factory=list)
    layers: int = 0
    error: str = ""  # why it could not be built twice

    @property
    def files(self) -> list[Difference]:
        """The differences that are files (not the image config)."""
        return [d for d in self.differences if d.layer >= 0]

    def reasons(self) -> list[tuple[str, int]]:
        """Why its files differ, most files first: ("bytecode: ...", 120)."""
        counted = collections.Counter(d.why or "not told by its path or bytes" for d in self.files)
        return counted.most_common()


@dataclass
class ReproRun:
    """One `repro` run: where and how the images were built, and each image's verdict."""

    revision: str
    source_date_epoch: int
    source_date_origin: str
    engine: str  # the engine and builder that built both rounds
    export: str  # the output the builds wrote
    started: str  # ISO time, UTC
    seconds: float = 0.0
    load_before: str = ""  # `uptime`, as printed
    load_after: str = ""
    images: list[ImageRepro] = field(default_factory=list)
    #: Rows kept from an earlier run of other apps, each run said in one line (when, how long, load).
    earlier: list[str] = field(default_factory=list)

    @property
    def reproducible(self) -> list[ImageRepro]:
        return [i for i in self.images if i.verdict == REPRODUCIBLE]


def _short(digest: str) -> str:
    return digest.removeprefix("sha256:")[:12] if digest else "-"


def _date(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def summary(run: ReproRun) -> str:
    """One line: how many of the images are bit-for-bit reproducible."""
    built = [i for i in run.images if i.verdict != FAILED]
    line = f"{len(run.reproducible)} of {len(run.images)} images are bit-for-bit reproducible"
    if len(built) != len(run.images):
        line += f" ({len(run.images) - len(built)} not built twice)"
    return line


def _files_cell(image: ImageRepro) -> str:
    if image.verdict == FAILED:
        return image.error
    if image.verdict == REPRODUCIBLE:
        return ""
    shown = ", ".join(f"`{d.path}`" for d in image.files[:SHOWN])
    more = f" and {len(image.files) - SHOWN} more" if len(image.files) > SHOWN else ""
    config = [d.path for d in image.differences if d.layer < 0]
    parts = [f"{len(image.files)} files in {len(image.differing_layers)} layers: {shown}{more}"]
    if config:
        parts.append(f"config: {', '.join(config)}")
    return "; ".join(parts)


def _why_cell(image: ImageRepro) -> str:
    return "; ".join(f"{reason} ({count})" for reason, count in image.reasons())


def markdown(run: ReproRun) -> str:
    lines = [
        "# Reproducible builds",
        "",
        (
            f"{summary(run)}: each built twice from no cache (`--no-cache`) by `nox -s repro`, and the "
            "two results compared byte for byte."
        ),
        "",
        (
            f"- revision `{run.revision[:12]}`, SOURCE_DATE_EPOCH={run.source_date_epoch} "
            f"({_date(run.source_date_epoch)}, {run.source_date_origin})"
        ),
        f"- built on {run.engine}",
        f"- exported as {run.export}",
        f"- started {run.started}, took {run.seconds:.0f} s ({run.seconds / 60:.1f} min)",
        f"- machine load before: `{run.load_before}`",
        f"- machine load after: `{run.load_after}`",
        *(f"- {line}" for line in run.earlier),
        "",
        "| app | variant | layers | digest, build 1 | digest, build 2 | verdict | differing files | why |",
        "|---|---|---:|---|---|---|---|---|",
    ]
    for image in run.images:
        lines.append(
            f"| {image.app} | {image.variant} | {image.layers or '-'} | `{_short(image.digests[0])}` "
            f"| `{_short(image.digests[1])}` | {image.verdict} | {_files_cell(image)} | {_why_cell(image)} |"
        )
    lines += [
        "",
        (
            "Digests are the OCI manifest digests of the archives (layers uncompressed); repro.json has "
            "every differing file and the full digests."
        ),
        "",
    ]
    return "\n".join(lines)


def _describe(run: dict) -> str:
    apps = ", ".join(dict.fromkeys(i["app"] for i in run["images"]))
    return (
        f"rows of {apps} from an earlier run at `{run['revision'][:12]}`: started {run['started']}, took "
        f"{run['seconds']:.0f} s, load before `{run['load_before']}`, after `{run['load_after']}`"
    )


def with_earlier(run: ReproRun, folder: Path) -> ReproRun:
    """The run, plus the rows of the apps it did not build from the repro.json already in `folder`: a
    run of one app then keeps the others', each run's time and load said. Unreadable: not merged."""
    try:
        earlier = json.loads((folder / "repro.json").read_text())
        built = {i.app for i in run.images}
        kept = [i for i in earlier["images"] if i["app"] not in built]
        rows = [
            ImageRepro(
                **{k: v for k, v in i.items() if k not in ("differences", "digests")},
                digests=(i["digests"][0], i["digests"][1]),
                differences=[Difference(**d) for d in i["differences"]],
            )
            for i in kept
        ]
        # Its own notes first: they say where the rows it kept from a run before it come from.
        notes = [*earlier.get("earlier", []), _describe({**earlier, "images": kept})]
    except (OSError, ValueError, KeyError, TypeError):
        return run
    return replace(run, images=[*rows, *run.images], earlier=notes) if rows else run


def to_json(run: ReproRun) -> dict:
    found = asdict(run)
    found["summary"] = summary(run)
    return found


def write(run: ReproRun, folder: Path) -> tuple[Path, Path]:
    """results/repro.md and results/repro.json, each written whole (a temporary file, then renamed)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in (
        ("repro.md", markdown(run)),
        ("repro.json", json.dumps(to_json(run), indent=2) + "\n"),
    ):
        path = folder / name
        partial = path.with_name(path.name + ".partial")
        partial.write_text(text)
        partial.replace(path)
        written.append(path)
    return written[0], written[1]
