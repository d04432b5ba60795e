"""Build `docker save` tarballs in tests, without an engine: layers from member lists or fixture trees.

A member is (TarInfo, bytes or None); `file`, `folder`, `symlink`, `hardlink`, `whiteout` and `opaque`
make them, `tree` turns a folder of tests/fixtures into members.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"

Member = tuple[tarfile.TarInfo, bytes | None]


def file(name: str, data: bytes = b"", mode: int = 0o644) -> Member:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), mode
    return info, data


def folder(name: str, mode: int = 0o755) -> Member:
    info = tarfile.TarInfo(name)
    info.type, info.mode = tarfile.DIRTYPE, mode
    return info, None


def symlink(name: str, target: str) -> Member:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.mode = tarfile.SYMTYPE, target, 0o777
    return info, None


def hardlink(name: str, target: str, mode: int = 0o755) -> Member:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.mode = tarfile.LNKTYPE, target, mode
    return info, None


def whiteout(name: str) -> Member:
    """Delete `name` of a lower layer."""
    folder_name, _, base = name.rpartition("/")
    return file(f"{folder_name}/.wh.{base}" if folder_name else f".wh.{base}")


def opaque(name: str) -> Member:
    """Hide everything lower layers hold under the folder `name`."""
    return file(f"{name}/.wh..wh..opq")


def tree(root: Path, prefix: str = "") -> list[Member]:
    """The files and folders under `root` as members, parents first, placed under `prefix`."""
    members = []
    for path in sorted(root.rglob("*")):
        name = prefix + path.relative_to(root).as_posix()
        if path.is_dir():
            members.append(folder(name))
        else:
            members.append(file(name, path.read_bytes(), 0o755 if path.stat().st_mode & 0o111 else 0o644))
    return members


def layer_tar(members: list[Member]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def image_config(layers: list[bytes], config: dict | None = None, steps: list[str] | None = None) -> dict:
    """An image config whose history has one step per layer plus an empty-layer step after each."""
    history = []
    for index, _ in enumerate(layers):
        history.append({"created_by": steps[index] if steps else f"step {index}"})
        history.append({"created_by": "ENV nothing=1", "empty_layer": True})
    return {
        "architecture": "amd64",
        "os": "linux",
        "config": config or {},
        "rootfs": {"type": "layers", "diff_ids": [_digest(layer) for layer in layers]},
        "history": history,
    }


def write_docker_archive(
    dest: Path,
    layers: list[list[Member]],
    config: dict | None = None,
    steps: list[str] | None = None,
    tag: str = "imagelab-scratch/test:1",
) -> Path:
    """A docker-archive (`docker save` of engines before 25): manifest.json, <id>/layer.tar, <id>.json."""
    tars = [layer_tar(members) for members in layers]
    raw_config = json.dumps(image_config(tars, config, steps)).encode()
    config_name = f"{_digest(raw_config).split(':')[1]}.json"
    names = [f"{_digest(data).split(':')[1]}{index}/layer.tar" for index, data in enumerate(tars)]
    manifest = [{"Config": config_name, "RepoTags": [tag], "Layers": names}]
    write_tar(
        dest,
        {
            "manifest.json": json.dumps(manifest).encode(),
            config_name: raw_config,
            **dict(zip(names, tars, strict=True)),
        },
    )
    return dest


def write_oci_archive(dest: Path, layers: list[list[Member]], config: dict | None = None) -> Path:
    """An OCI image layout with gzip'd layers and no manifest.json (what other tools than docker write)."""
    tars = [layer_tar(members) for members in layers]
    raw_config = json.dumps(image_config(tars, config)).encode()
    blobs = {_digest(raw_config): raw_config}
    layer_descriptors = []
    for data in tars:
        packed = gzip.compress(data)
        blobs[_digest(packed)] = packed
        layer_descriptors.append(
            {
                "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                "digest": _digest(packed),
                "size": len(packed),
            }
        )
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "layers": layer_descriptors,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": _digest(raw_config),
                "size": len(raw_config),
            },
        }
    ).encode()
    blobs[_digest(manifest)] = manifest
    index = {
        "schemaVersion": 2,
        "manifests": [
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": _digest(manifest),
                "size": len(manifest),
            }
        ],
    }
    files = {"oci-layout": b'{"imageLayoutVersion": "1.0.0"}', "index.json": json.dumps(index).encode()}
    files |= {f"blobs/sha256/{digest.split(':')[1]}": data for digest, data in blobs.items()}
    write_tar(dest, files)
    return dest


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def write_tar(dest: Path, files: dict[str, bytes]) -> Path:
    """A plain tar of the given files (e.g. an archive that is not a saved image)."""
    with tarfile.open(dest, "w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return dest
