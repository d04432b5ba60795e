"""Layer by layer: what each layer of an image holds, which Dockerfile line made it, and what it hides
of the layers below -- what `dive` shows, read from the image's own files (imagefs).

Which line made a layer: the image's history names the build step of every layer (`created_by`), and
BuildKit writes the instruction there as the Dockerfile says it, after its own rewriting:
- RUN: `RUN |<n> ARG=value ... /bin/sh -c <command> # buildkit` -- the build arguments the step uses,
  the shell (SHELL's, when set) and the command with line continuations removed; `--mount` flags left
  out. The command matches the end of it.
- COPY and ADD: sources and destination with variables expanded, `--from`/`--chown`/`--chmod` left out.
- WORKDIR: the folder, variables expanded.
- An instruction in exec (JSON) form: its words joined by spaces.
Layers are matched from the newest down against the instructions of the final stage and of the stages
it is built FROM (`FROM build AS test`), so every layer the Dockerfile made gets its line. Lines that
cannot be recovered: the layers of the base image (they get the FROM line that brought them in, and
their own instruction from the base's history), and images built by the classic builder, whose history says `COPY dir:<hash> in /app` instead of the sources.

What a layer hides: the files of earlier layers it deletes (a whiteout) or overwrites. Each hidden
file counts once, in the layer that hides it, so the column adds up to the image's wasted bytes.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

# The one Dockerfile reader (imagelab/dockerfile.py): the layer view maps layers to its instructions.
from imagelab.dockerfile import VARIABLE, Instruction, froms, parse_dockerfile
from imagelab.inspect.imagefs import ImageFS

LAYER_KEYWORDS = ("RUN", "COPY", "ADD", "WORKDIR")  # the instructions that can make a layer
#: Folders that hold many packages: a layer's folders are named down to these, not into each package.
COLLECTIONS = ("node_modules", "site-packages", "dist-packages", "mod")
FOLDER_DEPTH = 3  # /usr/lib/x86_64-linux-gnu, /usr/local/bin: deep enough to say what a folder is
TOP_FOLDERS = 3
TOP_LAYERS = 3  # the report's "largest layers" per image
FLAG = re.compile(r"^--\S+\s*")


@dataclass
class LayerView:
    index: int
    size: int
    files: int
    instruction: str  # the Dockerfile's text for the variant's own layers; the history's for the others
    origin: Literal["dockerfile", "base", "unknown"]  # "base": of the FROM image
    lines: str = ""  # "12" or "12-15" in the variant's Dockerfile; a base layer's is its FROM line's
    folders: list[tuple[str, int]] = field(default_factory=list)  # the largest folders it adds
    hides_bytes: int = 0  # bytes of earlier layers' files it deletes or overwrites
    hides_files: int = 0
    hidden_folders: list[tuple[str, int]] = field(default_factory=list)


def final_stage(instructions: list[Instruction]) -> tuple[Instruction | None, list[Instruction]]:
    """The FROM that brings in the final stage's base image (None for scratch), and the instructions
    that run on top of it: the final stage's, after those of the stages it is built FROM."""
    starts = [i for i in instructions if i.keyword == "FROM"]
    if not starts:
        return None, []
    written = froms(starts)  # (image, stage name) of each, in order: starts[n] begins stage n
    names = {name.lower(): n for n, (_, name) in enumerate(written) if name}
    chain: list[Instruction] = []
    stage = starts[-1].stage
    while True:
        chain = [i for i in instructions if i.stage == stage and i.keyword != "FROM"] + chain
        base = starts[stage]
        ref = written[stage][0].lower()
        if ref in names and names[ref] < stage:
            stage = names[ref]
            continue
        return (None if ref == "scratch" else base), chain


def views(fs: ImageFS, dockerfile: str, base_layers: int | None = None) -> list[LayerView]:
    """Every layer of the image, oldest first, with its line in `dockerfile` (the text it was built from).

    `base_layers`: how many leading layers are the base image's, when known from the layers' digests
    (inspect/origin.py); without it (or 0 when the engine has no base image by the name the Dockerfile
    gives), the layers below the oldest one the Dockerfile matched."""
    base_from, chain = final_stage(parse_dockerfile(dockerfile))
    created_by = [layer.created_by for layer in fs.layers]
    if not base_layers or base_from is None:  # 0: the engine lacks the base image by that name
        made_by = attribute(created_by, chain)
        own = [index for index, instruction in enumerate(made_by) if instruction is not None]
        first_own = own[0] if own else len(fs.layers)
    else:
        unattributed: list[Instruction | None] = [None] * base_layers
        made_by = unattributed + attribute(created_by[base_layers:], chain)
        first_own = base_layers
    adds = _files_by_layer(fs)
    views = []
    for layer, instruction in zip(fs.layers, made_by, strict=True):
        hidden = [r for r in fs.removals if r.by == layer.index]
        view = LayerView(
            index=layer.index,
            size=layer.size,
            files=layer.files,
            instruction=history_text(layer.created_by),
            origin="unknown",
            folders=_largest_folders(adds[layer.index]),
            hides_bytes=sum(r.size for r in hidden),
            hides_files=len(hidden),
            hidden_folders=_largest_folders([(r.path, r.size) for r in hidden]),
        )
        if instruction is not None:
            view.instruction, view.origin, view.lines = instruction.text, "dockerfile", instruction.lines
        elif layer.index < first_own and base_from is not None:
            view.origin, view.lines = "base", base_from.lines
        views.append(view)
    return views


