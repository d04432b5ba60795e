"""`bases --check`: has a base moved? Every role's reference resolved in its registry (no pull), compared
with the digests a baseline report recorded, and the app x variant cells that build on each moved role.

The loop it starts: a scheduled CI job runs it, exits 1 when a base moved, and the next step rebuilds
every cell on both digests and says what changed.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from imagelab.bases.resolution import RESOLVE_THREADS
from imagelab.bases.sets import REFERENCE, BaseSet, RoleImage, roles_of
from imagelab.engine import registry
from imagelab.errors import ConfigError


@dataclass
class RoleCheck:
    role: str
    ref: str
    recorded: str  # the digest the baseline's images were built on ("" when it recorded none)
    current: str  # what the reference resolves to now ("" when it could not be resolved)
    error: str = ""
    cells: list[str] = field(default_factory=list)  # app/variant cells that build on the role

    @property
    def moved(self) -> bool:
        return bool(self.recorded and self.current and self.recorded != self.current)


@dataclass
class CheckResult:
    base_set: str
    path: str
    baseline: str
    seconds: float
    roles: list[RoleCheck]

    @property
    def moved(self) -> list[RoleCheck]:
        return [r for r in self.roles if r.moved]

    @property
    def failed(self) -> list[RoleCheck]:
        return [r for r in self.roles if r.error]

    def to_json(self) -> dict:
        data = asdict(self)
        data["moved"] = [r.role for r in self.moved]
        for entry, role in zip(data["roles"], self.roles, strict=True):
            entry["moved"] = role.moved
        return data


def recorded_digests(baseline: Path) -> tuple[str, dict[str, str]]:
    """The base set a baseline report measured, and image name -> the digest its images were built on."""
    try:
        report = json.loads(baseline.read_text())
    except OSError as exc:
        raise ConfigError(f"cannot read the baseline {baseline}: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(f"the baseline {baseline} is not JSON: {exc}") from exc
    found: dict[str, str] = {}
    for image in report.get("images") or ():
        for base in image.get("base_images") or ():
            ref, digest = base.get("ref", ""), base.get("digest", "")
            match = REFERENCE.match(ref)
            if match and (digest or match["digest"]):
                found[match["name"]] = digest or match["digest"]
    return str(report.get("base_set", "")), found


def check(base_set: BaseSet, baseline: Path | None, dockerfiles: dict[str, Path]) -> CheckResult:
    """Resolve every role of `base_set` now and compare with the baseline's digests; `dockerfiles`
    (cell name -> its Dockerfile) says which cells each role is under."""
    started = time.monotonic()
    baseline_set, recorded = recorded_digests(baseline) if baseline else ("", {})
    if baseline and baseline_set and baseline_set != base_set.name:
        raise ConfigError(
            f"the baseline {baseline} measured the {baseline_set!r} base set, not {base_set.name!r}",
            hint=f"check that set: --bases {baseline_set}",
        )
    if any(image.local_repository for image in base_set.images):
        registry.ensure_registry()
    users = {
        image.role: [
            name for name, dockerfile in dockerfiles.items() if image.role in roles_of(dockerfile, base_set)
        ]
        for image in base_set.images
    }
    with ThreadPoolExecutor(max_workers=RESOLVE_THREADS) as pool:
        checks = list(pool.map(lambda image: _check(image, recorded, users[image.role]), base_set.images))
    return CheckResult(
        base_set.name, str(base_set.path), str(baseline or ""), time.monotonic() - started, checks
    )


def _check(image: RoleImage, recorded: dict[str, str], cells: list[str]) -> RoleCheck:
    result = RoleCheck(image.role, image.ref, recorded.get(image.name, ""), "", cells=cells)
    try:
        result.current = registry.remote_digest(f"{image.name}@{image.pin}" if image.pin else image.ref)
    except registry.RegistryError as exc:
        result.error = exc.cause
    return result


def summary(result: CheckResult) -> list[str]:
    """One line per moved or unresolved role (with the cells that use it), then the count."""
    lines = []
    for role in result.roles:
        if role.error:
            lines.append(
                f"FAIL {result.path.rsplit('/', 1)[-1]}: role {role.role} ({role.ref}): {role.error}"
            )
        elif role.moved:
            lines.append(f"MOVED {role.role} {role.ref}: {short(role.recorded)} -> {short(role.current)}")
            lines.append(f"  used by {', '.join(role.cells) or 'no cell'}")
    unrecorded = [r.role for r in result.roles if not r.recorded and not r.error]
    steady = len(result.roles) - len(result.moved) - len(result.failed) - len(unrecorded)
    lines.append(
        f"base set {result.base_set}: {len(result.roles)} roles resolved in {result.seconds:.1f} s; "
        f"{len(result.moved)} moved, {steady} unchanged"
        + (
            f", {len(unrecorded)} with no digest in the baseline ({', '.join(unrecorded)})"
            if unrecorded
            else ""
        )
        + (f" (baseline {result.baseline})" if result.baseline else " (no baseline: digests only)")
    )
    return lines


def short(digest: str) -> str:
    """sha256:0123456789ab, as `docker images --digests` readers know it."""
    return digest[:19] if digest else "-"
