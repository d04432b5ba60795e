"""What an image's config says: how a container of it runs, and its layers with the step that made each.

The config is the JSON beside the layers in a `docker save` tarball (archive_layout.py finds it); the
merged file system those layers make is imagefs.py's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: The PATH a container gets when its image sets none (what docker sets).
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass
class Layer:
    """One layer of the image, with what a later layer made of it."""

    index: int
    member: str  # the layer's tar inside the archive
    diff_id: str  # sha256 of the uncompressed tar, from the config's rootfs
    created_by: str  # the build step that made it ("" when the history does not say)
    size: int = 0  # bytes of the regular files it holds (what `docker history` shows)
    files: int = 0  # paths other than directories and whiteouts
    wasted_bytes: int = 0  # bytes of its files a later layer deletes or overwrites
    wasted_files: int = 0


@dataclass(frozen=True)
class Config:
    """The parts of the image config that say how a container runs."""

    user: str = ""
    entrypoint: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    working_dir: str = ""
    exposed_ports: list[str] = field(default_factory=list)  # "8080/tcp"
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def path(self) -> list[str]:
        """The folders a command name is looked up in, in order."""
        return [folder for folder in self.env.get("PATH", DEFAULT_PATH).split(":") if folder]


def config(raw: dict) -> Config:
    """How a container of the image runs, from the config's `config` object."""
    run = raw.get("config") or {}
    env = dict(item.split("=", 1) if "=" in item else (item, "") for item in run.get("Env") or [])
    return Config(
        user=run.get("User") or "",
        entrypoint=list(run.get("Entrypoint") or []),
        cmd=list(run.get("Cmd") or []),
        env=env,
        working_dir=run.get("WorkingDir") or "",
        exposed_ports=sorted(run.get("ExposedPorts") or {}),
        labels=dict(run.get("Labels") or {}),
    )


def layers(raw: dict, members: list[str]) -> list[Layer]:
    """The layers, bottom first: `members` (the layer tars, archive_layout.py) with the config's diff_ids
    and the build step that made each."""
    diff_ids = (raw.get("rootfs") or {}).get("diff_ids") or []
    steps = [step.get("created_by", "") for step in raw.get("history") or [] if not step.get("empty_layer")]
    if len(steps) != len(members):  # a history that does not match the layers names none of them
        steps = [""] * len(members)
    return [
        Layer(index, member, diff_ids[index] if index < len(diff_ids) else "", steps[index])
        for index, member in enumerate(members)
    ]