def largest(views: list[LayerView], count: int = TOP_LAYERS) -> list[LayerView]:
    """The `count` largest layers, largest first (the older first among equals)."""
    return sorted((v for v in views if v.size > 0), key=lambda v: -v.size)[:count]


def attribute(created_by: list[str], chain: list[Instruction]) -> list[Instruction | None]:
    """The instruction that made each layer (by its history text), or None; matched newest first, each
    instruction at most once and in Dockerfile order."""
    candidates = [i for i in chain if i.keyword in LAYER_KEYWORDS]
    result: list[Instruction | None] = [None] * len(created_by)
    remaining = len(candidates)
    for index in reversed(range(len(created_by))):
        text = history_text(created_by[index])
        for position in reversed(range(remaining)):
            if matches(candidates[position], text):
                result[index], remaining = candidates[position], position
                break
    return result


def history_text(created_by: str) -> str:
    """A history entry as an instruction: `# buildkit` dropped, the classic builder's prefix too."""
    text = re.sub(r"\s*# buildkit$", "", created_by.strip())
    if text.startswith("/bin/sh -c #(nop) "):
        text = text[len("/bin/sh -c #(nop) ") :]
    elif text.startswith("/bin/sh -c "):
        text = "RUN " + text
    return " ".join(text.split())


def matches(instruction: Instruction, text: str) -> bool:
    """Whether a history text (see history_text) is what BuildKit records for this instruction."""
    keyword, _, recorded = text.partition(" ")
    if keyword.upper() != instruction.keyword:
        return False
    args = instruction.args
    while FLAG.match(args):  # RUN --mount, COPY --from/--chown/--chmod: not in the history
        args = FLAG.sub("", args, count=1)
    if args.startswith("["):  # exec form: BuildKit records the JSON array's words joined by spaces
        try:
            words = json.loads(args)
        except ValueError:
            words = None
        if isinstance(words, list) and all(isinstance(word, str) for word in words):
            args = " ".join(" ".join(words).split())
    if not args:
        return False
    # Variables: RUN keeps them as written (the shell expands them), COPY/ADD/WORKDIR expand them.
    pieces = VARIABLE.split(args)
    pattern = "".join(
        re.escape(piece) if n % 2 == 0 else rf"(?:\$\{{?{piece}\}}?|.*?)" for n, piece in enumerate(pieces)
    )
    # RUN's command ends the text after the build arguments and the shell; the others are the text.
    anchor = r"(?:^|\s)" if instruction.keyword == "RUN" else "^"
    return re.search(anchor + pattern + r"\Z", recorded) is not None


def _files_by_layer(fs: ImageFS) -> dict[int, list[tuple[str, int]]]:
    """Each layer's regular files: those still visible, and those a later layer hid."""
    files: dict[int, list[tuple[str, int]]] = {layer.index: [] for layer in fs.layers}
    for path, entry in fs.entries.items():
        if entry.kind == "file":
            files[entry.layer].append((path, entry.size))
    for removal in fs.removals:
        files[removal.layer].append((removal.path, removal.size))
    return files


def folder_of(path: str) -> str:
    """The folder a file counts in: its parent, cut at FOLDER_DEPTH or just after a collection."""
    parts = posixpath.dirname(path).strip("/").split("/")
    for depth, part in enumerate(parts):
        if part in COLLECTIONS:
            return "/" + "/".join(parts[: depth + 1])
    return "/" + "/".join(parts[:FOLDER_DEPTH]) if parts != [""] else "/"


def _largest_folders(files: list[tuple[str, int]]) -> list[tuple[str, int]]:
    sizes: Counter[str] = Counter()
    for path, size in files:
        sizes[folder_of(path)] += size
    return [(folder, size) for folder, size in sizes.most_common(TOP_FOLDERS) if size > 0]
