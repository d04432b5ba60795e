"""Provenance: the base images BuildKit's attestation records, read from an image archive and shown
next to the bases the harness resolved. The archives here are small ones written by the tests, in the
layout `docker save` writes on the containerd store; the docker test reads a real one."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import tarfile
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest

from imagelab.engine import registry, second_engine
from imagelab.inspect import imagefs, provenance
from imagelab.report import markdown
from imagelab.report.model import BaseImage, ImageResult, ProvenanceBase

STATIC = "sha256:" + "79d6cb18ffc0" + "0" * 52
GOLANG = "sha256:" + "f9c49053390a" + "1" * 52


def slsa02(*images: tuple[str, str]) -> dict:
    """An in-toto statement as BuildKit writes it in SLSA 0.2 form, with one git material besides."""
    return {
        "_type": "https://in-toto.io/Statement/v0.1",
        "predicateType": "https://slsa.dev/provenance/v0.2",
        "subject": [{"name": "pkg:docker/imagelab/go-href@minimal", "digest": {"sha256": "ab" * 32}}],
        "predicate": {
            "builder": {"id": ""},
            "buildType": "https://mobyproject.org/buildkit@v1",
            "materials": [
                *(
                    {
                        # as a purl writes them: the registry's colon escaped, as the digest's
                        "uri": f"pkg:docker/{quote(ref, safe='/')}@{quote(digest)}?platform=linux%2Famd64",
                        "digest": {"sha256": digest.split(":")[1]},
                    }
                    for ref, digest in images
                ),
                {"uri": "https://github.com/example/app.git#main", "digest": {"sha1": "c0ffee" * 6 + "0000"}},
            ],
        },
    }


def test_slsa_0_2_materials_name_each_image_by_digest_and_nothing_else():
    statement = slsa02(("127.0.0.1:5000/imagelab-bases/golang", GOLANG), ("127.0.0.1:5000/x/static", STATIC))
    assert provenance.materials(statement) == [
        provenance.Material("127.0.0.1:5000/imagelab-bases/golang", GOLANG),
        provenance.Material("127.0.0.1:5000/x/static", STATIC),
    ]


def test_slsa_1_resolved_dependencies_are_read_the_same_way():
    statement = {
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {
            "buildDefinition": {
                "resolvedDependencies": [
                    {"uri": "pkg:docker/docker.io/library/golang@1.24", "digest": {"sha256": GOLANG[7:]}}
                ]
            }
        },
    }
    assert provenance.materials(statement) == [provenance.Material("docker.io/library/golang", GOLANG)]


def _blob(blobs: dict[str, bytes], document: dict) -> dict:
    data = json.dumps(document).encode()
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    blobs[digest] = data
    return {"digest": digest, "size": len(data)}


def write_archive(path: Path, statement: dict | None) -> Path:
    """An OCI layout as `docker save` writes it on the containerd store: an index whose image index holds
    the platform manifest and, given a statement, an attestation manifest beside it."""
    blobs: dict[str, bytes] = {}
    config = _blob(blobs, {"architecture": "amd64", "os": "linux", "rootfs": {"diff_ids": []}})
    image = _blob(
        blobs, {"mediaType": "application/vnd.oci.image.manifest.v1+json", "config": config, "layers": []}
    )
    manifests = [{**image, "platform": {"architecture": "amd64", "os": "linux"}}]
    if statement is not None:
        layer = _blob(blobs, statement)
        layer |= {
            "mediaType": provenance.IN_TOTO,
            "annotations": {"in-toto.io/predicate-type": statement["predicateType"]},
        }
        attestation = _blob(blobs, {"config": config, "layers": [layer]})
        manifests.append(
            {
                **attestation,
                "platform": {"architecture": "unknown", "os": "unknown"},
                "annotations": {
                    "vnd.docker.reference.type": provenance.ATTESTATION,
                    "vnd.docker.reference.digest": image["digest"],
                },
            }
        )
    top = _blob(blobs, {"mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests})
    files = {"index.json": json.dumps({"manifests": [top]}).encode()}
    files |= {f"blobs/sha256/{d.split(':')[1]}": data for d, data in blobs.items()}
    with tarfile.open(path, "w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def read(path: Path) -> list[provenance.Material] | None:
    with tarfile.open(path) as outer:
        return provenance.from_archive(outer, path)


def test_the_attestation_beside_the_image_is_found_in_its_archive(tmp_path):
    archive = write_archive(tmp_path / "image.tar", slsa02(("127.0.0.1:5000/imagelab-bases/static", STATIC)))
    assert read(archive) == [provenance.Material("127.0.0.1:5000/imagelab-bases/static", STATIC)]


def test_an_archive_without_attestation_has_no_provenance_which_is_not_no_bases(tmp_path):
    assert read(write_archive(tmp_path / "image.tar", None)) is None


def image(variant: str, resolved: list[str], recorded: list[str] | None) -> ImageResult:
    return ImageResult(
        app="go-href",
        variant=variant,
        base_set="debian",
        tag=f"imagelab/go-href:{variant}-debian",
        built=True,
        base_images=[BaseImage(ref=f"127.0.0.1:5000/b@{d}", id="", digest=d) for d in resolved],
        provenance=None if recorded is None else [ProvenanceBase("127.0.0.1:5000/b", d) for d in recorded],
    )


def test_the_report_shows_recorded_next_to_resolved_and_names_an_image_pulled_by_another_digest():
    agreeing = image("distroless", [GOLANG, STATIC], [GOLANG, STATIC])
    # A debug stage's base is resolved, yet never pulled for the target: no disagreement.
    debug_stage = image("slim", [GOLANG, STATIC], [GOLANG])
    other = image("minimal", [GOLANG], [GOLANG, STATIC])
    text = "\n".join(
        markdown.provenance_lines([agreeing, debug_stage, other, image("naive", [GOLANG], None)])
    )
    assert "**distroless**: sha256:f9c49053390a, sha256:79d6cb18ffc0 / " in text
    assert "sha256:79d6cb18ffc0: agree" in text
    assert "**slim**: sha256:f9c49053390a / sha256:f9c49053390a, sha256:79d6cb18ffc0: agree" in text
    assert "**minimal**: sha256:f9c49053390a, sha256:79d6cb18ffc0 / sha256:f9c49053390a: DISAGREE" in text
    assert "sha256:79d6cb18ffc0" in text.split("DISAGREE")[1].splitlines()[0]
    assert "**naive**: no provenance on this store/engine" in text


def test_a_report_with_no_provenance_at_all_says_so_once():
    lines = markdown.provenance_lines([image("naive", [GOLANG], None), image("slim", [GOLANG], None)])
    assert lines[0].startswith("Provenance: no provenance on this store/engine")


# A real engine: a containerd-store second engine keeps the provenance BuildKit attaches.


@pytest.mark.docker
@pytest.mark.skipif(os.geteuid() != 0, reason="a second dockerd needs root")
def test_on_the_containerd_store_provenance_names_the_base_by_the_digest_it_was_pulled_by(tmp_path):
    where = registry.ensure_registry(log=lambda _: None).address
    base = f"{where}/imagelab-test/provenance-base:{uuid.uuid4().hex[:8]}"
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "Dockerfile").write_text("FROM scratch\nCOPY stamp /stamp\n")
    (tmp_path / "base" / "stamp").write_text(base)  # a base of its own, so its digest is this test's
    with second_engine.second_engine(log=lambda _: None, kind="forky", store="containerd") as other:
        env = {**os.environ, "DOCKER_HOST": other.host}

        def docker(*args: str) -> None:
            done = subprocess.run(
                ["docker", *args], env=env, capture_output=True, text=True, timeout=300, check=False
            )
            assert done.returncode == 0, done.stderr[-2000:]

        metadata = tmp_path / "pushed.json"
        docker(
            "buildx", "build", "--push", "--metadata-file", str(metadata), "-t", base, str(tmp_path / "base")
        )
        digest = json.loads(metadata.read_text())["containerimage.digest"]
        (tmp_path / "image").mkdir()
        (tmp_path / "image" / "Dockerfile").write_text(
            f"FROM {base.rsplit(':', 1)[0]}@{digest}\nCOPY . /app\n"
        )
        docker("buildx", "build", "--load", "-t", "imagelab-scratch/provenance:test", str(tmp_path / "image"))
        docker("save", "-o", str(tmp_path / "image.tar"), "imagelab-scratch/provenance:test")
    with imagefs.open_archive(tmp_path / "image.tar") as image:
        assert image.provenance() == [provenance.Material(base.rsplit(":", 1)[0], digest)]
