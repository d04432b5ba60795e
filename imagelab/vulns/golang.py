"""Known vulnerabilities of Go programs: the Go vulnerability database as a Go module, read by govulncheck.

- The database: module `golang.org/x/vulndb` holds every entry as an OSV file under `data/osv/`. It is
  fetched with `go mod download` (through the Go module proxy, like any module), once a run, and kept by
  module version; its date is the version's time. govulncheck reads a local database laid out as the
  public one is (`ID/<id>.json`, `index/db.json`, `index/modules.json`), so the entries are copied to
  `ID/` and the two index files written beside them.
- govulncheck: `golang.org/x/vuln/cmd/govulncheck` at a pinned version, built once with `go install`
  into a folder of its own. `-mode binary` reads the module versions and the Go version a program was
  built with from its build info, and the symbols it holds: no source needed.

With no network the newest database kept on disk is used, and says so; with none, or without a Go
toolchain to build govulncheck, there is no Go data, and reports say "no data".
"""

from __future__ import annotations

import json
import operator
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from imagelab import process
from imagelab.vulns.findings import DataDate, GoFinding

VULNDB_MODULE = "golang.org/x/vulndb"
GOVULNCHECK_MODULE = "golang.org/x/vuln"
GOVULNCHECK_VERSION = "v1.9.0"  # pinned: the instrument should not move under the measurements
GO_FALLBACK = Path("/usr/local/go/bin/go")  # where the official Go distribution installs
DOWNLOAD_TIMEOUT_S = 300  # the database module is a 25 MB zip
BUILD_TIMEOUT_S = 600  # govulncheck from source on 2 cores: about a minute
SCAN_TIMEOUT_S = 300


class GoDataError(Exception):
    """The Go data could not be had: no toolchain, no database, or govulncheck failed."""


@dataclass(frozen=True)
class VulnDB:
    """A local copy of the database at one module version."""

    version: str  # "v0.0.0-20261105234957-e22db6528018"
    date: datetime
    folder: Path  # holds ID/ and index/: what `-db file://` is given
    offline: bool = False

    @property
    def data_date(self) -> DataDate:
        return DataDate(f"{VULNDB_MODULE}@{self.version}", self.date, self.offline)


def go_command() -> str | None:
    """The go command: on PATH, else the official distribution's usual place; None without one."""
    found = shutil.which("go")
    if found:
        return found
    return str(GO_FALLBACK) if GO_FALLBACK.exists() else None


class GoVulns:
    """The database and govulncheck of one run: each got at most once."""

    def __init__(self, cache_dir: Path, offline: bool = False, go: str | None = None) -> None:
        self.folder = cache_dir / "go"
        self.offline = offline
        self.go = go or go_command()
        self.errors: list[str] = []  # why Go data is missing or old, for the report
        self._db: VulnDB | None = None
        self._db_tried = False
        self._tool: Path | None = None

    # -- the database ---------------------------------------------------------------------------

    def database(self) -> VulnDB | None:
        """The newest database: downloaded (or found current) once a run, else the newest kept one."""
        if not self._db_tried:
            self._db_tried = True
            try:
                self._db = self._download()
            except (GoDataError, process.ProcessError, OSError, ValueError) as exc:
                self.errors.append(f"{VULNDB_MODULE}: {_reason(exc)}")
                self._db = self._newest_kept()
        return self._db

    def _download(self) -> VulnDB:
        if self.offline:
            raise GoDataError("offline: not downloaded")
        if self.go is None:
            raise GoDataError("no go command to download it with")
        done = process.run(
            [self.go, "mod", "download", "-json", f"{VULNDB_MODULE}@latest"],
            timeout=DOWNLOAD_TIMEOUT_S,
            what=f"go mod download {VULNDB_MODULE}",
            cwd=self._outside_any_module(),
            env=_go_env(),
            check=False,
        )
        info = json.loads(done.stdout or "{}")
        if not done.ok or info.get("Error"):
            raise GoDataError(info.get("Error") or done.stderr.strip() or f"go exited {done.exit_code}")
        version = info["Version"]
        date = datetime.fromisoformat(json.loads(Path(info["Info"]).read_text())["Time"]).astimezone(UTC)
        folder = self.folder / "vulndb" / version
        if not (folder / "index" / "modules.json").exists():
            write_database(Path(info["Dir"]) / "data" / "osv", folder, date)
        (folder / "date").write_text(date.isoformat())
        return VulnDB(version, date, folder)

    def _newest_kept(self) -> VulnDB | None:
        kept = sorted(
            (f for f in (self.folder / "vulndb").glob("*") if (f / "index" / "modules.json").exists()),
            key=lambda f: (f / "date").read_text() if (f / "date").exists() else "",
        )
        if not kept:
            return None
        date = datetime.fromisoformat((kept[-1] / "date").read_text().strip())
        return VulnDB(kept[-1].name, date, kept[-1], offline=True)

    def _outside_any_module(self) -> Path:
        """A folder with no go.mod above it: `go mod download` there asks only about the module named."""
        work = self.folder / "work"
        work.mkdir(parents=True, exist_ok=True)
        return work

    # -- govulncheck ----------------------------------------------------------------------------

    def govulncheck(self) -> Path:
        """The pinned govulncheck, built once into a folder of its own."""
        if self._tool is not None:
            return self._tool
        tool_dir = self.folder / "bin" / GOVULNCHECK_VERSION
        tool = tool_dir / "govulncheck"
        if not tool.exists():
            if self.go is None:
                raise GoDataError("no go command to build govulncheck with")
            if self.offline:
                raise GoDataError("offline, and govulncheck was never built")
            process.run(
                [self.go, "install", f"{GOVULNCHECK_MODULE}/cmd/govulncheck@{GOVULNCHECK_VERSION}"],
                timeout=BUILD_TIMEOUT_S,
                what=f"go install govulncheck@{GOVULNCHECK_VERSION}",
                cwd=self._outside_any_module(),
                env={**_go_env(), "GOBIN": str(tool_dir)},
            )
        self._tool = tool
        return tool

    def scan_binary(self, binary: Path, name: str = "") -> list[GoFinding]:
        """What govulncheck finds in one Go program (`name`: its path in the image, for the report)."""
        db = self.database()
        if db is None:
            raise GoDataError("no Go vulnerability database")
        done = process.run(
            [
                str(self.govulncheck()),
                "-mode",
                "binary",
                "-db",
                db.folder.resolve().as_uri(),
                "-format",
                "json",
                str(binary),
            ],
            timeout=SCAN_TIMEOUT_S,
            what=f"govulncheck {name or binary.name}",
            env=_go_env(),
        )
        return parse_govulncheck(done.stdout, name or str(binary))


