"""Packages whose Debian security support is limited or ended, from Debian's own lists.

The `debian-security-support` package holds `/usr/share/debian-security-support/security-support.debN`
for each release N: one line a source package (or a pattern, "golang.*"), whitespace-separated:

    name  limited        text...
    name  non-supported  last-supported-version  YYYY-mm-dd  text...

Before trixie's package the same lists were two files: `security-support-limited` (name, text) and
`security-support-ended.debN` (name, last supported version, date, text); bookworm's package still
ships that layout, and both are read. `check-support-status` reads them on a Debian machine; here
they are read for an image. The package
lives in the release's main suite, whose index is large (about 10 MB compressed): it is fetched only when
the suite's Release file changed (a point release), and only the lists are kept, with their date.
"""

from __future__ import annotations

import hashlib
import io
import lzma
import re
import tarfile
import urllib.error
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from imagelab.vulns import debversion
from imagelab.vulns.archive import ARCH, COMPONENT, Archive, parse_packages, parse_release
from imagelab.vulns.changelog import _ar_member
from imagelab.vulns.debian import Installed
from imagelab.vulns.findings import DataDate, SupportLimit
from imagelab.vulns.signature import SignatureError

PACKAGE = "debian-security-support"
LISTS = "usr/share/debian-security-support/"
NUMBERS = {"bullseye": "11", "bookworm": "12", "trixie": "13", "forky": "14"}


@dataclass(frozen=True)
class Rule:
    pattern: str  # a source name, or a regular expression Debian writes as one ("golang.*")
    kind: str  # "limited", "non-supported", or "supported" (an exception to a pattern: "rust.*" limited,
    # "rust-sequoia-sqv" supported)
    version: str = ""  # non-supported: the last version with support
    until: str = ""  # non-supported: the date support ended or ends
    text: str = ""


def parse(text: str) -> list[Rule]:
    rules = []
    for line in text.splitlines():
        words = line.split()
        if not words or words[0].startswith("#") or len(words) < 2:
            continue
        name, kind = words[0], words[1]
        if kind in ("limited", "supported"):
            rules.append(Rule(name, kind, text=" ".join(words[2:])))
        elif kind == "non-supported" and len(words) >= 4:
            rules.append(Rule(name, kind, words[2], words[3], " ".join(words[4:])))
    return rules


def parse_split(limited: str, ended: str) -> list[Rule]:
    """The two-file layout, as the rules of the one-file layout."""
    rules = [Rule(words[0], "limited", text=" ".join(words[1:])) for words in _rows(limited)]
    rules += [Rule(w[0], "non-supported", w[1], w[2], " ".join(w[3:])) for w in _rows(ended) if len(w) >= 3]
    return rules


