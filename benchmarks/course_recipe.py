"""The course's microblog recipe beside the project's venv version, built, run and measured on one base set.

benchmarks/course/microblog.Dockerfile is the course's recipe: pip installs the dependencies as root into
the full python image, and the slim runtime takes the builder's whole /usr/local.
dockerfiles/microblog/multistage.Dockerfile takes only the venv, /opt/venv. Both are built for real on
the engine in use (tagged imagelab-bench/*, never the harness's imagelab/ tags), started and probed on
127.0.0.1 by the harness's smoke check, and read by its own measuring code: the image's files, its gzip'd
layers, the layer its dependency COPY makes and what that layer holds by folder, its packages.

Each is built twice: on the base set's python and python-slim images as they are, and on the same two
laid out like the official images, with Python under /usr/local (benchmarks/course/usr-local-python.Dockerfile,
a local stand-in, not the official image). The local stand-ins keep Debian's Python under /usr, where
the course's COPY does not reach; the official images keep theirs under /usr/local, where it does. A base
set whose python already has its Python under /usr/local (official) is built once, as it is.
The last table gives the Python each base image carries, by part.

    python benchmarks/course_recipe.py [--bases debian] [--keep]
"""

from __future__ import annotations

import argparse
import posixpath
import re
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from imagelab import ROOT, apps, build, engine
from imagelab import bases as base_sets
from imagelab.bases.sets import BaseSet
from imagelab.checks import smoke
from imagelab.inspect import exposure, imagefs, layers
from imagelab.inspect import sizes as image_sizes

MiB = 2**20
APP = "microblog"
COURSE = ROOT / "benchmarks" / "course" / f"{APP}.Dockerfile"
#: Debian's Python moved to /usr/local, as the official images keep theirs (shared with a test).
USR_LOCAL_PYTHON = ROOT / "benchmarks" / "course" / "usr-local-python.Dockerfile"
#: The base images the recipes take, by build argument, and the role each is.
PYTHON_ROLES = {"PYTHON_IMAGE": "python", "PYTHON_SLIM_IMAGE": "python-slim"}
AS_IS = "as they are"
USR_LOCAL = "/usr/local layout"
#: How each row's bases are named in the output.
BASES = {
    AS_IS: "the base set's images",
    USR_LOCAL: "on a /usr/local layout (local stand-in laid out like the official image)",
}
#: Each recipe, and what its dependency COPY takes from the build stage (as its history records it).
RECIPES = {
    "course": (COURSE, "/usr/local/"),
    "multistage": (ROOT / "dockerfiles" / APP / "multistage.Dockerfile", "/opt/venv"),
}


@dataclass(frozen=True)
class BenchImage(apps.Variant):
    """A recipe of the app under this benchmark's own tag: what the smoke check starts and probes."""

    image: str = ""

    @property
    def tag(self) -> str:
        return self.image


@dataclass
class Measured:
    recipe: str
    bases: str  # AS_IS or USR_LOCAL
    tag: str
    size: int
    pull: int
    layers: int
    copy_line: str
    copy_size: int
    copy_files: int
    copy_hides: int
    copy_folders: list[tuple[str, int, int]]  # folder, bytes, files
    copy_pythons: list[str]  # python* entries the layer holds under a bin/ folder, links with their target
    os_packages: int
    python_packages: int
    answers: str = "-"


def build_recipe(name: str, base_set: BaseSet, bases: str, build_args: dict[str, str]) -> str:
    path, _ = RECIPES[name]
    tag = f"imagelab-bench/{APP}:{name}-{base_set.name}" + ("-usr-local" if bases == USR_LOCAL else "")
    engine.build_image(ROOT / "apps" / APP, path, tag, build_args=build_args, timeout_s=1800)
    return tag


def build_usr_local(base_set: BaseSet) -> dict[str, str]:
    """The set's python and python-slim images with their Python moved to /usr/local: argument -> tag."""
    made = {}
    for argument, role in PYTHON_ROLES.items():
        tag = f"imagelab-bench/{role}-usr-local:{base_set.name}"
        engine.build_image(
            USR_LOCAL_PYTHON.parent, USR_LOCAL_PYTHON, tag,
            build_args={"PYTHON_IMAGE": base_set.build_args()[argument]}, timeout_s=900,
        )  # fmt: skip
        made[argument] = tag
    return made


def copy_folder(path: str) -> str:
    """The harness's folder of a file, one level deeper below a lib/ folder (a Python's standard library,
    its build files and libpython would otherwise count as one /usr/local/lib)."""
    folder = layers.folder_of(path)
    below = posixpath.dirname(path)[len(folder) :].strip("/").split("/")
    if posixpath.basename(folder) == "lib" and below[0]:
        folder += "/" + below[0]
        if below[0].startswith("python3.") and len(below) > 1 and below[1].startswith("config-"):
            folder += "/" + below[1]
    return folder


