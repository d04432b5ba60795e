"""Packages whose Debian security support is limited or ended, from Debian's own lists.

The `debian-security-support` package holds `/usr/share/debian-security-support/security-support.debN`
for each release N: one line a source package (or a pattern, "golang.*"), whitespace-separated:

    name  limited        text...
    name  non-supported  last-supported-version  YYYY-mm-dd  text...

Before trixie's package the same lists were two files: `security-support-limited` (name, text) and
`security-support-ended.debN` (name, last supported version, date, text); bookworm's package still
ships that layout, and both are read. `check-support-status` reads them on a Debian machine; here
they are read for an image. The package lives in the release's main suite, whose index is large (about
9.7 MB compressed): the archive fetches it only when the suite's Release file changed (a point release).
The index and the .deb are kept, and checked again each time they are read (SupportLists says how).
"""

from __future__ import annotations

import hashlib
import io
import lzma
import re
import tarfile
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from imagelab.vulns import debversion
from imagelab.vulns.archive import Archive, Binary, write_kept
from imagelab.vulns.changelog import _ar_member
from imagelab.vulns.debian import Installed
from imagelab.vulns.findings import DataDate, SupportLimit

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
    """The lists of one release, read from its debian-security-support package, checked each time.

    The chain of trust is the one the pockets' indexes have: the release suite's index comes from the
    archive (Archive.index: its InRelease verified with gpgv, its Packages file by the signed SHA256,
    both kept and checked again when read), and names the package's SHA256; the .deb is kept whole
    (about 30 kB) and read only when it has that SHA256. So nothing kept is trusted for having been
    kept: no list extracted to a file, no date or version written beside it."""

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
        index = self.archive.index(release, only=PACKAGE)
        if release in self.archive.errors:  # no index, or the kept one after a failed fetch
            self.errors.append(f"{PACKAGE} for {release}: {self.archive.errors[release]}")
        if index is None:
            return None
        binary = index.newest(PACKAGE)
        try:
            if binary is None:
                raise ValueError(f"{release}'s index lists no {PACKAGE} package")
            rules = lists(self._deb(release, binary, fetch=not index.offline), number)
        except (OSError, ValueError, tarfile.TarError, lzma.LZMAError) as exc:
            self.errors.append(f"{PACKAGE} for {release}: {exc}")
            return None
        return rules, DataDate(f"{PACKAGE} {binary.version} ({release})", index.date, index.offline)

    def _deb(self, release: str, binary: Binary, fetch: bool) -> bytes:
        """The package's .deb with the index's SHA256: the kept one, else (online) fetched and kept."""
        kept = self.folder / release / f"{PACKAGE}.deb"
        if kept.exists() and hashlib.sha256(deb := kept.read_bytes()).hexdigest() == binary.sha256:
            return deb
        if not fetch:  # offline: the kept one is all there is
            why = "does not have the index's SHA256 (altered, or an older version)" if kept.exists() else ""
            cause = f"the kept {PACKAGE}.deb {why}" if why else f"no {PACKAGE}.deb {binary.version} kept"
            raise ValueError(f"{cause} (hint: a run with the network fetches it again)")
        deb = self.archive.fetch(f"{self.archive.base_url(release)}/{binary.filename}")
        if hashlib.sha256(deb).hexdigest() != binary.sha256:
            raise ValueError(
                f"{binary.filename} does not match the index's SHA256 "
                "(hint: a proxy or mirror altered it; try another mirror in the apt sources)"
            )
        kept.parent.mkdir(parents=True, exist_ok=True)
        write_kept(kept, deb)
        return deb


def lists(deb: bytes, number: str) -> list[Rule]:
    """The rules of Debian `number` in a debian-security-support .deb, in either of its two layouts."""
    data = _ar_member(deb, "data.tar")
    if data is None:
        raise ValueError(f"the kept {PACKAGE} is not a .deb")
    files: dict[str, str] = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
        for member in tar:
            name = member.name.removeprefix("./")
            if member.isfile() and name.startswith(LISTS) and (stream := tar.extractfile(member)):
                files[name.removeprefix(LISTS)] = stream.read().decode("utf-8", "replace")
    if f"security-support.deb{number}" in files:
        return parse(files[f"security-support.deb{number}"])
    if "security-support-limited" in files and f"security-support-ended.deb{number}" in files:
        return parse_split(files["security-support-limited"], files[f"security-support-ended.deb{number}"])
    raise ValueError(f"{PACKAGE} holds no list for Debian {number}")


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
