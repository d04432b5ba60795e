"""Debian's fix data: the `<suite>-security` and `<suite>-updates` package indexes, fetched once a run
and kept on disk with their date.

Each index is one Release file (InRelease: its `Date:` is the data's date) and one Packages file listing
every binary package the pocket holds now, with its version, its source package and its path in the pool.
A package whose installed version is older than the pocket's has a fix waiting. The two pockets live in
two trees: `<suite>-updates` beside the release on the Debian mirror, `<suite>-security` in the security
archive (`debian-security`), both read from the machine's apt sources where it has them. The release
suite itself (`<suite>`) is read the same way, for the one package the support lists come in (support.py).

Plain HTTP, as apt does, and trusted as apt trusts it: the InRelease file's OpenPGP signature is checked
against Debian's archive keyring (signature.py), only the text it signs is read, and the Packages file
must have the SHA256 that signed text lists (fetched by that hash where the mirror offers it, so a mirror
that updates between the two requests cannot hand over a mismatched pair). The kept files are checked the
same way each time they are read. An index whose signature does not verify, or cannot be checked (no
gpgv, no keyring), is no data: neither it nor the kept one is used. A fetched one past its `Valid-Until:`
(validity.py; apt calls such a file expired) is refused as apt refuses it, since a signature never ages
and an old signed index would hide the fixes published since; as with apt, the kept one is then used and
says how old it is, and the report's notes say why.

With no network the last data on disk is used, past its Valid-Until or not, and says how old it is; with
none at all the index is missing, and whoever reports it says "no data", never zero.
"""

from __future__ import annotations

import hashlib
import lzma
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from imagelab import ROOT, aptsources
from imagelab.errors import ImagelabError
from imagelab.vulns import debversion
from imagelab.vulns.signature import KEYRING, SignatureError, verify_release
from imagelab.vulns.validity import ReleaseExpired, refuse_expired, release_time

#: Kept between runs (git ignores .imagelab/): one folder per index, one per fetched changelog.
CACHE_DIR = ROOT / ".imagelab" / "vulns"
#: Where Debian's archives are when the machine's apt sources name none (not a Debian machine).
DEFAULT_MIRROR = "http://deb.debian.org/debian"
DEFAULT_SECURITY_MIRROR = "http://deb.debian.org/debian-security"
POCKETS = ("security", "updates")
ARCH = "amd64"
COMPONENT = "main"
TIMEOUT_S = 60  # one request: a pocket's index is under 1 MB compressed, the release suite's 9.7 MB
STANZA_CHUNK = 1 << 16  # compressed bytes decompressed at a time while looking for one stanza
USER_AGENT = "imagelab-vulns (+Debian package indexes, offline vulnerability scan)"


@dataclass(frozen=True)
class Binary:
    """One binary package of an index."""

    name: str
    version: str
    source: str  # the source package's name (the binary's own when the index names none)
    source_version: str  # differs from `version` for binary-only rebuilds ("+b1")
    filename: str  # its path in the pool, relative to the archive's root
    size: int = 0
    sha256: str = ""


@dataclass
class Index:
    """One pocket's packages, as of `date`."""

    suite: str  # "trixie-security"
    base_url: str  # the archive's root, where `Binary.filename` is found
    date: datetime  # the Release file's Date: when Debian wrote this data
    fetched: datetime  # when this machine last got it (or found it unchanged)
    offline: bool = False  # True: the fetch failed and this is the data kept from before
    packages: dict[str, list[Binary]] = field(default_factory=dict)

    def newest(self, name: str) -> Binary | None:
        """The highest version of a binary package in this pocket, or None when it has none."""
        found = self.packages.get(name)
        return max(found, key=lambda b: debversion.sort_key(b.version)) if found else None

    def of_source(self, source: str, source_version: str) -> list[Binary]:
        """The binaries built from one source version, smallest first (the cheapest to download)."""
        return sorted(
            (
                binary
                for binaries in self.packages.values()
                for binary in binaries
                if binary.source == source and binary.source_version == source_version
            ),
            key=lambda b: b.size,
        )

    def age_days(self, now: datetime | None = None) -> float:
        return ((now or datetime.now(UTC)) - self.date).total_seconds() / 86400

    def describe(self) -> str:
        text = f"{self.suite} dated {self.date:%Y-%m-%d %H:%M} UTC"
        if self.offline:
            text += f" (offline: kept data, {self.age_days():.0f} days old)"
        return text


def parse_release(text: str) -> tuple[datetime, dict[str, tuple[str, int]]]:
    """A Release or InRelease text: its Date and its SHA256 list (path -> (hash, size))."""
    date: datetime | None = None
    hashes: dict[str, tuple[str, int]] = {}
    in_sha256 = False
    for line in text.splitlines():
        if line.startswith("Date:"):
            date = release_time(line.split(":", 1)[1].strip())
        if not line[:1].isspace():
            in_sha256 = line.startswith("SHA256:")
            continue
        if in_sha256:
            words = line.split()
            if len(words) == 3:
                hashes[words[2]] = (words[0], int(words[1]))
    if date is None:
        raise ValueError("a Release file with no Date field")
    return date, hashes