def _rows(text: str) -> list[list[str]]:
    return [line.split() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def limits(packages: list[Installed], rules: list[Rule], today: date | None = None) -> list[SupportLimit]:
    """The installed packages a rule names, by their source package, as check-support-status judges:
    a non-supported package counts when its version is at most the last supported one. A rule naming
    the source exactly wins over a pattern that matches it."""
    today = today or datetime.now(UTC).date()
    found = []
    for package in packages:
        exact = [rule for rule in rules if rule.pattern == package.source]
        for rule in exact or [rule for rule in rules if _matches(rule.pattern, package.source)]:
            if rule.kind == "supported":
                break
            if rule.kind == "limited":
                found.append(SupportLimit(package.name, package.source, "limited", rule.text))
            elif _at_most(package.source_version, rule.version):
                ended = rule.until <= today.isoformat()
                kind = "ended" if ended else "ends"
                note = f"{'ended' if ended else 'ends'} {rule.until} at {rule.version}; {rule.text}".rstrip(
                    "; "
                )
                found.append(SupportLimit(package.name, package.source, kind, note))
            break
    return found


class SupportLists:
    """The lists of one release, fetched when its main suite changed, else kept."""

    def __init__(self, archive: Archive, cache_dir: Path) -> None:
        self.archive = archive
        self.folder = cache_dir / "support"
        self.errors: list[str] = []
        self._rules: dict[str, tuple[list[Rule], DataDate] | None] = {}

    def rules(self, release: str) -> tuple[list[Rule], DataDate] | None:
        if release not in self._rules:
            self._rules[release] = self._load(release)
        return self._rules[release]

    def _load(self, release: str) -> tuple[list[Rule], DataDate] | None:
        number = NUMBERS.get(release)
        if number is None:
            return None
        folder = self.folder / release
        offline = self.archive.offline
        if not offline:
            try:
                self._refresh(release, number, folder)
            except (OSError, ValueError, lzma.LZMAError, tarfile.TarError) as exc:
                self.errors.append(f"{PACKAGE} for {release}: {exc}")
                offline = True
            except SignatureError as exc:  # the suite nobody vouches for: no data, not the kept lists
                self.errors.append(f"{PACKAGE} for {release}: {exc.cause} (hint: {exc.hint})")
                return None
        try:
            one_file = folder / f"security-support.deb{number}"
            if one_file.exists():
                rules = parse(one_file.read_text())
            else:
                limited = folder / "security-support-limited"
                rules = parse_split(
                    limited.read_text(), (folder / f"security-support-ended.deb{number}").read_text()
                )
            stamp = datetime.fromisoformat((folder / "date").read_text().strip())
            version = (folder / "version").read_text().strip()
        except (OSError, ValueError):
            return None
        return rules, DataDate(f"{PACKAGE} {version} ({release})", stamp, offline)

    def _refresh(self, release: str, number: str, folder: Path) -> None:
        root = f"{self.archive.mirror}/dists/{release}"
        release_text = self.archive.verified(self.archive.fetch(f"{root}/InRelease"), release)
        stamp, hashes = parse_release(release_text)
        kept = (folder / "date").exists() and (folder / "date").read_text().strip() == stamp.isoformat()
        if kept and any(folder.glob("security-support*")):
            return  # the suite has not moved: the kept lists are its lists
        wanted = f"{COMPONENT}/binary-{ARCH}/Packages.xz"
        sha256, _ = hashes[wanted]
        try:
            packages = self.archive.fetch(f"{root}/{COMPONENT}/binary-{ARCH}/by-hash/SHA256/{sha256}")
        except urllib.error.HTTPError:
            packages = self.archive.fetch(f"{root}/{wanted}")
        if hashlib.sha256(packages).hexdigest() != sha256:
            raise ValueError(f"{release}'s Packages file does not match its Release file")
        text = lzma.decompress(packages).decode("utf-8", "replace")
        at = text.find(f"\nPackage: {PACKAGE}\n") + 1
        if at == 0:
            raise ValueError(f"{release} has no {PACKAGE} package")
        (binary,) = parse_packages(text[at : text.find("\n\n", at)])[PACKAGE]
        deb = self.archive.fetch(f"{self.archive.mirror}/{binary.filename}")
        if hashlib.sha256(deb).hexdigest() != binary.sha256:
            raise ValueError(f"{binary.filename} does not match the index's SHA256")
        data = _ar_member(deb, "data.tar")
        if data is None:
            raise ValueError(f"{binary.filename} is not a .deb")
        folder.mkdir(parents=True, exist_ok=True)
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
            for member in tar:
                name = member.name.removeprefix("./")
                if member.isfile() and name.startswith(f"{LISTS}security-support"):
                    stream = tar.extractfile(member)
                    if stream is not None:
                        (folder / Path(name).name).write_bytes(stream.read())
        (folder / "version").write_text(binary.version)
        (folder / "date").write_text(stamp.isoformat())


def _matches(pattern: str, source: str) -> bool:
    try:
        return re.fullmatch(pattern, source) is not None
    except re.error:  # a name with regular-expression characters ("libc++"): only itself
        return pattern == source


def _at_most(installed: str, last: str) -> bool:
    try:
        return not debversion.newer(installed, last)
    except ValueError:
        return True