def write_database(osv_dir: Path, folder: Path, date: datetime) -> int:
    """Lay out the OSV files of `osv_dir` as a database govulncheck reads; the number of entries.

    `index/modules.json` lists, per module, the entries that name it. Its optional `fixed` field lets a
    client skip entries whose fix is older than the version it checks; it is left out, so every entry of
    a module is read and judged by its full ranges (a little slower, never wrong). Most entries of the
    module have a zero `modified` time, so the database's own date is at least the module version's."""
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    (partial / "ID").mkdir(parents=True)
    (partial / "index").mkdir()
    modules: dict[str, list[dict[str, str]]] = {}
    newest = date
    count = 0
    for path in sorted(osv_dir.glob("*.json")):
        entry = json.loads(path.read_bytes())
        shutil.copyfile(path, partial / "ID" / f"{entry['id']}.json")
        count += 1
        modified = entry.get("modified", "0001-01-01T00:00:00Z")
        newest = max(newest, _time(modified))
        for affected in entry.get("affected", []):
            module = affected.get("package", {}).get("name", "")
            if module:
                modules.setdefault(module, []).append({"id": entry["id"], "modified": modified})
    index: list[dict[str, object]] = [
        {"path": name, "vulns": sorted(found, key=operator.itemgetter("id"))}
        for name, found in sorted(modules.items())
    ]
    (partial / "index" / "modules.json").write_text(json.dumps(index))
    (partial / "index" / "db.json").write_text(
        json.dumps({"modified": newest.strftime("%Y-%m-%dT%H:%M:%SZ")})
    )
    shutil.rmtree(folder, ignore_errors=True)
    partial.replace(folder)
    return count


def parse_govulncheck(output: str, binary: str) -> list[GoFinding]:
    """govulncheck's JSON stream (one object after another) as findings, one per ID and module."""
    aliases: dict[str, tuple[str, ...]] = {}
    found: dict[tuple[str, str], GoFinding] = {}
    for message in _json_stream(output):
        if "osv" in message and isinstance(message["osv"], dict):
            entry = message["osv"]
            aliases[entry["id"]] = tuple(sorted(entry.get("aliases", [])))
        finding = message.get("finding")
        if not finding or not finding.get("trace"):
            continue
        frame = finding["trace"][0]
        key = (finding["osv"], frame.get("module", ""))
        called = bool(frame.get("function"))
        old = found.get(key)
        if old is None or (called and not old.called):
            found[key] = GoFinding(
                finding["osv"],
                binary,
                frame.get("module", ""),
                frame.get("version", ""),
                finding.get("fixed_version", ""),
                called=called,
            )
    return sorted(
        (
            GoFinding(f.id, f.binary, f.module, f.installed, f.fixed, aliases.get(f.id, ()), f.called)
            for f in found.values()
        ),
        key=lambda f: (f.id, f.module),
    )


def _json_stream(text: str) -> Iterator[dict]:
    decoder = json.JSONDecoder()
    at = 0
    while True:
        while at < len(text) and text[at].isspace():
            at += 1
        if at >= len(text):
            return
        value, at = decoder.raw_decode(text, at)
        if isinstance(value, dict):
            yield value


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _go_env() -> dict[str, str]:
    """The caller's environment, minus what would make a download or build depend on where it runs."""
    env = {key: value for key, value in os.environ.items() if key not in ("GOFLAGS", "GOWORK")}
    env["GOTOOLCHAIN"] = env.get("GOTOOLCHAIN", "local")  # never fetch another toolchain behind our back
    return env


def _reason(exc: BaseException) -> str:
    cause = getattr(exc, "cause", None)
    return cause or str(exc) or type(exc).__name__