def parse_packages(text: str) -> dict[str, list[Binary]]:
    """A Packages file: every binary by name (a pocket may hold more than one version of one)."""
    found: dict[str, list[Binary]] = {}
    for fields in stanzas(text):
        name, version = fields.get("package", ""), fields.get("version", "")
        if not name or not version:
            continue
        source, source_version = split_source(fields.get("source", ""), name, version)
        binary = Binary(
            name,
            version,
            source,
            source_version,
            fields.get("filename", ""),
            int(fields.get("size", "0") or 0),
            fields.get("sha256", ""),
        )
        found.setdefault(name, []).append(binary)
    return found


def split_source(field_value: str, name: str, version: str) -> tuple[str, str]:
    """A `Source:` field ("openssl", or "glibc (2.36-9+deb12u10)" after a binary-only rebuild): the source
    package and its version. With no field, the source is named and versioned as the binary."""
    words = field_value.split()
    if not words:
        return name, version
    if len(words) > 1 and words[1].startswith("("):
        return words[0], words[1].strip("()")
    return words[0], version


def stanzas(text: str) -> Iterator[dict[str, str]]:
    """Deb822 stanzas as {lower-case field: value}; continuation lines are joined to their field."""
    fields: dict[str, str] = {}
    last = ""
    for line in [*text.splitlines(), ""]:
        if not line.strip():
            if fields:
                yield fields
            fields, last = {}, ""
        elif line[:1].isspace():
            if last:
                fields[last] += "\n" + line.strip()
        else:
            key, _, value = line.partition(":")
            last = key.strip().lower()
            fields[last] = value.strip()


