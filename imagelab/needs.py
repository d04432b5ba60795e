"""The oldest engine a Dockerfile needs, as its header says, and whether the engine at hand has it.

No `# syntax=` line is used (it pulls a frontend image from a registry): each file is read by the
Dockerfile frontend built into the engine's BuildKit, so a newer instruction needs a newer engine. Each
Dockerfile says which in its header comment, in a line the harness reads:

    # Needs: Docker Engine 23.0 (BuildKit 0.10), for COPY --link.

The check is made on the engine's version, not BuildKit's: the engine always reports its version,
while Debian's builds report BuildKit as v0.0.0. FEATURES records where each feature the Dockerfiles
use came in, so a test holds every header to what its file uses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from imagelab import dockerfile

NEEDS = re.compile(
    r"^#\s*Needs:\s*Docker Engine\s+(?P<engine>\d+\.\d+)\s*\(BuildKit\s+(?P<buildkit>\d+\.\d+)\)",
    re.MULTILINE,
)
#: The engine releases the Needs lines name, by the Engine API version they answer with: an engine
#: built from source may report no release number ("library-import"), but always its API version.
ENGINE_API = {(20, 10): (1, 41), (23, 0): (1, 42), (27, 0): (1, 46)}
#: The oldest engine imagelab builds on: what a Dockerfile that uses nothing newer says it needs.
#: Measured, not guessed: Debian 12's 20.10 (BuildKit 0.8) with buildx 0.13 passes every matrix cell
#: whose Dockerfiles ask for nothing newer (results/engines.md); nothing older reaches this machine.
FLOOR = ((20, 10), "0.8")
#: The oldest buildx plugin measured working: 0.13, Debian 13's, on 20.10 and on 26.1.
OLDEST_BUILDX = (0, 13)


@dataclass(frozen=True)
class Need:
    engine: tuple[int, int]
    buildkit: str

    def describe(self) -> str:
        return f"Docker Engine {self.engine[0]}.{self.engine[1]} (BuildKit {self.buildkit})"


@dataclass(frozen=True)
class Feature:
    """A Dockerfile feature newer than the oldest engine, how to spot it, and where it came in: the
    Dockerfile frontend built into that BuildKit, and the first Docker Engine release that carries it
    (moby's vendored BuildKit: 20.10 has v0.8, 23.0 v0.10, 27.0 v0.14)."""

    name: str
    pattern: re.Pattern
    engine: tuple[int, int]
    buildkit: str


FEATURES = (
    # Dockerfile 1.2; on Docker 19.03 it took `# syntax=docker/dockerfile:experimental`.
    Feature("RUN --mount", re.compile(r"^RUN\s.*--mount=", re.IGNORECASE), (20, 10), "0.8"),
    # Dockerfile 1.4, both.
    Feature("COPY --link", re.compile(r"^(COPY|ADD)\s.*--link\b", re.IGNORECASE), (23, 0), "0.10"),
    Feature("heredoc", re.compile(r"<<-?[\"']?[A-Za-z_]\w*[\"']?"), (23, 0), "0.10"),
)
# Build checks (`# check=`, Dockerfile 1.8, Docker 27.0) raise no Needs line: an older frontend reads
# the directive as a comment, and `docker buildx build --check` is the lint's business (checks/lint.py).


def instructions(text: str) -> list[str]:
    """The Dockerfile's instruction lines, comments, blank lines and heredoc bodies left out
    (continuations unjoined: a feature is spotted on the line that starts its instruction)."""
    lines = dockerfile.without_heredocs(text).splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def features(text: str) -> list[Feature]:
    """The features of FEATURES that the Dockerfile's instructions use."""
    lines = instructions(text)
    return [f for f in FEATURES if any(f.pattern.search(line) for line in lines)]


def oldest_engine(text: str) -> Need:
    """The oldest engine that builds the Dockerfile, from the features it uses: what its header must say."""
    engine, buildkit = max([FLOOR, *((f.engine, f.buildkit) for f in features(text))])
    return Need(engine, buildkit)


def _pair(text: str) -> tuple[int, int]:
    major, minor = text.split(".")[:2]
    return int(major), int(minor)


def need(dockerfile: Path) -> Need | None:
    """The engine the Dockerfile's header asks for; None when it names none (a user's own Dockerfile
    need not: the build then says what its engine lacks)."""
    header = []
    for line in dockerfile.read_text().splitlines():
        if not line.startswith("#"):
            break
        header.append(line)
    found = NEEDS.search("\n".join(header))
    return Need(_pair(found["engine"]), found["buildkit"]) if found else None


def engine_release(version: str) -> tuple[int, int] | None:
    """The engine's release as (major, minor), from `docker version`'s Version ("28.5.2+dfsg4"); None
    when it names no release (an engine built from source), then the API version decides. Docker's
    release numbers start at 17.03; a smaller one is a module version (moby's "2.0.0-beta.24"), no release."""
    found = re.match(r"v?(\d+)\.(\d+)", version)
    return (int(found[1]), int(found[2])) if found and int(found[1]) >= 17 else None


def enough(wanted: Need, version: str, api: str) -> bool | None:
    """Whether the engine (its Version and ApiVersion) is at least the one wanted; None when it cannot be
    told (no release number, and no API version known for the release wanted)."""
    release = engine_release(version)
    if release is not None:
        return release >= wanted.engine
    if wanted.engine in ENGINE_API:
        return _pair(api) >= ENGINE_API[wanted.engine]
    return None


def unmet(dockerfile: Path, version: str, api: str) -> str:
    """Why the engine (its Version and ApiVersion) cannot build the Dockerfile, in one line; "" if it can
    (or cannot be told: the build then says what the engine lacks)."""
    wanted = need(dockerfile)
    if wanted is None or enough(wanted, version, api) is not False:
        return ""
    return f"needs {wanted.describe()}; this engine is Docker {version} (API {api})"


def within_engine(variants: list, version: str, api: str) -> tuple[list, list[str]]:
    """The images (apps.Variant) this engine can build, and one line for each it cannot."""
    kept, left_out = [], []
    for variant in variants:
        why = unmet(variant.app.dockerfile(variant.name), version, api)
        if why:
            left_out.append(f"{variant.app.name}/{variant.name}: {why}: left out")
        else:
            kept.append(variant)
    return kept, left_out


def unsupported(version: str, api: str, buildx: str) -> str:
    """Why imagelab refuses this engine (its Version, ApiVersion and buildx version), in one line naming
    the version found and the one needed; "" when it is supported (or its age cannot be told)."""
    floor = Need(*FLOOR)
    if enough(floor, version, api) is False:
        return (
            f"this engine is Docker {version} (API {api}); imagelab needs {floor.describe()} or newer "
            f"(API {'.'.join(map(str, ENGINE_API[floor.engine]))})"
        )
    found = re.match(r"v?(\d+)\.(\d+)", buildx)
    if found and (int(found[1]), int(found[2])) < OLDEST_BUILDX:
        wanted = ".".join(map(str, OLDEST_BUILDX))
        return f"this docker CLI has buildx {buildx}; imagelab needs buildx {wanted} or newer"
    return ""
