"""The CA bundle of a local base image: Debian's certificates, then the extra ones a proxy or a company
network needs (rootfs.py and distroless.py both write it; README "Behind a proxy or a local mirror")."""

from __future__ import annotations

import re
from pathlib import Path

_PEM = re.compile(rb"-----BEGIN CERTIFICATE-----\s.*?-----END CERTIFICATE-----", re.DOTALL)


def extra_certificates(extra_ca: bytes, known: set[bytes]) -> bytes:
    """The PEM certificates in `extra_ca` that are not among `known` (Debian's own), concatenated."""
    kept = [pem for pem in _PEM.findall(extra_ca) if _normalise(pem) not in known]
    return b"".join(pem + b"\n" for pem in kept)


def ca_bundle(debian: dict[str, bytes], extra_ca: bytes) -> bytes:
    """What update-ca-certificates would write: Debian's certificates in name order, then the extras."""
    known = {_normalise(pem) for pem in debian.values()}
    ordered = b"".join(debian[name].rstrip(b"\n") + b"\n" for name in sorted(debian))
    return ordered + extra_certificates(extra_ca, known)


def _normalise(pem: bytes) -> bytes:
    return b"".join(pem.split())


def debian_certificates_in(folder: Path) -> set[bytes]:
    return {_normalise(pem) for crt in folder.rglob("*.crt") for pem in _PEM.findall(crt.read_bytes())}
