"""The columns of the compare table, shared by the terminal and the Markdown renderers."""

from __future__ import annotations

from collections.abc import Callable

from imagelab.report import units
from imagelab.report.model import ImageResult


def _packages(image: ImageResult) -> str:
    found = image.exposure
    return "-" if found is None else f"{found.os_packages} / {found.language_packages}"


def _user(image: ImageResult) -> str:
    found = image.exposure
    if found is None:
        return "-"
    name = found.user or "root"
    return f"{name} (root)" if found.root and name != "root" else name


def _variant(image: ImageResult) -> str:
    return image.variant if image.built else f"{image.variant} (build FAILED)"


#: (heading, how one image reads in that column).
COLUMNS: list[tuple[str, Callable[[ImageResult], str]]] = [
    ("variant", _variant),
    ("size", lambda i: units.human_size(i.size)),
    ("pull (gzip)", lambda i: units.human_size(i.compressed_size)),
    ("layers", lambda i: "-" if i.layers is None else str(i.layers)),
    ("of naive", lambda i: units.percent(i.share_of_naive)),
    ("vs closure", lambda i: units.ratio(i.closure_ratio)),
    ("wasted", lambda i: units.human_size(i.wasted_bytes)),
    ("build", lambda i: units.seconds(i.build_seconds)),
    ("rebuild", lambda i: units.seconds(i.rebuild_seconds)),
    ("1st answer", lambda i: units.seconds(i.first_answer_seconds)),
    ("memory", lambda i: units.human_size(i.memory_bytes)),
    ("pkgs os/lang", _packages),
    ("shell", lambda i: units.flag(None if i.exposure is None else i.exposure.shell)),
    ("user", _user),
    ("smoke", lambda i: units.verdict(i.smoke)),
    ("structure", lambda i: units.verdict(i.structure)),
    ("hardened", lambda i: units.verdict(i.hardened)),
]
LEFT_ALIGNED = ("variant", "user")

EXPLAINED = (
    "Columns: *size* on disk; *pull (gzip)* what a registry transfers; *of naive* size as a share of the "
    "naive image; *vs closure* size over the runtime closure (program, shared libraries, runtime, app and "
    "dependencies); *wasted* bytes later layers delete or overwrite; *build* and *rebuild* (after a "
    "one-line source change) in seconds of the steps the image needed; *1st answer* from `docker run` to "
    "the first good probe; *pkgs* OS packages / language packages; *user* the user the image runs as."
)


def cells(image: ImageResult) -> list[str]:
    return [render(image) for _, render in COLUMNS]
