"""The official Go distribution, as the Go module proxy serves it: module golang.org/toolchain.

`GOTOOLCHAIN=go1.27.3 go version` fetches a Go release this way; `go mod download` of the module does the
same without running it, and checks its sum against the checksum database as for any module. The module
holds the GOROOT tree of the release tarball (bin/, pkg/tool/, src/, VERSION), but the module cache keeps
it read-only and without execute bits, so it is copied once into DOWNLOADS with the modes a GOROOT has.
Offline, a release copied before is used as it is.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from imagelab import ROOT, process
from imagelab.errors import BuildError

TOOLCHAIN_MODULE = "golang.org/toolchain"
DOWNLOAD_TIMEOUT_S = 600  # a 76 MB zip through the proxy
#: Downloaded once, kept between runs (git ignores .imagelab/); shared with node.py's downloads.
DOWNLOADS = ROOT / ".imagelab" / "bases" / "downloads"
#: Where the official distribution installs itself: a host without go on PATH may still have it there.
GO_FALLBACK = Path("/usr/local/go/bin/go")
#: Go's names for the machines an image is built for.
GOARCH = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


@dataclass(frozen=True)
class GoRelease:
    """One Go release, unpacked as a GOROOT (bin/go, pkg/tool/..., src/, VERSION)."""

    version: str  # "1.27.3"
    goroot: Path


def module_version(version: str, machine: str | None = None) -> str:
    """The toolchain module's version of a Go release: v0.0.1-go1.27.3.linux-amd64."""
    machine = machine or platform.machine()
    if machine not in GOARCH:
        raise BuildError(
            f"no official Go distribution for this machine ({machine})",
            hint=f"the golang stand-in is built on {', '.join(sorted(set(GOARCH)))}",
        )
    return f"v0.0.1-go{version}.linux-{GOARCH[machine]}"


def go_release(version: str, log: Callable[[str], None]) -> GoRelease:
    """Go `version` as a GOROOT in DOWNLOADS: downloaded once, then reused (offline too)."""
    target = DOWNLOADS / f"go{version}.linux-{GOARCH.get(platform.machine(), platform.machine())}"
    if (target / "VERSION").is_file():
        return GoRelease(version, target)
    go = shutil.which("go") or (str(GO_FALLBACK) if GO_FALLBACK.exists() else None)
    if go is None:
        raise BuildError(
            f"the golang stand-in takes Go {version} from the Go module proxy, and no go command is on PATH",
            hint="install any Go from https://go.dev/dl (it downloads the release), or leave out --role golang",
        )
    module = f"{TOOLCHAIN_MODULE}@{module_version(version)}"
    log(f"downloading Go {version} ({module}) from the Go module proxy")
    DOWNLOADS.mkdir(parents=True, exist_ok=True)
    done = process.run(
        [go, "mod", "download", "-json", module],
        timeout=DOWNLOAD_TIMEOUT_S,
        what=f"go mod download {module}",
        hint="is the Go module proxy reachable (GOPROXY), and is the release one go.dev/dl lists?",
        cwd=DOWNLOADS,  # no go.mod above it: only the module named is asked about
        # GOFLAGS or GOWORK from the caller's shell must not change what is downloaded; GOTOOLCHAIN=local
        # keeps the go command from switching itself to another release first.
        env={
            **{k: v for k, v in os.environ.items() if k not in ("GOFLAGS", "GOWORK")},
            "GOTOOLCHAIN": "local",
        },
    )
    source = Path(json.loads(done.stdout)["Dir"])
    partial = DOWNLOADS / f".{target.name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    shutil.copytree(source, partial, symlinks=True)
    goroot_modes(partial)
    partial.rename(target)  # only a complete copy gets the final name
    return GoRelease(version, target)


def goroot_modes(goroot: Path) -> None:
    """The modes the release tarball has: everything writable by its owner and readable by all, the
    programs in bin/ and pkg/tool/<os_arch>/ executable (the module zip records no modes)."""
    for path in [goroot, *goroot.rglob("*")]:
        if path.is_symlink():
            continue
        program = (path.parent.name == "bin" and path.parent.parent == goroot) or (
            path.parent.parent.name == "tool" and path.parent.parent.parent.name == "pkg"
        )
        path.chmod(0o755 if path.is_dir() or program else 0o644)
