"""Reproducible builds: the comparison of two builds (unit, on archives made here), and the real thing
(marker docker): an image built twice gives one digest, a Dockerfile that writes the clock into a file
is caught by that file's name, and timestamp rewriting leaves the base image's layers as they were."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest

from imagelab import ROOT, apps, bases, build, engine, process, repro, revision, selection
from imagelab.errors import ConfigError
from imagelab.inspect import imagefs, layerdiff, origin
from imagelab.report import repro as report

STAMPED = ROOT / "tests" / "fixtures" / "stamped"
EPOCH = 1_700_000_000

# --- archives made here: an OCI layout with uncompressed layers, as `repro` exports them -------------

Files = dict[str, bytes | tuple[bytes, int]]  # path -> content, or (content, mtime)


def layer_tar(files: Files) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path, value in files.items():
            content, mtime = value if isinstance(value, tuple) else (value, EPOCH)
            info = tarfile.TarInfo(path.lstrip("/"))
            info.size, info.mtime, info.mode = len(content), mtime, 0o644
            tar.addfile(info, io.BytesIO(content))
    return out.getvalue()


def oci_archive(path: Path, layers: list[Files], created: str = "2023-11-14T22:13:20Z") -> Path:
    blobs: dict[str, bytes] = {}

    def blob(data: bytes) -> dict:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        blobs[digest] = data
        return {"digest": digest, "size": len(data)}

    tars = [layer_tar(files) for files in layers]
    config = {
        "architecture": "amd64",
        "os": "linux",
        "created": created,
        "config": {"Entrypoint": ["/app"]},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(t).hexdigest() for t in tars]},
        "history": [{"created": created, "created_by": f"step {n}"} for n in range(len(tars))],
    }
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            **blob(json.dumps(config).encode()),
        },
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", **blob(t)} for t in tars],
    }
    index = {"schemaVersion": 2, "manifests": [blob(json.dumps(manifest).encode())]}
    with tarfile.open(path, "w") as out:
        for name, data in [
            ("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'),
            ("index.json", json.dumps(index).encode()),
            *((f"blobs/sha256/{d.removeprefix('sha256:')}", b) for d, b in blobs.items()),
        ]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            out.addfile(info, io.BytesIO(data))
    return path


BASE: Files = {"/etc/os-release": b"PRETTY_NAME=Debian\n", "/usr/bin/tool": b"\x7fELF tool"}


def test_two_equal_builds_are_reproducible(tmp_path):
    own = {"/app": b"\x7fELF app"}
    compared = layerdiff.compare(
        oci_archive(tmp_path / "1.tar", [BASE, own]), oci_archive(tmp_path / "2.tar", [BASE, own])
    )
    assert compared.same and compared.digests[0] == compared.digests[1]
    assert compared.differences == ()


def test_differing_files_are_named_with_why(tmp_path):
    first = {
        "/app/main.cpython-313.pyc": b"\xf3\r\r\n\x00\x00\x00\x00\x10\x20\x30\x40code",
        "/var/log/dpkg.log": b"2026-12-06 02:10:01 install x\n",
        "/built-at": b"2026-12-06T02:10:01.123Z\n",
        "/usr/lib/libsame.so": (b"same bytes", EPOCH + 60),
        "/app/only-once": b"x",
        "/etc/unchanged": b"same",
    }
    second = {
        "/app/main.cpython-313.pyc": b"\xf3\r\r\n\x00\x00\x00\x00\x11\x21\x31\x41code",
        "/var/log/dpkg.log": b"2026-12-06 02:14:07 install x\n",
        "/built-at": b"2026-12-06T02:14:07.456Z\n",
        "/usr/lib/libsame.so": (b"same bytes", EPOCH + 300),
        "/etc/unchanged": b"same",
    }
    compared = layerdiff.compare(
        oci_archive(tmp_path / "1.tar", [BASE, first]), oci_archive(tmp_path / "2.tar", [BASE, second])
    )
    assert not compared.same and compared.digests[0] != compared.digests[1]
    assert compared.differing_layers == (1,)  # the base layer is equal and not read
    found = {d.path: d for d in compared.differences}
    assert "/etc/unchanged" not in found
    assert found["/app/main.cpython-313.pyc"].why.startswith("bytecode")
    assert "log" in found["/var/log/dpkg.log"].why
    assert found["/built-at"].what == "content" and "date or number" in found["/built-at"].why
    assert found["/usr/lib/libsame.so"].what == "mtime"
    assert "timestamp" in found["/usr/lib/libsame.so"].why
    assert found["/app/only-once"].what == "only in build 1"


def test_content_that_differs_beyond_digits_is_not_called_a_stamp(tmp_path):
    compared = layerdiff.compare(
        oci_archive(tmp_path / "1.tar", [{"/etc/motd": b"hello 1"}]),
        oci_archive(tmp_path / "2.tar", [{"/etc/motd": b"goodbye 2"}]),
    )
    (difference,) = compared.differences
    assert difference.what == "content" and difference.why == ""


def test_an_image_dated_by_the_build_clock_is_told_by_its_config(tmp_path):
    files = {"/app": b"same"}
    compared = layerdiff.compare(
        oci_archive(tmp_path / "1.tar", [files], created="2026-12-06T02:10:00Z"),
        oci_archive(tmp_path / "2.tar", [files], created="2026-12-06T02:14:00Z"),
    )
    assert not compared.same and compared.differing_layers == ()
    assert {d.path for d in compared.differences} == {"created", "history"}
    assert all("SOURCE_DATE_EPOCH" in d.why for d in compared.differences)


def test_a_build_with_more_layers_names_the_extra_files(tmp_path):
    compared = layerdiff.compare(
        oci_archive(tmp_path / "1.tar", [BASE]), oci_archive(tmp_path / "2.tar", [BASE, {"/extra": b"x"}])
    )
    assert compared.layers == (1, 2)
    assert [(d.path, d.what) for d in compared.differences if d.layer >= 0] == [("/extra", "only in build 2")]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/var/cache/ldconfig/aux-cache", "ldconfig"),
        ("/etc/ld.so.cache", "ldconfig"),
        ("/root/.npm/_cacache/index-v5/ab/cd", "npm"),
        ("/var/cache/debconf/templates.dat", "/var/cache"),
        ("/root/.cache/pip/http/x", "cache"),
        ("/root/.cache/go-build/00/00ab-a", "Go's build cache"),
        ("/root/.config/go/telemetry/local/weekends", "telemetry"),
    ],
)
def test_caches_are_told_by_their_place(path, expected):
    assert expected in layerdiff.why(path, "content")


# --- the report --------------------------------------------------------------------------------------


def run_of(*images: report.ImageRepro) -> report.ReproRun:
    return report.ReproRun(
        revision="0" * 40,
        source_date_epoch=EPOCH,
        source_date_origin="HEAD's commit time",
        engine="an engine",
        export="OCI archives",
        started="2026-12-06T02:00:00Z",
        seconds=61,
        load_before="load average: 1.00",
        load_after="load average: 2.00",
        images=list(images),
    )


def test_the_report_counts_reproducible_images_and_names_a_few_differing_files():
    files = [layerdiff.Difference(2, f"/app/m{n}.pyc", "content", "bytecode: x") for n in range(7)]
    same = report.ImageRepro("go-href", "minimal", report.REPRODUCIBLE, ("sha256:" + "a" * 64,) * 2)
    differs = report.ImageRepro(
        "microblog", "slim", report.DIFFERS, ("sha256:" + "b" * 64, "sha256:" + "c" * 64), files, [2]
    )
    failed = report.ImageRepro(
        "node-express", "naive", report.FAILED, error="node-express-naive: step failed"
    )
    text = report.markdown(run_of(same, differs, failed))
    assert "1 of 3 images are bit-for-bit reproducible (1 not built twice)" in text
    row = next(line for line in text.splitlines() if line.startswith("| microblog | slim"))
    assert "7 files in 1 layers" in row and "`/app/m0.pyc`" in row and "and 4 more" in row
    assert "`/app/m6.pyc`" not in row and "bytecode: x (7)" in row
    assert "node-express-naive: step failed" in text
    assert "load average: 2.00" in text and "2023-11-14T22:13:20Z" in text


def test_the_report_is_written_whole(tmp_path):
    markdown, data = report.write(run_of(), tmp_path)
    assert markdown.read_text().startswith("# Reproducible builds")
    assert json.loads(data.read_text())["summary"] == "0 of 0 images are bit-for-bit reproducible"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["repro.json", "repro.md"]


def test_a_run_of_some_apps_keeps_the_rows_of_the_others_and_says_when_they_were_built(tmp_path):
    go = report.ImageRepro("go-href", "minimal", report.REPRODUCIBLE, ("sha256:" + "a" * 64,) * 2, layers=2)
    stamp = layerdiff.Difference(1, "/built-at", "content", "a date")
    node = report.ImageRepro("node-express", "naive", report.DIFFERS, ("sha256:b", "sha256:c"), [stamp], [1])
    report.write(run_of(go, node), tmp_path)
    again = report.ImageRepro("node-express", "naive", report.REPRODUCIBLE, ("sha256:d",) * 2)
    merged = report.with_earlier(run_of(again), tmp_path)
    assert [(i.app, i.verdict) for i in merged.images] == [
        ("go-href", report.REPRODUCIBLE),
        ("node-express", report.REPRODUCIBLE),
    ]
    assert merged.images[0] == go
    (note,) = merged.earlier
    assert note.startswith("rows of go-href from an earlier run") and "took 61 s" in note
    assert "rows of go-href" in report.markdown(merged)


# --- SOURCE_DATE_EPOCH -------------------------------------------------------------------------------


def test_source_date_epoch_from_the_environment_wins(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1234567890")
    assert revision.source_date() == revision.SourceDate(1234567890, "SOURCE_DATE_EPOCH from the environment")


def test_a_source_date_epoch_that_is_no_number_is_refused(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(ConfigError, match="SOURCE_DATE_EPOCH='yesterday' is not a number"):
        revision.source_date()


def test_source_date_epoch_is_the_commit_time_of_head(monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    found = revision.source_date()
    if found.origin.startswith("no git"):
        pytest.skip("not a git checkout")
    assert found.origin.startswith("HEAD's commit time")
    assert found.epoch == int(
        process.run(["git", "log", "-1", "--format=%ct"], timeout=30, what="git").stdout
    )


def test_every_bake_target_carries_source_date_epoch(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1234567890")
    base_set = bases.open_set("debian")
    cells = apps.select(apps.discover(), [], [], base_set)
    definition = build.bake_definition(cells, base_set)
    assert {t["args"]["SOURCE_DATE_EPOCH"] for t in definition["target"].values()} == {"1234567890"}


# --- the real thing ----------------------------------------------------------------------------------


def stamped_cell(monkeypatch) -> apps.Variant:
    monkeypatch.setenv(apps.APPS_ENV, str(STAMPED / "apps"))
    (cell,) = selection.variants(bases.open_set("debian"), ["stamp"], ["minimal"], resolve=True)
    return cell


@pytest.mark.docker
def test_go_href_minimal_built_twice_gives_one_digest(tmp_path):
    (cell,) = selection.variants(bases.open_set("debian"), ["go-href"], ["minimal"], resolve=True)
    done = repro.run([cell], tmp_path, scratch=tmp_path / "archives")
    (image,) = done.images
    assert image.verdict == report.REPRODUCIBLE, image.differences[:5]
    assert image.digests[0] == image.digests[1] and image.digests[0].startswith("sha256:")
    assert "1 of 1 images are bit-for-bit reproducible" in (tmp_path / "repro.md").read_text()


@pytest.mark.docker
def test_a_dockerfile_that_writes_the_clock_is_named_with_its_file(tmp_path, monkeypatch):
    cell = stamped_cell(monkeypatch)
    done = repro.run([cell], tmp_path, keep=True, scratch=tmp_path / "archives")
    (image,) = done.images
    assert image.verdict == report.DIFFERS
    assert [d.path for d in image.files] == ["/built-at"]
    assert "date or number" in image.files[0].why
    # The COPY'd file and every file's time agree: rewriting dated them all SOURCE_DATE_EPOCH.
    assert "/stamp.txt" not in {d.path for d in image.differences}

    # moby/buildkit#4805: rewriting timestamps once rewrote the base image's layers too, and the
    # report's base-versus-own split (base layers matched by diff id) then found no base at all.
    base = cell.base_set.image("debian-slim")
    assert base is not None
    base_layers = engine.layer_ids(base.ref)
    assert base_layers
    with imagefs.open_archive(tmp_path / "archives" / "1" / f"{cell.target}.tar") as rewritten:
        count, _ = origin.split(rewritten, [base.ref])
        assert count == len(base_layers)
        assert [layer.diff_id for layer in rewritten.layers[:count]] == base_layers
        assert len(rewritten.layers) > count  # and the image's own layers are there above them