def measure(name: str, bases: str, tag: str, compressed: image_sizes.CompressedSizes) -> Measured:
    path, source = RECIPES[name]
    with imagefs.saved(tag) as fs:
        views = layers.views(fs, path.read_text())
        copy = next(
            v for v in reversed(views)
            if v.origin == "dockerfile" and v.instruction.startswith("COPY") and f" {source} " in v.instruction
        )  # fmt: skip
        folders: Counter[str] = Counter()
        files: Counter[str] = Counter()
        pythons = []
        for entry_path, entry in sorted(fs.entries.items()):
            if entry.layer != copy.index:
                continue
            if entry.kind == "file":
                folders[copy_folder(entry_path)] += entry.size
                files[copy_folder(entry_path)] += 1
            folder, base = posixpath.split(entry_path)
            if posixpath.basename(folder) == "bin" and base.startswith("python"):
                pythons.append(
                    entry_path
                    + (
                        f" -> {entry.link}"
                        if entry.kind == "symlink"
                        else f" ({entry.kind}, {mib(entry.size)})"
                    )
                )
        found = exposure.assess(fs)
        return Measured(
            recipe=name,
            bases=bases,
            tag=tag,
            size=fs.size,
            pull=compressed.of_image(fs),
            layers=len(fs.layers),
            copy_line=copy.instruction,
            copy_size=copy.size,
            copy_files=copy.files,
            copy_hides=copy.hides_bytes,
            copy_folders=[(f, b, files[f]) for f, b in folders.most_common()],
            copy_pythons=pythons,
            os_packages=found.os_packages,
            python_packages=found.language_packages,
        )


def probe(app: apps.App, name: str, tag: str, base_set: BaseSet, run_id: str) -> str:
    """Start the image as compare does (app.toml's environment, its port on 127.0.0.1), probe it once."""
    result = smoke.check(BenchImage(app, name, base_set, tag), run_id, starts=1)
    passed = sum(p.passed for p in result.probes)
    verdict = "yes" if result.passed else "NO"
    return f"{verdict}, {passed}/{len(app.service.probes) if app.service else 0} probes" + (
        f" ({result.error})" if result.error else ""
    )


# -- the Python each base image carries, by part -------------------------------------------------------

PACKAGES = re.compile(r"/(?:site|dist)-packages/")
PIP = re.compile(r"/(?:site|dist)-packages/pip/")
PARTS = {
    "interpreter": "<prefix>/bin/python3.X",
    "standard library": "<prefix>/lib/python3.X/, without config-*/ and *-packages/",
    "build files (config-*, a static libpython)": "<prefix>/lib/python3.X/config-*/",
    "libpython": "libpython3.X.so*, wherever it is",
    "headers": "include/python3.X/, wherever it is",
    "pip": "pip/ in a site- or dist-packages, wherever it is",
}


@dataclass(frozen=True)
class Part:
    size: int | None  # None: not measurable (the base's note says why)
    files: int = 0  # 0 with a size: measured, and the image has no such file


@dataclass(frozen=True)
class PythonParts:
    """The parts of an image's Python, found from the interpreter /usr/local/bin/python3 leads to: its
    prefix is where the standard library is (/usr in Debian's layout, /usr/local in the official one)."""

    ref: str
    note: str  # where the interpreter is, or why nothing could be measured
    parts: dict[str, Part]

    @property
    def prefix(self) -> str | None:
        return self.note.removeprefix("prefix ").split(" ")[0] if self.note.startswith("prefix ") else None


def python_parts(ref: str) -> PythonParts:
    with imagefs.saved(ref) as fs:
        return parts_of(ref, fs)


def parts_of(ref: str, fs: imagefs.ImageFS) -> PythonParts:
    """Each part of PARTS in the image: bytes and files, "none" (no such file), or not measurable."""
    files = {p: e.size for p, e in fs.entries.items() if e.kind == "file"}
    link = fs.resolve("/usr/local/bin/python3")
    interpreter = link.path if link is not None and link.kind == "file" else ""
    version = posixpath.basename(interpreter)
    bindir = posixpath.dirname(interpreter)
    if not re.fullmatch(r"python3\.\d+", version) or posixpath.basename(bindir) != "bin":
        why = f"/usr/local/bin/python3 leads to {interpreter or 'no file'}, not <prefix>/bin/python3.X"
        return PythonParts(ref, why, {part: Part(None) for part in PARTS})
    prefix = posixpath.dirname(bindir)
    stdlib = f"{prefix}/lib/{version}/"
    config = f"{stdlib}config-"

    def part(chosen: list[str]) -> Part:
        return Part(sum(files[p] for p in chosen), len(chosen))

    standard = part([p for p in files if p.startswith(stdlib) and not p.startswith(config)
                     and not PACKAGES.search(p)])  # fmt: skip
    note = f"prefix {prefix} (interpreter {interpreter})"
    if not standard.files:  # every Python has one: none there means it is elsewhere, unmeasured
        note += f"; no standard library under {stdlib}, so it and its build files are not measured"
    return PythonParts(ref, note, {
        "interpreter": part([interpreter]),
        "standard library": standard if standard.files else Part(None),
        "build files (config-*, a static libpython)": (
            part([p for p in files if p.startswith(config)]) if standard.files else Part(None)
        ),
        "libpython": part([p for p in files if posixpath.basename(p).startswith(f"lib{version}.so")]),
        "headers": part([p for p in files if f"/include/{version}/" in p]),
        "pip": part([p for p in files if PIP.search(p)]),
    })  # fmt: skip


