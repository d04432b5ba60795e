"""One image's vulnerability findings: its Debian packages against the archive's fixes, its Go programs
against the Go vulnerability database, each figure with its data's date.

A `Scanner` holds one run's data: the indexes, the changelogs and the Go database are fetched at most
once however many images it scans. It reads an image through the same interface the rest of inspect/
reads one (`imagefs.ImageFS`, or `rootfs.RootFS` for an unpacked folder): nothing in the image runs.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Protocol

from imagelab import process
from imagelab.inspect import dpkg, exposure, imagefs
from imagelab.inspect.imagefs import Entry
from imagelab.vulns import debian, support
from imagelab.vulns.archive import CACHE_DIR, Archive
from imagelab.vulns.changelog import Changelogs
from imagelab.vulns.findings import Findings, GoFinding
from imagelab.vulns.golang import GOVULNCHECK_VERSION, GoDataError, GoVulns

OS_RELEASE = ("/etc/os-release", "/usr/lib/os-release")
DEBIAN_VERSION = "/etc/debian_version"


class ImageFiles(Protocol):
    """What the scan reads of an image: its merged file system, by absolute path."""

    @property
    def entries(self) -> Mapping[str, Entry]: ...

    def read(self, path: str, limit: int = -1) -> bytes: ...

    def listdir(self, path: str) -> list[str]: ...

    def resolve(self, path: str) -> Entry | None: ...


class Scanner:
    """The data of one run, fetched once, and the scan of any number of images with it."""

    def __init__(
        self,
        cache_dir: Path = CACHE_DIR,
        offline: bool = False,
        archive: Archive | None = None,
        go: GoVulns | None = None,
    ) -> None:
        self.cache_dir = cache_dir
        self.archive = archive or Archive(cache_dir, offline=offline)
        self.changelogs = Changelogs(cache_dir, self.archive.fetch)
        self.go = go or GoVulns(cache_dir, offline=offline)
        self.support = support.SupportLists(self.archive, cache_dir)
        # compare measures two images at once: the data is fetched, and its files written, by one scan
        # at a time (a scan is mostly Python reading what is already in memory).
        self._lock = threading.RLock()
        self._bases: dict[tuple[str, ...], Findings] = {}

    def scan(self, image: ImageFiles) -> Findings:
        with self._lock:
            return self._scan(image)

    def scan_base(self, image: imagefs.ImageFS, count: int) -> Findings | None:
        """The findings of a saved image's first `count` layers: its base image's files, as the base
        left them. Each list of layers is scanned once a run (slim and multistage of an app share one).
        None for an image FROM scratch."""
        if count <= 0:
            return None
        layers = tuple(layer.diff_id for layer in image.layers[:count])
        with self._lock:
            if layers not in self._bases:
                with imagefs.open_archive(image.archive, layers=count) as base:
                    self._bases[layers] = self._scan(base)
            return self._bases[layers]

    def _scan(self, image: ImageFiles) -> Findings:
        findings = Findings()
        records = dpkg.installed_records(_record_files(image))
        findings.packages = len(records)
        if records:
            findings.release = debian.release(
                _read_text(image, *OS_RELEASE), _read_text(image, DEBIAN_VERSION)
            )
            if not findings.release:
                findings.notes.append("Debian packages, but no Debian release named in /etc/os-release")
            else:
                fixes, dates, notes = debian.scan(records, findings.release, self.archive, self.changelogs)
                findings.os_fixes, findings.os_data = fixes, dates
                findings.notes += notes
                self._scan_support(records, findings)
        self._scan_go(image, findings)
        return findings

    def _scan_support(self, records: Mapping[str, dpkg.Record], findings: Findings) -> None:
        lists = self.support.rules(findings.release)
        findings.notes += [error for error in self.support.errors if findings.release in error]
        if lists is not None:
            rules, findings.support_data = lists
            findings.support = support.limits(debian.installed(records), rules)

    def _scan_go(self, image: ImageFiles, findings: Findings) -> None:
        binaries = exposure.go_binaries(image)  # type: ignore[arg-type]  # ImageFS or RootFS
        findings.go_binaries = [path for path, _ in binaries]
        if not binaries:
            return
        db = self.go.database()
        findings.notes += self.go.errors
        if db is None:
            return
        for path, _ in binaries:
            try:
                findings.go += self._scan_binary(image.read(path), path, db.version)
            except (GoDataError, process.ProcessError, OSError) as exc:
                findings.notes.append(f"{path}: govulncheck failed: {getattr(exc, 'cause', exc)}")
                return  # no Go data for this image: a partial count would read as a real one
        findings.go_data = db.data_date

    def _scan_binary(self, binary: bytes, path: str, db_version: str) -> list[GoFinding]:
        """govulncheck on one program, its result kept by the program's content and the database version
        (the same binary in 15 images, or in the next run, is scanned once)."""
        digest = hashlib.sha256(binary).hexdigest()
        kept = self.cache_dir / "go" / "results" / f"{GOVULNCHECK_VERSION}_{db_version}" / f"{digest}.json"
        if kept.exists():
            return [
                GoFinding(**{**item, "binary": path, "aliases": tuple(item["aliases"])})
                for item in json.loads(kept.read_text())
            ]
        with tempfile.TemporaryDirectory(prefix="imagelab-govulncheck-") as tmp:
            program = Path(tmp) / "program"
            program.write_bytes(binary)
            found = self.go.scan_binary(program, path)
        kept.parent.mkdir(parents=True, exist_ok=True)
        kept.write_text(json.dumps([asdict(finding) for finding in found]))
        return found


def scan(image: ImageFiles, scanner: Scanner | None = None) -> Findings:
    """The findings of one image; pass one Scanner to scan many images on one run's data."""
    return (scanner or Scanner()).scan(image)


def _record_files(image: ImageFiles) -> dict[str, bytes]:
    """dpkg's status file and distroless' status.d/ files, by path."""
    files = {}
    entry = image.resolve(dpkg.STATUS)
    if entry is not None and entry.kind == "file":
        files[dpkg.STATUS] = image.read(dpkg.STATUS)
    for path in image.listdir(dpkg.STATUS_D):
        if image.entries[path].kind == "file":
            files[path] = image.read(path)
    return files


def _read_text(image: ImageFiles, *paths: str) -> str:
    for path in paths:
        try:
            return image.read(path).decode("utf-8", "replace")
        except FileNotFoundError:
            continue
    return ""
