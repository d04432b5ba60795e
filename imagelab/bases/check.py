"""`bases --check`: has a base moved? Every role's reference resolved in its registry (no pull), compared
with the digests a baseline report recorded, and the app x variant cells that build on each moved role.

A new digest is not always a move. A local stand-in made again on a fresh machine from the same package
versions has a new digest where its files carry other times; its labels record what it is made from
(bases/inputs.py), and the baseline records the same for the image it measured. Each role gets one
verdict:
- unchanged: the same digest;
- rebuilt: another digest, the same inputs (does not fail the check);
- moved: another digest and other inputs, or inputs that cannot be compared (fails the check);
- not built here yet: a stand-in this machine has not made (compare builds only the roles its apps use);
- failed: the reference could not be resolved (fails the check).

The loop it starts: a scheduled CI job runs it, exits 1 when a base moved, and the next step rebuilds
every cell on both digests and says what changed.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from imagelab.bases import inputs
from imagelab.bases.resolution import RESOLVE_THREADS
from imagelab.bases.sets import REFERENCE, BaseSet, RoleImage, roles_of
from imagelab.engine import registry
from imagelab.errors import ConfigError

UNCHANGED, REBUILT, MOVED, NOT_BUILT, FAILED, UNRECORDED = (
    "unchanged",
    "rebuilt",
    "moved",
    "not built here yet",
    "failed",
    "not in the baseline",
)
#: What a registry says of a tag or repository nobody pushed: for a stand-in, this machine has not made it.
NEVER_PUSHED = ("manifest unknown", "name unknown")


@dataclass
class RoleCheck:
    role: str
    ref: str
    recorded: str  # the digest the baseline's images were built on ("" when it recorded none)
    current: str  # what the reference resolves to now ("" when it could not be resolved)
    error: str = ""
    cells: list[str] = field(default_factory=list)  # app/variant cells that build on the role
    verdict: str = ""
    reason: str = ""  # why that verdict, in a few words (which inputs differ, the command that builds it)

    @property
    def moved(self) -> bool:
        return self.verdict == MOVED


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
        return [r for r in self.roles if r.verdict == FAILED]

    def having(self, verdict: str) -> list[RoleCheck]:
        return [r for r in self.roles if r.verdict == verdict]

    def to_json(self) -> dict:
        data = asdict(self)
        data["moved"] = [r.role for r in self.moved]
        data["rebuilt"] = [r.role for r in self.having(REBUILT)]
        data["not_built"] = [r.role for r in self.having(NOT_BUILT)]
        for entry, role in zip(data["roles"], self.roles, strict=True):
            entry["moved"] = role.moved
        return data


@dataclass(frozen=True)
class Recorded:
    """What a baseline says one base image was: its digest and, for a stand-in, its inputs."""

    digest: str
    inputs: dict[str, str] = field(default_factory=dict)


def recorded_digests(baseline: Path) -> tuple[str, dict[str, Recorded]]:
    """The base set a baseline report measured, and image name -> the digest its images were built on
    (with the inputs a stand-in recorded, where the report has them)."""
    try:
        report = json.loads(baseline.read_text())
    except OSError as exc:
        raise ConfigError(f"cannot read the baseline {baseline}: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(f"the baseline {baseline} is not JSON: {exc}") from exc
    found: dict[str, Recorded] = {}
    for image in report.get("images") or ():
        for base in image.get("base_images") or ():
            ref, digest = base.get("ref", ""), base.get("digest", "")
            match = REFERENCE.match(ref)
            if match and (digest or match["digest"]):
                found[match["name"]] = Recorded(digest or match["digest"], dict(base.get("inputs") or {}))
    return str(report.get("base_set", "")), found


def check(
    base_set: BaseSet, baseline: Path | None, dockerfiles: dict[str, Path], set_argument: str = ""
) -> CheckResult:
    """Resolve every role of `base_set` now and compare with the baseline's digests; `dockerfiles`
    (cell name -> its Dockerfile) says which cells each role is under; `set_argument`: how the user
    named the set (--bases), for the command that builds a missing stand-in."""
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
        checks = list(
            pool.map(
                lambda image: _check(image, recorded, users[image.role], set_argument or base_set.name),
                base_set.images,
            )
        )
    return CheckResult(
        base_set.name, str(base_set.path), str(baseline or ""), time.monotonic() - started, checks
    )


def _check(image: RoleImage, recorded: dict[str, Recorded], cells: list[str], set_argument: str) -> RoleCheck:
    known = recorded.get(image.name, Recorded(""))
    result = RoleCheck(image.role, image.ref, known.digest, "", cells=cells)
    current = f"{image.name}@{image.pin}" if image.pin else image.ref
    try:
        result.current = registry.remote_digest(current)
    except registry.RegistryError as exc:
        result.error = exc.cause
        if image.local_repository and not image.pin and any(s in exc.cause for s in NEVER_PUSHED):
            # compare builds and pushes only the roles its apps use: no run has made this one yet
            result.verdict = NOT_BUILT
            result.reason = f"nox -s bases -- --bases {set_argument} --role {image.role}"
        else:
            result.verdict = FAILED
        return result
    if not result.recorded:
        result.verdict = UNRECORDED
    elif result.recorded == result.current:
        result.verdict = UNCHANGED
    else:
        result.verdict, result.reason = verdict(
            known.inputs or _labelled_inputs(f"{image.name}@{known.digest}"),
            _labelled_inputs(f"{image.name}@{result.current}"),
        )
    return result


def _labelled_inputs(ref: str) -> dict[str, str]:
    """The inputs an image in a registry records in its labels ({} when it is not there, or has none)."""
    try:
        return inputs.of_labels(registry.remote_labels(ref))
    except registry.RegistryError:
        return {}


def verdict(recorded: dict[str, str], current: dict[str, str]) -> tuple[str, str]:
    """For a role whose digest changed, from the inputs recorded then and now: REBUILT or MOVED, and why."""
    compared = inputs.compare(recorded, current)
    old, new = compared.archive
    # The archive's dates move without any package moving (a suite re-signed): shown, never decisive.
    archive = f"; archive {old or '?'} -> {new or '?'}" if old != new else ""
    if compared.differing:
        return MOVED, f"other {' and '.join(compared.differing)}{archive}"
    if compared.unknown:
        side = "the baseline" if not all(recorded.get(n) for n in compared.unknown) else "the image now"
        return MOVED, f"{side} records no {' or '.join(compared.unknown)}: cannot tell a rebuild from a move"
    return REBUILT, f"same packages and recipe ({short(current[inputs.PACKAGES])}){archive}"


def summary(result: CheckResult) -> list[str]:
    """One line per role that is not unchanged (moved and failed ones first, with the cells that use a
    moved one), then the count of each verdict."""
    lines = []
    for role in result.failed:
        lines.append(f"FAIL {result.path.rsplit('/', 1)[-1]}: role {role.role} ({role.ref}): {role.error}")
    for role in result.moved:
        lines.append(
            f"MOVED {role.role} {role.ref}: {short(role.recorded)} -> {short(role.current)} ({role.reason})"
        )
        lines.append(f"  used by {', '.join(role.cells) or 'no cell'}")
    for role in result.having(REBUILT):
        lines.append(
            f"REBUILT {role.role} {role.ref}: {short(role.recorded)} -> {short(role.current)} ({role.reason})"
        )
    for role in result.having(NOT_BUILT):
        lines.append(f"NOT BUILT HERE YET {role.role} {role.ref}: build it with `{role.reason}`")
    counts = ", ".join(
        f"{len(result.having(v))} {v}"
        for v in (MOVED, REBUILT, UNCHANGED, NOT_BUILT, FAILED)
        if result.having(v)
    )
    unrecorded = [r.role for r in result.having(UNRECORDED)]
    lines.append(
        f"base set {result.base_set}: {len(result.roles)} roles resolved in {result.seconds:.1f} s; "
        f"{counts or 'nothing to compare'}"
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
