"""Where a `docker save` tarball keeps an image's config and layers.

`docker save` writes a tar of tars: a manifest naming the image config and one tar per layer, oldest
first. Engines before 25 (docker 20.10 here) write the docker-archive layout (`manifest.json`,
`<id>/layer.tar`); newer ones write an OCI layout (`index.json`, `blobs/sha256/<hex>`) and most also a
`manifest.json` pointing into it. Either way, what is not there is named in one line with a hint.
"""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

from imagelab.errors import ImagelabError


def image_members(outer: tarfile.TarFile, archive: Path, ref: str) -> tuple[str, list[str]]:
    """The config and layer members of the image: from manifest.json, else from the OCI index."""
    names = set(outer.getnames())
    if "manifest.json" in names:
        images = load_json(outer, archive, "manifest.json")
        if not images:
            raise corrupt(archive, "manifest.json lists no image")
        chosen = next((i for i in images if ref and ref in (i.get("RepoTags") or [])), images[0])
        return chosen["Config"], list(chosen["Layers"])
    if "index.json" in names:
        descriptor = load_json(outer, archive, "index.json")["manifests"][0]
        manifest = load_json(outer, archive, _blob(descriptor))
        while "manifests" in manifest:  # an index of per-platform manifests
            chosen = next(
                (m for m in manifest["manifests"] if m.get("platform", {}).get("architecture") == "amd64"),
                manifest["manifests"][0],
            )
            manifest = load_json(outer, archive, _blob(chosen))
        return _blob(manifest["config"]), [_blob(layer) for layer in manifest["layers"]]
    raise corrupt(archive, "neither manifest.json nor index.json at its top")


def _blob(descriptor: dict) -> str:
    algorithm, digest = descriptor["digest"].split(":", 1)
    return f"blobs/{algorithm}/{digest}"


def load_json(outer: tarfile.TarFile, archive: Path, name: str):
    try:
        stream = outer.extractfile(name)
    except KeyError:
        stream = None
    if stream is None:
        raise corrupt(archive, f"{name} is missing")
    try:
        return json.load(stream)
    except ValueError as exc:
        raise corrupt(archive, f"{name} is not JSON ({exc})") from exc


def corrupt(archive: Path, what: str) -> ImagelabError:
    return ImagelabError(
        f"{archive.name} is not a docker save archive: {what}",
        hint="make it with `docker save IMAGE -o FILE` (or imagelab.engine.save_image)",
    )
