"""The CVE IDs a fixed Debian package names: read from `usr/share/doc/<pkg>/changelog.Debian.gz` inside
its .deb, between the installed version and the fixed one.

A Debian changelog is one entry per upload, newest first:

    expat (2.5.0-1+deb12u2) bookworm-security; urgency=medium

      * Fix CVE-2024-45490 ...

     -- Maintainer <address>  Thu, 05 Sep 2024 ...

The uploads after the installed version, up to the fixed one, are what an upgrade brings; the CVE IDs
they name are the ones it fixes. A changelog belongs to a source package, so it is fetched once per
source version, from the smallest binary of that version the index lists, and kept on disk.

A .deb is an `ar` archive: `debian-binary`, `control.tar.*`, `data.tar.*` (xz in Debian's archive).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import re
import tarfile
from dataclasses import dataclass
from pathlib import Path

from imagelab.vulns import debversion
from imagelab.vulns.archive import Binary

CVE = re.compile(r"\bCVE-\d{4}-\d{4,}\b")
#: "source (version) distribution(s); key=value": the first line of every entry.
HEADER = re.compile(r"^(?P<source>[a-z0-9][a-z0-9+.-]*) \((?P<version>[^)\s]+)\) [^;]*;", re.MULTILINE)
AR_MAGIC = b"!<arch>\n"
#: A binary over this size is not worth downloading for its changelog while a smaller one exists.
MAX_DEB_BYTES = 200 * 1024 * 1024
#: How many binaries of one source version to try before saying its changelog was not found.
MAX_TRIES = 3


@dataclass(frozen=True)
class Entry:
    """One upload: its version and the text of its entry (the header line included)."""

    version: str
    text: str

    @property
    def cves(self) -> list[str]:
        return sorted(set(CVE.findall(self.text)))


def parse(text: str) -> list[Entry]:
    """Every entry of a changelog, newest first, as written."""
    starts = list(HEADER.finditer(text))
    return [
        Entry(match["version"], text[match.start() : following.start() if following else len(text)])
        for match, following in zip(starts, [*starts[1:], None], strict=True)
    ]


def cves_between(entries: list[Entry], installed: str, fixed: str) -> list[str]:
    """The CVE IDs named by the uploads newer than `installed`, up to and including `fixed`."""
    found: set[str] = set()
    for entry in entries:
        try:
            if debversion.newer(entry.version, installed) and not debversion.newer(entry.version, fixed):
                found.update(entry.cves)
        except ValueError:  # an entry whose version dpkg would refuse: it says nothing we can order
            continue
    return sorted(found, key=_cve_order)


def _cve_order(cve: str) -> tuple[int, int]:
    _, year, number = cve.split("-")
    return int(year), int(number)


def from_deb(deb: bytes, package: str, native: bool = False) -> str | None:
    """The text of `usr/share/doc/<package>/changelog.Debian.gz` in a .deb, or None when it has none
    (a package whose doc folder is a symlink to another package's). A Debian-native package (a version
    with no revision, such as apt's) has no upstream beside Debian: its changelog is `changelog.gz`."""
    data = _ar_member(deb, "data.tar")
    if data is None:
        raise ValueError("not a .deb: no data.tar member")
    wanted = [f"usr/share/doc/{package}/changelog.Debian.gz"]
    if native:
        wanted.append(f"usr/share/doc/{package}/changelog.gz")
    found: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
        for member in tar:
            name = member.name.removeprefix("./")
            if member.isfile() and name in wanted and (stream := tar.extractfile(member)) is not None:
                found[name] = stream.read()
    for name in wanted:
        if name in found:
            return gzip.decompress(found[name]).decode("utf-8", "replace")
    return None


def _ar_member(archive: bytes, prefix: str) -> bytes | None:
    """The first member of an `ar` archive whose name starts with `prefix` (60-byte headers: name
    16, dates and modes 32, size 10 in decimal, then a 2-byte magic; members are padded to even sizes)."""
    if not archive.startswith(AR_MAGIC):
        raise ValueError("not an ar archive")
    at = len(AR_MAGIC)
    while at + 60 <= len(archive):
        header = archive[at : at + 60]
        name = header[:16].decode("ascii", "replace").strip().rstrip("/")
        size = int(header[48:58].decode("ascii").strip())
        body = at + 60
        if name.startswith(prefix):
            return archive[body : body + size]
        at = body + size + (size % 2)
    return None


class Changelogs:
    """Changelogs by source version, kept on disk: each fetched once, ever."""

    def __init__(self, cache_dir: Path, fetch) -> None:
        self.folder = cache_dir / "changelogs"
        self.fetch = fetch  # url -> bytes (the archive's bounded GET)
        self.errors: dict[str, str] = {}  # "source version" -> why its changelog is missing

    def entries(
        self, source: str, version: str, binaries: list[Binary], base_url: str, first: str = ""
    ) -> list[Entry] | None:
        """The changelog of `source` at `version`, from the first of its `binaries` (the package named
        `first`, then the smallest: documentation packages often link their doc folder to another's) in
        the archive at `base_url` whose .deb holds one; None when none could be fetched or holds one."""
        kept = self.folder / f"{source}_{version.replace(':', '%3a')}.changelog"
        if kept.exists():
            return parse(kept.read_text())
        why = "no binary of this version in the index"
        native = not debversion.parse(version).revision
        ordered = [b for b in binaries if b.name == first] + [b for b in binaries if b.name != first]
        for binary in ordered[:MAX_TRIES]:
            package, url, sha256 = binary.name, f"{base_url}/{binary.filename}", binary.sha256
            if binary.size > MAX_DEB_BYTES:
                why = f"{package} is {binary.size / 1e6:.0f} MB: not fetched for its changelog"
                continue
            try:
                deb = self.fetch(url)
            except OSError as exc:
                why = f"{url}: {exc}"
                continue
            if sha256 and hashlib.sha256(deb).hexdigest() != sha256:
                why = f"{url} does not match the index's SHA256"
                continue
            try:
                text = from_deb(deb, package, native)
            except (ValueError, tarfile.TarError, OSError) as exc:
                why = f"{url}: {exc}"
                continue
            if text is None:
                why = f"{package}'s .deb holds no changelog.Debian.gz"
                continue
            self.folder.mkdir(parents=True, exist_ok=True)
            partial = kept.with_name(kept.name + ".partial")
            partial.write_text(text)
            partial.replace(kept)
            return parse(text)
        self.errors[f"{source} {version}"] = why
        return None
