"""What a pull of an image transfers, layer by layer, read from its registry's manifest: no gzip of our own.

A pushed image's manifest lists each layer's compressed size, and its config lists the same layers by
the digest of their uncompressed tar (the diff_id a saved image names them by), in the same order. So
for every base image that sits in the project's registry -- the local base sets are pushed there anyway --
the compressed size of its layers is two small HTTP requests away, where gzipping the layers of
`docker save` costs a second or more per hundred megabytes.

Only registries on loopback are asked (plain HTTP, no credentials: the project's own); any other answer
is "unknown here", and the caller gzips as before.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import docker.errors

from imagelab.engine import registry
from imagelab.engine.client import client

TIMEOUT_S = 10
MANIFESTS = (
    "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.index.v1+json"
)
PLATFORM = {"os": "linux", "architecture": "amd64"}


def compressed_layers(repo_digest: str) -> dict[str, int]:
    """{diff_id: compressed size} of the image `host:port/repository@sha256:...`; {} when not known."""
    name, _, digest = repo_digest.partition("@")
    where, _, repository = name.partition("/")
    if not digest or not repository or not registry.is_insecure(where):
        return {}
    base = f"http://{where}/v2/{repository}"
    try:
        manifest = _get(f"{base}/manifests/{digest}", MANIFESTS)
        if "manifests" in manifest:  # an index: the platform this engine runs
            chosen = next(
                (m for m in manifest["manifests"] if (m.get("platform") or {}).items() >= PLATFORM.items()),
                None,
            )
            if chosen is None:
                return {}
            manifest = _get(f"{base}/manifests/{chosen['digest']}", MANIFESTS)
        config = _get(f"{base}/blobs/{manifest['config']['digest']}", "*/*")
        diff_ids, layers = config["rootfs"]["diff_ids"], manifest["layers"]
    except (urllib.error.URLError, OSError, ValueError, KeyError, TypeError):
        return {}
    if len(diff_ids) != len(layers):
        return {}
    return {diff_id: int(layer["size"]) for diff_id, layer in zip(diff_ids, layers, strict=True)}


def _get(url: str, accept: str) -> dict:
    request = urllib.request.Request(url, headers={"Accept": accept})
    with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
        return json.loads(response.read())


def pushed_layer_sizes(ref: str) -> dict[str, int]:
    """{diff_id: compressed size} of a local image, from the manifest of any loopback registry it was
    pushed to or pulled from (its RepoDigests); {} when it never was in one."""
    try:
        digests = client().images.get(ref).attrs.get("RepoDigests") or []
    except docker.errors.ImageNotFound:
        return {}
    for repo_digest in digests:
        if found := compressed_layers(repo_digest):
            return found
    return {}
