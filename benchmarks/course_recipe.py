"""The course's microblog recipe beside the project's venv version, built, run and measured on one base set.

benchmarks/course/microblog.Dockerfile is the course's recipe: pip installs the dependencies as root into
the full python image, and the slim runtime takes the builder's whole /usr/local.
dockerfiles/microblog/multistage.Dockerfile takes only the venv, /opt/venv. Both are built for real on
the engine in use (tagged imagelab-bench/microblog:*, never the harness's imagelab/ tags), started and
probed on 127.0.0.1 by the harness's smoke check, and read by its own measuring code: the image's files,
its gzip'd layers, the layer its dependency COPY makes and what that layer holds by folder, its packages.

On the local stand-ins Python is Debian's, under /usr; the official images have theirs under /usr/local,
where the course's COPY takes it too. The last table measures, in the stand-ins, the parts of Python
that the official images keep under /usr/local: an estimate of what that COPY would also carry there.

    python benchmarks/course_recipe.py [--bases debian] [--keep]
"""

from __future__ import annotations

import argparse
import posixpath
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from imagelab import ROOT, apps, build, engine
from imagelab.bases.sets import BaseSet
from imagelab.checks import smoke
from imagelab.inspect import exposure, imagefs, layers
from imagelab.inspect import sizes as image_sizes

MiB = 2**20
APP = "microblog"
COURSE = ROOT / "benchmarks" / "course" / f"{APP}.Dockerfile"
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


def build_recipe(name: str, base_set: BaseSet) -> str:
    path, _ = RECIPES[name]
    tag = f"imagelab-bench/{APP}:{name}-{base_set.name}"
    engine.build_image(
        ROOT / "apps" / APP, path, tag, build_args=base_set.build_args(), timeout_s=1800
    )  # fmt: skip
    return tag


def measure(name: str, tag: str, compressed: image_sizes.CompressedSizes) -> Measured:
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
                folders[layers.folder_of(entry_path)] += entry.size
                files[layers.folder_of(entry_path)] += 1
            folder, base = posixpath.split(entry_path)
            if posixpath.basename(folder) == "bin" and base.startswith("python"):
                pythons.append(
                    entry_path + (f" -> {entry.link}" if entry.kind == "symlink" else f" ({entry.kind})")
                )
        found = exposure.assess(fs)
        return Measured(
            recipe=name,
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


# -- what the official images keep under /usr/local, measured in the stand-ins ------------------------


def python_parts(ref: str) -> dict[str, tuple[str, int]]:
    """The parts of the image's Python that the official images install under /usr/local, where the
    stand-in (Debian's python3.X) keeps each, and their bytes: part -> (path, bytes)."""
    with imagefs.saved(ref) as fs:
        link = fs.resolve("/usr/local/bin/python3")
        assert link is not None, f"{ref}: no /usr/local/bin/python3"
        interpreter = link.path  # /usr/bin/python3.13 in the stand-ins
        version = posixpath.basename(interpreter)  # python3.13
        stdlib = f"/usr/lib/{version}/"
        config = f"{stdlib}config-"
        files = {p: e.size for p, e in fs.entries.items() if e.kind == "file"}

        def under(prefix: str, *, but: tuple[str, ...] = ()) -> int:
            return sum(s for p, s in files.items() if p.startswith(prefix) and not p.startswith(but))

        packages = (f"{stdlib}site-packages/", f"{stdlib}dist-packages/")
        libpython = sorted(p for p in files if posixpath.basename(p).startswith(f"lib{version}.so"))
        return {
            "interpreter": (interpreter, files.get(interpreter, 0)),
            "standard library": (stdlib, under(stdlib, but=(config, *packages))),
            "libpython": (", ".join(libpython) or "-", sum(files[p] for p in libpython)),
            "build files (config-*, a static libpython)": (f"{config}*", under(config)),
            "headers": (f"/usr/include/{version}/", under(f"/usr/include/{version}/")),
            "pip": ("/usr/lib/python3/dist-packages/pip/", under("/usr/lib/python3/dist-packages/pip/")),
        }


# -- output ----------------------------------------------------------------------------------------------


def mib(size: int) -> str:
    return f"{size / MiB:.1f} MiB"


def tables(found: list[Measured], parts: dict[str, dict[str, tuple[str, int]]]) -> list[str]:
    header = (
        "| recipe | image (files) | vs course | pull (gzip) | layers | dependency COPY layer | its files "
        "| it hides | OS packages | Python packages | answers |"
    )
    lines = [
        header,
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for m in found:
        lines.append(
            f"| {m.recipe} | {mib(m.size)} | {(m.size - found[0].size) / 1024:+.1f} KiB | {mib(m.pull)} | "
            f"{m.layers} | {mib(m.copy_size)} | {m.copy_files} | {mib(m.copy_hides)} | {m.os_packages} | "
            f"{m.python_packages} | {m.answers} |"
        )
    lines += ["", "The dependency COPY's layer by folder:", ""]
    lines += ["| recipe | instruction | folder | bytes | files |", "|---|---|---|---:|---:|"]
    for m in found:
        for folder, size, count in m.copy_folders:
            lines.append(f"| {m.recipe} | `{m.copy_line}` | {folder} | {mib(size)} | {count} |")
        for python in m.copy_pythons:
            lines.append(f"| {m.recipe} | `{m.copy_line}` | {python} | - | - |")
    roles = list(parts)
    lines += [
        "",
        "Estimate: the stand-ins' own Python, in the parts the official images keep under /usr/local",
        "(Debian's files, not the official build's):",
        "",
        "| part | where the stand-in has it | " + " | ".join(roles) + " |",
        "|---|---|" + "---:|" * len(roles),
    ]
    first = parts[roles[0]]
    for part, (where, _) in first.items():
        cells = [mib(parts[role][part][1]) for role in roles]
        lines.append(f"| {part} | {where} | " + " | ".join(cells) + " |")
    for label, keys in (
        ("interpreter + standard library + libpython", ("interpreter", "standard library", "libpython")),
        (
            "the same, with headers and pip",
            ("interpreter", "standard library", "libpython", "headers", "pip"),
        ),
    ):
        cells = [mib(sum(parts[role][k][1] for k in keys)) for role in roles]
        lines.append(f"| **{label}** | | " + " | ".join(f"**{c}**" for c in cells) + " |")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bases", default="debian", help="the base set both recipes build on")
    parser.add_argument("--keep", action="store_true", help="keep the images (imagelab-bench/...)")
    args = parser.parse_args()
    base_set = build.ensure_bases(args.bases)
    app = apps.load_app(ROOT / "apps" / APP)
    run_id = smoke.new_run_id()
    tags: dict[str, str] = {}
    found = []
    try:
        with tempfile.TemporaryDirectory() as empty:
            compressed = image_sizes.CompressedSizes(Path(empty) / "compressed.json")
            for name in RECIPES:
                tags[name] = build_recipe(name, base_set)
                measured = measure(name, tags[name], compressed)
                measured.answers = probe(app, name, tags[name], base_set, run_id)
                found.append(measured)
        build_args = base_set.build_args()
        parts = {
            role: python_parts(build_args[arg])
            for role, arg in (("python", "PYTHON_IMAGE"), ("python-slim", "PYTHON_SLIM_IMAGE"))
        }
    finally:
        engine.remove_labelled(run_id)  # the smoke check removes its containers; this is the safety net
        if not args.keep:
            for tag in tags.values():
                engine.remove_image(tag)
    print(f"{APP} on base set {base_set.name}, {engine.describe()}")
    print()
    print("\n".join(tables(found, parts)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
