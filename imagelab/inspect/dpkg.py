"""dpkg's package records, read by one rule for the whole harness (the base build's version labels and
the exposure scan count the same packages).

Two places hold them:
- `/var/lib/dpkg/status`, dpkg's database: one stanza per package dpkg knows, with a `Status: want flag
  state` field ("install ok installed"). dpkg keeps stanzas of packages whose files are gone: removed
  but not purged ("deinstall ok config-files": only its configuration files are left) and ones it only
  heard of ("purge ok not-installed").
- `/var/lib/dpkg/status.d/<name>`, in distroless images and the local stand-ins: .deb files unpacked
  without dpkg, each package's control stanza written as it is, with no Status field (and sometimes a
  `<name>.md5sums` file beside it, which is not a record).

The rule: a stanza with a Package field is installed unless its state is `not-installed` or
`config-files`; a stanza with no Status field is installed. Every other state (installed, unpacked,
half-configured, triggers-pending, ...) leaves the package's files on disk, where a scanner finds them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

STATUS = "/var/lib/dpkg/status"
STATUS_D = "/var/lib/dpkg/status.d"
GONE = ("not-installed", "config-files")  # dpkg states in which none of the package's files are left
NOT_RECORDS = (".md5sums",)  # files in status.d/ that are not package stanzas


@dataclass(frozen=True)
class Record:
    """One stanza of a dpkg record file."""

    package: str
    version: str = ""
    state: str = ""  # the last word of Status ("installed", "config-files", ...); "" without one
    source: str = ""  # the Source field as written ("glibc", "glibc (2.36-9+deb12u10)"); "" without one

    @property
    def installed(self) -> bool:
        return self.state not in GONE


def parse(text: str) -> list[Record]:
    """Every stanza of a status or status.d text that names a package, installed or not.

    Stanzas are separated by blank lines; a line that starts with white space continues the field
    above it (a Description's text), so a "Status:" inside it is no field."""
    records = []
    for stanza in _stanzas(text):
        fields: dict[str, str] = {}
        for line in stanza:
            name, colon, value = line.partition(":")
            if colon and not line[:1].isspace():
                fields[name.strip().lower()] = value.strip()  # field names are case-insensitive
        if fields.get("package"):
            state = fields["status"].split()[-1] if fields.get("status") else ""
            records.append(
                Record(fields["package"], fields.get("version", ""), state, fields.get("source", ""))
            )
    return records


def installed(files: Mapping[str, bytes]) -> dict[str, str]:
    """Installed packages and their versions, from record files by path (the status file, status.d/
    files, or both: a package recorded twice counts once)."""
    return {name: record.version for name, record in installed_records(files).items()}


def installed_records(files: Mapping[str, bytes]) -> dict[str, Record]:
    """The records of installed packages by name, read as `installed` reads them."""
    found: dict[str, Record] = {}
    for path, content in files.items():
        if path.endswith(NOT_RECORDS):
            continue
        for record in parse(content.decode("utf-8", "replace")):
            if record.installed:
                found[record.package] = record
    return found


def _stanzas(text: str) -> list[list[str]]:
    stanzas: list[list[str]] = [[]]
    for line in text.splitlines():
        if line.strip():
            stanzas[-1].append(line)
        elif stanzas[-1]:
            stanzas.append([])
    return [stanza for stanza in stanzas if stanza]
