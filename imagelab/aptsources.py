"""The Debian mirror this machine's apt is set up with.

The project fetches Debian packages (the buildx plugin, the local base set) from wherever the machine
already gets them, so a proxy, a local mirror or an air-gapped archive works without configuration.
IMAGELAB_DEBIAN_MIRROR overrides it. Debian's security archive is a tree of its own (`debian-security`,
often on the same host); IMAGELAB_DEBIAN_SECURITY_MIRROR overrides where it is read from.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

MIRROR_ENV = "IMAGELAB_DEBIAN_MIRROR"
SECURITY_MIRROR_ENV = "IMAGELAB_DEBIAN_SECURITY_MIRROR"
APT_DIR = Path("/etc/apt")


def debian_mirror(apt_dir: Path = APT_DIR) -> str:
    """IMAGELAB_DEBIAN_MIRROR, else the first archive (not security) apt uses; "" when there is none."""
    return _archive(MIRROR_ENV, "/debian", apt_dir)


def debian_security_mirror(apt_dir: Path = APT_DIR) -> str:
    """IMAGELAB_DEBIAN_SECURITY_MIRROR, else the first security archive apt uses; "" when there is none."""
    return _archive(SECURITY_MIRROR_ENV, "/debian-security", apt_dir)


def _archive(variable: str, ending: str, apt_dir: Path) -> str:
    if os.environ.get(variable):
        return os.environ[variable].rstrip("/")
    return next((uri.rstrip("/") for uri in _uris(apt_dir) if uri.rstrip("/").endswith(ending)), "")


def _uris(apt_dir: Path) -> Iterator[str]:
    """Archive URIs from one-line (sources.list, *.list) and deb822 (*.sources) files, in apt's order."""
    one_line = [apt_dir / "sources.list", *sorted((apt_dir / "sources.list.d").glob("*.list"))]
    for path in one_line:
        for line in _lines(path):
            words = line.split()
            if words and words[0] == "deb":
                # "deb [options] URI suite components": options are one bracketed group of words
                rest = words[1:]
                if rest and rest[0].startswith("["):
                    while rest and not rest[0].endswith("]"):
                        rest = rest[1:]
                    rest = rest[1:]
                if rest:
                    yield rest[0]
    for path in sorted((apt_dir / "sources.list.d").glob("*.sources")):
        stanza: dict[str, str] = {}
        for line in [*_lines(path), ""]:
            if not line.strip():
                if "deb" in stanza.get("types", "").split() and stanza.get("enabled", "yes") != "no":
                    yield from stanza.get("uris", "").split()
                stanza = {}
            elif ":" in line and not line[0].isspace():
                key, value = line.split(":", 1)
                stanza[key.strip().lower()] = value.strip()


def _lines(path: Path) -> list[str]:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return []
    return [line for line in text.splitlines() if not line.lstrip().startswith("#")]