# -- output ----------------------------------------------------------------------------------------------


def mib(size: int) -> str:
    return f"{size / MiB:.1f} MiB"


def difference(size: int) -> str:
    return f"{size / MiB:+.1f} MiB" if abs(size) >= MiB else f"{size / 1024:+.1f} KiB"


def cell(part: Part) -> str:
    if part.size is None:
        return "-"
    return mib(part.size) if part.files else "none"


def tables(found: list[Measured], parts: dict[str, PythonParts]) -> list[str]:
    header = (
        "| recipe | bases | image (files) | vs course | pull (gzip) | layers | dependency COPY layer "
        "| its files | it hides | OS packages | Python packages | answers |"
    )
    lines = [header, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for m in found:
        course = next(c for c in found if c.bases == m.bases)
        lines.append(
            f"| {m.recipe} | {BASES[m.bases]} | {mib(m.size)} | {difference(m.size - course.size)} | "
            f"{mib(m.pull)} | {m.layers} | {mib(m.copy_size)} | {m.copy_files} | {mib(m.copy_hides)} | "
            f"{m.os_packages} | {m.python_packages} | {m.answers} |"
        )
    lines += ["", "The dependency COPY's layer by folder:", ""]
    lines += ["| recipe | bases | instruction | folder | bytes | files |", "|---|---|---|---|---:|---:|"]
    for m in found:
        where = f"| {m.recipe} | {BASES[m.bases]} | `{m.copy_line}` |"
        for folder, size, count in m.copy_folders:
            lines.append(f"{where} {folder} | {mib(size)} | {count} |")
        for python in m.copy_pythons:
            lines.append(f"{where} {python} | - | - |")
    names = list(parts)
    lines += [
        "",
        "The Python each base image carries, by part (none: the image has no such file; -: not measured,",
        "the line below the table says why):",
        "",
        "| part | where | " + " | ".join(names) + " |",
        "|---|---|" + "---:|" * len(names),
    ]
    for part, where in PARTS.items():
        lines.append(f"| {part} | {where} | " + " | ".join(cell(parts[n].parts[part]) for n in names) + " |")
    totals = []
    for name in names:
        sizes = [p.size for p in parts[name].parts.values()]
        totals.append("-" if None in sizes else f"**{mib(sum(s for s in sizes if s is not None))}**")
    lines.append("| **all of the above** | | " + " | ".join(totals) + " |")
    lines.append("")
    lines += [f"- {name}: {parts[name].note}" for name in names]
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bases", default="debian", help="the base set both recipes build on")
    parser.add_argument("--keep", action="store_true", help="keep the images (imagelab-bench/...)")
    args = parser.parse_args()
    base_set = build.ensure_bases(base_sets.open_set(args.bases))
    app = apps.load_app(ROOT / "apps" / APP)
    run_id = smoke.new_run_id()
    as_is = base_set.build_args()
    parts = {role: python_parts(as_is[argument]) for argument, role in PYTHON_ROLES.items()}
    layouts = {AS_IS: as_is}
    movable = parts["python"].prefix == "/usr"  # Debian's layout: the one the /usr/local layout moves
    skipped = "" if movable else f"Not built {BASES[USR_LOCAL]}: the python image's {parts['python'].note}."
    tags: list[str] = []
    found = []
    try:
        if movable:
            moved = build_usr_local(base_set)
            tags += moved.values()
            layouts[USR_LOCAL] = as_is | moved
            parts |= {
                f"{PYTHON_ROLES[argument]} ({USR_LOCAL})": python_parts(tag)
                for argument, tag in moved.items()
            }
        with tempfile.TemporaryDirectory() as empty:
            compressed = image_sizes.CompressedSizes(Path(empty) / "compressed.json")
            for bases, build_args in layouts.items():
                for name in RECIPES:
                    tag = build_recipe(name, base_set, bases, build_args)
                    tags.append(tag)
                    measured = measure(name, bases, tag, compressed)
                    measured.answers = probe(app, name, tag, base_set, run_id)
                    found.append(measured)
    finally:
        engine.remove_labelled(run_id)  # the smoke check removes its containers; this is the safety net
        if not args.keep:
            for tag in reversed(tags):  # the recipes before the bases they were built on
                engine.remove_image(tag)
    print(f"{APP} on base set {base_set.name}, {engine.describe()}")
    print()
    print("\n".join(tables(found, parts)))
    if skipped:
        print()
        print(skipped)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
