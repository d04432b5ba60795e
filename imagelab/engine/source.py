"""Docker Engine 29 and the runc it needs, built from their Go modules: no package of them reaches us.

moby's own module (`github.com/moby/moby/v2`) holds dockerd; `go install` refuses it (its go.mod has
replace directives), so the module is downloaded, copied somewhere writable and built there. Debian 12's
runc 1.1.5 cannot start Docker 29's containers (it knows no time namespace), so runc is built too, with
cgo and the `seccomp` tag (without it every container start fails: "seccomp not supported").

About 3.5 minutes on 2 cores the first time; the binaries are kept, so the next start costs nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from imagelab import apt, process
from imagelab.errors import EngineError


@dataclass(frozen=True)
class GoProgram:
    module: str
    version: str
    package: str  # inside the module
    output: str
    tags: str = ""
    ldflags: str = ""


MOBY_VERSION = "v2.0.0-beta.24"  # Docker Engine 29: API 1.56, BuildKit v0.33.0 inside
PROGRAMS = (
    GoProgram(
        "github.com/moby/moby/v2",
        MOBY_VERSION,
        "./cmd/dockerd",
        "dockerd",
        # Built outside moby's release scripts it would call itself "library-import": name the module tag.
        ldflags=f"-X github.com/moby/moby/v2/dockerversion.Version={MOBY_VERSION.removeprefix('v')}-module",
    ),
    GoProgram("github.com/opencontainers/runc", "v1.5.3", ".", "runc", tags="seccomp"),
)
BUILD_TIMEOUT_S = 1200


def built(home: Path, log) -> Path:
    """The folder holding dockerd and runc built from their modules; built once, then reused."""
    folder = home / "source" / MOBY_VERSION
    record = folder / "versions.json"
    if record.exists() and all((folder / p.output).exists() for p in PROGRAMS):
        return folder
    go = shutil.which("go")
    if go is None:
        raise EngineError(
            "--engine source builds Docker Engine 29 from its Go module, and no go command is on PATH",
            hint="install Go 1.26 or later (https://go.dev/dl), or choose --engine forky",
        )
    # runc's seccomp support links libseccomp.
    apt.install_missing({"/usr/include/seccomp.h": "libseccomp-dev"}, log, "building runc with seccomp")
    folder.mkdir(parents=True, exist_ok=True)
    for program in PROGRAMS:
        log(f"building {program.output} from {program.module}@{program.version} (minutes, the first time)")
        _build(go, program, folder / program.output)
    record.write_text(json.dumps({p.module: p.version for p in PROGRAMS}, indent=2) + "\n")
    return folder


def _build(go: str, program: GoProgram, output: Path) -> None:
    what = f"{program.module}@{program.version}"
    done = process.run(
        [go, "mod", "download", "-json", what],
        timeout=600,
        what=f"go mod download {what}",
        hint="check that the Go module proxy answers",
    )
    source = Path(json.loads(done.stdout)["Dir"])
    with tempfile.TemporaryDirectory(prefix="imagelab-gobuild-") as tmp:
        work = Path(tmp) / "src"
        # The module cache is read-only; a build that writes go.sum or generated files needs a copy.
        shutil.copytree(source, work)
        for path in [work, *work.rglob("*")]:
            path.chmod(path.stat().st_mode | 0o200)
        command = [go, "build", "-o", str(output)]
        if program.tags:
            command += ["-tags", program.tags]
        if program.ldflags:
            command += ["-ldflags", program.ldflags]
        process.run(
            [*command, program.package],
            timeout=BUILD_TIMEOUT_S,
            what=f"go build {what}",
            hint="see the compiler's last lines above",
            cwd=work,
            env={**os.environ, "CGO_ENABLED": "1"},
        )
