"""One image's size, the five ways it is counted, side by side: the table under each app in compare.md.

- *files*: the bytes of the image's files, every layer unpacked (the report's *size*): the same on
  every engine, since it is read from the image itself.
- *pull (gzip)*: the compressed layers a registry sends; less than *files* by construction.
- `docker image inspect`'s Size, *docker images* and `docker system df -v`'s SIZE: the engine's own
  figures. On the classic store an image is its unpacked layers, and all three are *files*, to the byte
  (tests/test_sizes_reconciled.py). On the containerd store the engine keeps the compressed blobs in its
  content store beside the unpacked snapshots: inspect's Size counts the blobs (about *pull*), the two
  listings the blobs plus the snapshots' disk usage, in file-system blocks, so more than *files*
  (benchmarks/store_sizes.py; benchmarks/results.md has a run).
- SHARED and UNIQUE (`docker system df -v`): the bytes of layers other images on that engine use too,
  and the rest. A layer is stored once however many images use it; these two follow whatever else the
  engine holds at that moment.

The CLI prints sizes in decimal units (MB, 10^6 bytes); the report's other tables in MiB (2^20 bytes):
the same bytes read about 5 % larger in MB. This table prints the engine's figures as the CLI does.
"""

from __future__ import annotations

from imagelab.report.model import ImageResult
from imagelab.report.units import human_size

#: go-units' decimal abbreviations, as the docker CLI prints sizes.
_DECIMAL = ("B", "kB", "MB", "GB", "TB", "PB")
NOT_MEASURED = "not measured"


def docker_size(size: int | None, precision: int = 3) -> str:
    """A size as the docker CLI prints it: decimal units, `precision` significant digits (`docker
    images` and df's SIZE use 3, df's SHARED and UNIQUE SIZE 4: go-units' HumanSizeWithPrecision).
    "-" when it was not measured, as the report's other figures read."""
    if size is None:
        return "-"
    value, unit = float(size), 0
    while value >= 1000 and unit < len(_DECIMAL) - 1:
        value, unit = value / 1000, unit + 1
    return f"{value:.{precision}g}{_DECIMAL[unit]}"


def _mib(size: int | None) -> str:
    return NOT_MEASURED if size is None else human_size(size)


def _cli(size: int | None, precision: int = 3) -> str:
    return NOT_MEASURED if size is None else docker_size(size, precision)


def row(image: ImageResult) -> list[str]:
    """variant, files, pull, the engine's Size, `docker images`, df's SIZE, SHARED, UNIQUE."""
    listed = image.engine_sizes
    return [
        image.variant,
        _mib(image.size),
        _mib(image.compressed_size),
        _cli(image.engine_size),
        _cli(listed.listed if listed else None),
        _cli(listed.disk if listed else None),
        _cli(listed.shared if listed else None, 4),
        _cli(listed.unique if listed else None, 4),
    ]


HEADINGS = [
    "variant",
    "files (unpacked)",
    "pull (gzip)",
    "engine Size",
    "docker images",
    "system df SIZE",
    "SHARED",
    "UNIQUE",
]


def stores(images: list[ImageResult]) -> list[str]:
    """The image stores the images were listed on, in order of first appearance."""
    return list(dict.fromkeys(i.engine_sizes.store for i in images if i.engine_sizes))


def markdown(images: list[ImageResult]) -> list[str]:
    """The app's sizes table, or nothing when no image of it was listed (a report from before)."""
    if not any(i.engine_sizes for i in images if i.built):
        return []
    shown = [i for i in images if i.built]
    lines = [
        (
            f"Sizes, counted five ways ({' and '.join(stores(images))} image store; MiB, then the docker "
            "CLI's decimal units):"
        ),
        "",
        "| " + " | ".join(HEADINGS) + " |",
        "|---|" + "---:|" * (len(HEADINGS) - 1),
    ]
    lines += ["| " + " | ".join(row(image)) + " |" for image in shown]
    return [*lines, ""]


EXPLAINED = (
    "Sizes, counted five ways: *files* the bytes of every layer unpacked (the *size* column); *pull* the "
    "gzip'd layers a registry sends; *engine Size* `docker image inspect`'s; *docker images* and *system "
    "df SIZE* what those commands print (decimal MB); *SHARED* / *UNIQUE* the bytes `docker system df -v` "
    "finds in other images of this engine too, and the rest, at the time of the run. On the classic "
    "store the engine's three figures are *files* in decimal units; on the containerd store *engine Size* "
    "is its compressed blobs (about *pull*) and the listings add the unpacked snapshots' disk usage "
    '(docs/lessons.md, "One image, five sizes").'
)