class Archive:
    """The indexes of one run: each fetched at most once, from the network or else from the cache."""

    def __init__(
        self,
        cache_dir: Path = CACHE_DIR,
        mirror: str = "",
        security_mirror: str = "",
        offline: bool = False,
        keyring: Path = KEYRING,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.cache_dir = cache_dir
        self.now = now or (lambda: datetime.now(UTC))  # what Valid-Until is compared with; tests pin it
        self.keyring = keyring  # whose keys sign the InRelease files (verify_release)
        self.mirror = (mirror or aptsources.debian_mirror() or DEFAULT_MIRROR).rstrip("/")
        self.security_mirror = (
            security_mirror or aptsources.debian_security_mirror() or DEFAULT_SECURITY_MIRROR
        ).rstrip("/")
        self.offline = offline  # never touch the network: the cache or nothing
        self._indexes: dict[tuple[str, str], Index | None] = {}
        self._fetched: dict[str, bool | None] = {}  # suite -> _fetched_now's answer
        self.errors: dict[str, str] = {}  # suite -> why its fetch failed, for the report

    def base_url(self, suite: str) -> str:
        return self.security_mirror if suite.endswith("-security") else self.mirror

    def index(self, suite: str, only: str = "") -> Index | None:
        """A suite's index: fetched once a run; the kept one when the fetch fails; None when neither.

        With `only`, the index holds that one package: a release suite's Packages file is 57 MB once
        decompressed, and the security-support lists need one stanza of it (support.py)."""
        if (suite, only) not in self._indexes:
            self._indexes[suite, only] = self._load(suite, only)
        return self._indexes[suite, only]

    def indexes(self, release: str, pockets: Iterable[str] = POCKETS) -> list[Index]:
        """The indexes of a release's pockets ("trixie" -> trixie-security, trixie-updates) that exist."""
        found = (self.index(f"{release}-{pocket}") for pocket in pockets)
        return [index for index in found if index is not None]

    def verified(self, signed: bytes, suite: str) -> str:
        """The text of an InRelease file that this archive's keyring vouches for (verify_release)."""
        return verify_release(signed, suite, self.keyring)

    def fetch(self, url: str) -> bytes:
        """One GET, bounded by TIMEOUT_S; urllib's proxy variables apply."""
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            return response.read()

    # -- one index ------------------------------------------------------------------------------

    def _folder(self, suite: str) -> Path:
        return self.cache_dir / "debian" / f"{suite}_{COMPONENT}_{ARCH}"

    def _load(self, suite: str, only: str) -> Index | None:
        folder = self._folder(suite)
        try:
            fetched = self._fetched_now(suite, folder)
            if fetched is None:
                return None
            return self._read(suite, folder, only, offline=not fetched)
        except FileNotFoundError:
            self.errors.setdefault(suite, f"no {suite} index kept (hint: a run with the network fetches it)")
        except (OSError, ValueError, lzma.LZMAError, SignatureError) as exc:  # altered, or replaced meanwhile
            self.errors.setdefault(suite, _reason(exc))
        return None

    def _fetched_now(self, suite: str, folder: Path) -> bool | None:
        """Fetch a suite's index once a run, whichever packages are asked of it: True when this run fetched
        it, False when the kept one is what there is (offline, or the fetch failed: why in errors), None
        when nothing may be used (a signature that does not verify: the mirror cannot be trusted now)."""
        if suite not in self._fetched:
            self._fetched[suite] = False
            if not self.offline:
                try:
                    self._refresh(suite, folder)
                    self._fetched[suite] = True
                except SignatureError as exc:
                    self.errors[suite] = _reason(exc)
                    self._fetched[suite] = None
                # Expired, as apt does on `apt update`: refuse the new file, keep the old one, say so
                # (it reads as kept data with its date, and the reason is in the report's notes).
                except (ReleaseExpired, OSError, ValueError, lzma.LZMAError) as exc:  # URLError: OSError
                    self.errors[suite] = _reason(exc)
        return self._fetched[suite]

    def _refresh(self, suite: str, folder: Path) -> None:
        """Fetch the Release file; fetch the Packages file only when the kept one is not that release's."""
        root = f"{self.base_url(suite)}/dists/{suite}"
        release = self.fetch(f"{root}/InRelease")
        text = self.verified(release, suite)
        # Before anything is written: an expired index must not replace the kept one, which the next
        # offline run reads (without this check: it is old by design there, and says so).
        refuse_expired(text, suite, self.now())
        _, hashes = parse_release(text)
        wanted = f"{COMPONENT}/binary-{ARCH}/Packages.xz"
        if wanted not in hashes:
            raise ValueError(f"{suite}'s Release file lists no {wanted}")
        sha256, _ = hashes[wanted]
        kept = folder / "Packages.xz"
        if not (kept.exists() and hashlib.sha256(kept.read_bytes()).hexdigest() == sha256):
            by_hash = f"{root}/{COMPONENT}/binary-{ARCH}/by-hash/SHA256/{sha256}"
            try:
                packages = self.fetch(by_hash)
            except urllib.error.HTTPError:  # a mirror without by-hash
                packages = self.fetch(f"{root}/{wanted}")
            if hashlib.sha256(packages).hexdigest() != sha256:
                raise ValueError(f"{suite}'s Packages file does not match its Release file's SHA256")
            folder.mkdir(parents=True, exist_ok=True)
            write_kept(kept, packages)
        folder.mkdir(parents=True, exist_ok=True)
        write_kept(folder / "InRelease", release)
        write_kept(folder / "fetched", self.now().isoformat().encode())

    def _read(self, suite: str, folder: Path, only: str, offline: bool) -> Index:
        """The kept index, checked again: a cache written before the checks, or altered since, is refused."""
        date, hashes = parse_release(self.verified((folder / "InRelease").read_bytes(), suite))
        compressed = (folder / "Packages.xz").read_bytes()
        listed = hashes.get(f"{COMPONENT}/binary-{ARCH}/Packages.xz")
        if listed is None or hashlib.sha256(compressed).hexdigest() != listed[0]:
            raise ValueError(f"{suite}'s kept Packages file does not match its signed Release file")
        packages = (
            stanza(compressed, only) if only else lzma.decompress(compressed).decode("utf-8", "replace")
        )
        fetched = datetime.fromisoformat((folder / "fetched").read_text().strip())
        return Index(suite, self.base_url(suite), date, fetched, offline, parse_packages(packages))


def stanza(compressed: bytes, package: str) -> str:
    """One package's stanza of an xz-compressed Packages file ("" when it has none), decompressed only as
    far as it and never held whole: the release suite's whole file (57 MB) takes seconds and 400 MB
    once parsed."""
    wanted = f"\nPackage: {package}\n".encode()
    decompressor = lzma.LZMADecompressor()
    text = b"\n"  # the file's first stanza starts without one
    for start in range(0, len(compressed), STANZA_CHUNK):
        text += decompressor.decompress(compressed[start : start + STANZA_CHUNK])
        at = text.find(wanted)
        if at < 0:
            text = text[-len(wanted) :]  # a name cut between two chunks is still found
        elif (end := text.find(b"\n\n", at + 1)) >= 0 or decompressor.eof:
            return text[at + 1 : end if end >= 0 else None].decode("utf-8", "replace")
        if decompressor.eof:
            break
    return ""


def write_kept(path: Path, data: bytes) -> None:
    """Write beside, then rename: an interrupted run never leaves half a file for the next to trust."""
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    partial.replace(path)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ImagelabError):
        return f"{exc.cause} (hint: {exc.hint})" if exc.hint else exc.cause
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} from {exc.url}"
    if isinstance(exc, urllib.error.URLError):
        return f"cannot reach the archive ({exc.reason})"
    return str(exc) or type(exc).__name__
