"""The base images a build's provenance attestation records, read from `docker save` of the image.

BuildKit attaches a provenance attestation (an in-toto statement with a SLSA predicate) to what it
builds where the image store can keep it: the containerd store does, the classic store keeps none. It
sits beside the image in its index, as a manifest of its own whose `vnd.docker.reference.type`
annotation says `attestation-manifest`, and it names every image the build pulled by digest: SLSA 0.2's
`materials`, SLSA 1's `buildDefinition.resolvedDependencies`. That is BuildKit's word on what an image
was built on, next to the one the harness resolved before the build.
"""

from __future__ import annotations

import tarfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from imagelab.inspect import archive_layout

ATTESTATION = "attestation-manifest"
IN_TOTO = "application/vnd.in-toto+json"
SLSA = "https://slsa.dev/provenance/"
IMAGE_PURL = "pkg:docker/"  # a material that is an image; the others are git or HTTP sources


@dataclass(frozen=True)
class Material:
    """One image the build used, as the attestation names it."""

    ref: str  # 127.0.0.1:5000/imagelab-bases/static (the purl's name, without version or qualifiers)
    digest: str  # sha256:...


def materials(statement: dict) -> list[Material]:
    """The images an in-toto provenance statement records, SLSA 0.2 or 1, in its order."""
    predicate = statement.get("predicate") or {}
    listed = predicate.get("materials")
    if listed is None:  # SLSA 1
        listed = (predicate.get("buildDefinition") or {}).get("resolvedDependencies") or []
    found = []
    for item in listed:
        uri, digests = item.get("uri", ""), item.get("digest") or {}
        if not uri.startswith(IMAGE_PURL) or "sha256" not in digests:
            continue
        # pkg:docker/127.0.0.1:5000/imagelab-bases/static@sha256:...?platform=linux%2Famd64
        name = unquote(uri[len(IMAGE_PURL) :].split("?", 1)[0]).split("@", 1)[0]
        found.append(Material(name, f"sha256:{digests['sha256']}"))
    return found


def from_archive(outer: tarfile.TarFile, archive: Path) -> list[Material] | None:
    """The images the provenance attestations in a `docker save` archive record; None when it holds
    none (the docker-archive layout, the classic store, or a build made with provenance off)."""
    names = set(outer.getnames())
    if "index.json" not in names:
        return None
    found: list[Material] | None = None
    pending = list(archive_layout.load_json(outer, archive, "index.json").get("manifests", []))
    while pending:
        descriptor = pending.pop(0)
        member = _member(descriptor)
        if member not in names:  # an engine may leave out what it does not keep
            continue
        manifest = archive_layout.load_json(outer, archive, member)
        pending += manifest.get("manifests", [])
        annotations = descriptor.get("annotations") or {}
        if annotations.get("vnd.docker.reference.type") != ATTESTATION:
            continue
        for layer in manifest.get("layers", []):
            predicate = (layer.get("annotations") or {}).get("in-toto.io/predicate-type", "")
            if layer.get("mediaType") != IN_TOTO or not predicate.startswith(SLSA):
                continue
            if _member(layer) not in names:
                continue
            statement = archive_layout.load_json(outer, archive, _member(layer))
            found = (found or []) + [m for m in materials(statement) if m not in (found or [])]
    return found


def _member(descriptor: dict) -> str:
    """The archive member holding a descriptor's blob ("" for one with no digest: never a member)."""
    algorithm, _, hex_digest = descriptor.get("digest", "").partition(":")
    return f"blobs/{algorithm}/{hex_digest}" if hex_digest else ""
