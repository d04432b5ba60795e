"""`imagelab explain`: an image layer by layer, and where its bytes go, as tables on stdout.

Reads the image the engine already has (builds nothing): `docker save`, then imagefs, composition and
layers, and what a vulnerability scanner would say of it (vulns/, offline data, dated). The Dockerfile read is the variant's file as it is now: explain an image built from it.
"""

from __future__ import annotations

from rich.console import JustifyMethod
from rich.table import Table

from imagelab import engine, vulns
from imagelab.apps import Variant
from imagelab.errors import ImagelabError
from imagelab.inspect import composition, imagefs, layers, origin
from imagelab.terminal import terminal
from imagelab.vulns import summary


def show(variant: Variant) -> None:
    if not engine.image_id(variant.tag):
        raise ImagelabError(
            f"no image {variant.tag} in the engine",
            hint=f"build it first: nox -s build -- --app {variant.app.name} --variant {variant.name}"
            f" --bases {variant.base_set.name}",
        )
    dockerfile = variant.app.dockerfile(variant.name)
    terminal.step(f"reading {variant.tag}")
    # The base image's layers by their digests, as compare counts them (inspect/origin.py).
    bases = origin.base_images(
        dockerfile, variant.base_set.build_args(), variant.base_set.replaced(dockerfile)
    )
    base_refs = [base.ref for base in bases]
    with imagefs.saved(variant.tag) as fs:
        count = origin.base_layer_count(
            [layer.diff_id for layer in fs.layers], (origin.layer_ids(ref) for ref in base_refs)
        )
        views = layers.views(fs, dockerfile.read_text(), count)
        parts = composition.compose(fs, variant.app.language)
        size, wasted = fs.size, fs.wasted_bytes
        scanner = vulns.Scanner()
        found, base = scanner.scan(fs), scanner.scan_base(fs, count)
    terminal.out.print(layer_table(views, f"{variant.tag} layer by layer ({dockerfile.name})"))
    terminal.out.print(composition_table(parts, f"{variant.tag}: where the bytes go"))
    terminal.info(
        f"{human_size(size)} in {len(views)} layers, of which {human_size(wasted)} hidden by later layers"
    )
    terminal.info(f"vulnerabilities: {summary.line(found, base)}")
    for note in found.notes:
        terminal.info(f"  note: {note}")


def layer_table(views: list[layers.LayerView], title: str) -> Table:
    table = Table(title=title, title_justify="left")
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("#", "right"),
        ("line", "right"),
        ("instruction", "left"),
        ("size", "right"),
        ("largest folders it adds", "left"),
        ("deletes or overwrites", "left"),
    )
    for name, justify in columns:
        table.add_column(name, justify=justify, overflow="fold")
    for view in views:
        line = view.lines if view.origin == "dockerfile" else f"FROM {view.lines}" if view.lines else "?"
        instruction = view.instruction if view.origin != "base" else f"(base) {view.instruction}"
        hidden = ""
        if view.hides_files:
            hidden = f"{human_size(view.hides_bytes)} in {view.hides_files} files: " + _folders(
                view.hidden_folders
            )
        table.add_row(
            str(view.index),
            line,
            _shorten(instruction),
            human_size(view.size),
            _folders(view.folders),
            hidden,
        )
    total = sum(view.size for view in views)
    hidden_total = sum(view.hides_bytes for view in views)
    table.add_section()
    table.add_row("", "", "total", human_size(total), "", f"wasted: {human_size(hidden_total)}")
    return table


def composition_table(parts: composition.Composition, title: str) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("kind")
    table.add_column("size", justify="right")
    table.add_column("share", justify="right")
    for kind, label in composition.KINDS.items():
        size = parts.bytes[kind]
        share = size / parts.total if parts.total else 0.0
        table.add_row(label, human_size(size), f"{share:.1%}")
    table.add_section()
    table.add_row("total", human_size(parts.total), "")
    return table


def human_size(size: int) -> str:
    """Sizes as `docker images` prints them, in binary units: a layer of a few kilobytes reads as such."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}" if size < 10 * scale else f"{size / scale:.0f} {unit}"
    return f"{size} B"


def _folders(folders: list[tuple[str, int]]) -> str:
    return ", ".join(f"{path} {human_size(size)}" for path, size in folders)


def _shorten(text: str, limit: int = 90) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
