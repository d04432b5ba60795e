"""The build matrix: apps discovered from apps/*/app.toml, each with the variants it has Dockerfiles for.

Adding an app is adding a folder with an app.toml and its Dockerfiles: nothing here names an app.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from imagelab import ROOT
from imagelab.errors import ConfigError

if TYPE_CHECKING:  # the type only: opening a set loads the registry and the Docker SDK, which the
    # report (that reads VARIANTS) and the command line's parser do not need
    from imagelab.bases.sets import BaseSet

#: Teaching order, from the "before" picture to the smallest image; reports keep it.
VARIANTS = ("naive", "slim", "multistage", "distroless", "minimal")
#: Variants that promise no shell, no package manager and UID 65532 (and get the hardened run).
HARDENED_VARIANTS = ("distroless", "minimal")
LANGUAGES = ("python", "node", "go")
KINDS = ("service", "job")
APPS_ENV = "IMAGELAB_APPS"


@dataclass(frozen=True)
class Probe:
    method: str
    path: str
    status: int
    body: str = ""
    json: Any = None

    def describe(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class Service:
    port: int
    probes: tuple[Probe, ...]
    start_timeout: float = 30.0


@dataclass(frozen=True)
class Job:
    fixture: Path
    url_env: str
    output: str
    exit_code: int = 0
    timeout: float = 60.0  # seconds it may run before the harness stops it


@dataclass(frozen=True)
class App:
    name: str
    folder: Path
    description: str
    language: str
    kind: str
    source_file: Path
    comment: str
    env: dict[str, str] = field(default_factory=dict)
    tmpfs: tuple[str, ...] = ()
    service: Service | None = None
    job: Job | None = None

    @property
    def dockerfiles(self) -> Path:
        """dockerfiles/<app>/, beside the apps/ folder that holds the app."""
        return self.folder.parent.parent / "dockerfiles" / self.name

    def dockerfile(self, variant: str) -> Path:
        return self.dockerfiles / f"{variant}.Dockerfile"


@dataclass(frozen=True)
class Variant:
    """One image of the build matrix: an app built one way (its variant name) on one base set."""

    app: App
    name: str
    base_set: BaseSet

    @property
    def target(self) -> str:
        """The bake target name (bake allows letters, digits, '-' and '_')."""
        return f"{self.app.name}-{self.name}"

    @property
    def tag(self) -> str:
        return f"imagelab/{self.app.name}:{self.name}-{self.base_set.name}"

    @property
    def hardened(self) -> bool:
        return self.name in HARDENED_VARIANTS


class _Fields:
    """Reads one table of an app.toml, naming the file and the field in every error."""

    def __init__(self, path: Path, table: dict[str, Any], prefix: str = "") -> None:
        self.path, self.table, self.prefix = path, table, prefix

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(
            f"{self.path}: field '{self.prefix}{key}' {problem}",
            hint="see 'app.toml' in README.md for the schema",
        )

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = ..., choices: Iterable = ()) -> Any:
        if key not in self.table:
            if default is ...:
                raise self.fail(key, "is missing")
            return default
        value = self.table[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            raise self.fail(key, f"must be {names}, not {type(value).__name__}")
        choices = tuple(choices)
        if choices and value not in choices:
            raise self.fail(key, f"is {value!r}; valid: {', '.join(map(str, choices))}")
        return value

    def sub(self, key: str) -> _Fields:
        return _Fields(self.path, self.get(key, dict), f"{self.prefix}{key}.")


def load_app(folder: Path) -> App:
    path = folder / "app.toml"
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}", hint="fix the syntax") from exc
    top = _Fields(path, data)
    kind = top.get("kind", str, choices=KINDS)
    source_file = folder / top.get("source_file", str)
    if not source_file.is_file():
        raise top.fail("source_file", f"names {source_file.relative_to(folder)}, which does not exist")
    env = top.get("env", dict, {})
    if not all(isinstance(v, str) for v in env.values()):
        raise top.fail("env", "values must be strings")
    hardened = top.sub("hardened") if "hardened" in data else _Fields(path, {}, "hardened.")
    app = {
        "name": folder.name,
        "folder": folder,
        "description": top.get("description", str),
        "language": top.get("language", str, choices=LANGUAGES),
        "kind": kind,
        "source_file": source_file,
        "comment": top.get("comment", str),
        "env": env,
        "tmpfs": tuple(hardened.get("tmpfs", list, [])),
    }
    if kind == "service":
        return App(**app, service=_load_service(top.sub("service")))
    return App(**app, job=_load_job(top.sub("job"), folder))


def _load_service(fields: _Fields) -> Service:
    probes = fields.get("probes", list)
    if not probes:
        raise fields.fail("probes", "is empty: a service needs at least one probe")
    loaded = []
    for index, table in enumerate(probes):
        probe = _Fields(fields.path, table, f"{fields.prefix}probes[{index}].")
        loaded.append(
            Probe(
                method=probe.get("method", str).upper(),
                path=probe.get("path", str),
                status=probe.get("status", int),
                body=probe.get("body", str, ""),
                json=probe.get("json", (dict, list), None),
            )
        )
    port = fields.get("port", int)
    if not 0 < port < 65536:
        raise fields.fail("port", f"is {port}; a port is 1 to 65535")
    return Service(
        port=port, probes=tuple(loaded), start_timeout=float(fields.get("start_timeout", (int, float), 30))
    )


def _load_job(fields: _Fields, folder: Path) -> Job:
    fixture = folder / fields.get("fixture", str)
    if not fixture.is_file():
        raise fields.fail("fixture", f"names {fixture.relative_to(folder)}, which does not exist")
    return Job(
        fixture=fixture,
        url_env=fields.get("url_env", str),
        output=fields.get("output", str),
        exit_code=fields.get("exit_code", int, 0),
        timeout=float(fields.get("timeout", (int, float), 60)),
    )


def apps_folder() -> Path:
    """apps/ of the repository, or the folder $IMAGELAB_APPS names (its Dockerfiles in the sibling
    dockerfiles/ folder): for trying apps of one's own, and for the fault tests' tiny apps."""
    chosen = os.environ.get(APPS_ENV)
    return Path(chosen).resolve() if chosen else ROOT / "apps"


def discover(folder: Path | None = None) -> dict[str, App]:
    """Every folder of apps/ with an app.toml, by name."""
    folder = folder or apps_folder()
    if not folder.is_dir():
        raise ConfigError(f"no apps folder {folder}", hint=f"check ${APPS_ENV}, or unset it for apps/")
    found = sorted(p.parent for p in folder.glob("*/app.toml"))
    return {folder.name: load_app(folder) for folder in found}


def select(
    apps: dict[str, App], names: Iterable[str], variants: Iterable[str], base_set: BaseSet
) -> list[Variant]:
    """The images of the build matrix that the selectors name; every app and variant when none are given."""
    names, variants = list(names), list(variants)
    for name in names:
        if name not in apps:
            raise ConfigError(f"unknown app '{name}'", hint=f"valid apps: {', '.join(apps) or 'none found'}")
    for variant in variants:
        if variant not in VARIANTS:
            raise ConfigError(f"unknown variant '{variant}'", hint=f"valid variants: {', '.join(VARIANTS)}")
    chosen = [apps[n] for n in names] if names else list(apps.values())
    return [
        Variant(app, v, base_set)
        for app in chosen
        for v in VARIANTS
        if (not variants or v in variants) and app.dockerfile(v).is_file()
    ]
