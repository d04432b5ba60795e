"""Base sets resolved in a registry: a moved digest is noticed, a pin is obeyed, a bad set is one line.

The docker tests start their own registry on a free loopback port (state in a temporary folder) and
push throw-away images to it under imagelab-scratch/; nothing the builds use on 127.0.0.1:5000 moves.
"""

from __future__ import annotations

import json
import shutil
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from imagelab import apps, bases, build, cli, engine
from imagelab.bases import check, resolution
from imagelab.engine import registry
from imagelab.errors import ConfigError

DIGEST_A, DIGEST_B = "sha256:" + "a" * 64, "sha256:" + "b" * 64
#: Every cell's Dockerfile, by cell name: what `bases --check` looks through for the users of a role.
DOCKERFILES = {
    f"{app.name}/{variant}": app.dockerfile(variant)
    for app in apps.discover().values()
    for variant in apps.VARIANTS
    if app.dockerfile(variant).is_file()
}


def write_set(folder: Path, name: str, roles: dict[str, str]) -> Path:
    path = folder / f"{name}.toml"
    lines = "".join(f'{role} = "{ref}"\n' for role, ref in roles.items())
    path.write_text(f'description = "a test set"\n[roles]\n{lines}')
    return path


def write_baseline(folder: Path, set_name: str, bases_used: dict[str, str]) -> Path:
    """A compare.json whose go-href/distroless image was built on these ref -> digest."""
    path = folder / "baseline.json"
    images = [{"ref": f"{ref}@{digest}", "id": "", "digest": digest} for ref, digest in bases_used.items()]
    row = {"app": "go-href", "variant": "distroless", "base_set": set_name, "built": True}
    path.write_text(
        json.dumps({"schema": 1, "base_set": set_name, "images": [{**row, "base_images": images}]})
    )
    return path


# --- which references are stand-ins this machine makes -------------------------------------------


def test_debian12_takes_golang_from_the_debian13_recipes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(registry.ADDRESS_ENV, raising=False)
    made = resolution.local_stand_ins(bases.open_set("debian12"), bases.load_recipes())
    assert {role: (local_set.name, built) for role, (local_set, built) in made.items()}["golang"] == (
        "debian",
        "golang",
    )
    assert made["python"][0].name == "debian12" and len(made) == 12


def test_a_reference_into_the_registry_that_no_recipe_makes_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(registry.ADDRESS_ENV, raising=False)
    path = write_set(tmp_path, "odd", {"python": "{registry}/imagelab-bases/python:debian11"})
    with pytest.raises(ConfigError) as caught:
        resolution.local_stand_ins(bases.open_set(str(path)), bases.load_recipes())
    assert caught.value.cause.startswith(
        "odd.toml: role python (127.0.0.1:5000/imagelab-bases/python:debian11)"
    )


# --- --check with digests given (no registry) ------------------------------------------------------


def test_check_names_the_moved_role_and_the_cells_on_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    golden = bases.open_set(
        str(write_set(tmp_path, "golden", {"static": "r.example/static:1", "golang": "r.example/go:1"}))
    )
    now = {"r.example/static:1": DIGEST_B, "r.example/go:1": DIGEST_A}
    monkeypatch.setattr(registry, "remote_digest", lambda ref, **_: now[ref])
    baseline = write_baseline(tmp_path, "golden", {"r.example/static": DIGEST_A, "r.example/go": DIGEST_A})
    result = check.check(golden, baseline, DOCKERFILES)
    assert [r.role for r in result.moved] == ["static"]
    moved = result.moved[0]
    assert (moved.recorded, moved.current) == (DIGEST_A, DIGEST_B)
    assert moved.cells == ["go-href/distroless"]
    lines = check.summary(result)
    assert lines[0] == f"MOVED static r.example/static:1: {DIGEST_A[:19]} -> {DIGEST_B[:19]}"
    assert "1 moved, 1 unchanged" in lines[-1]
    assert result.to_json()["moved"] == ["static"]


def test_check_refuses_a_baseline_of_another_set(tmp_path: Path) -> None:
    golden = bases.open_set(str(write_set(tmp_path, "golden", {"static": "r.example/static:1"})))
    with pytest.raises(ConfigError) as caught:
        check.check(golden, write_baseline(tmp_path, "debian", {}), DOCKERFILES)
    assert "measured the 'debian' base set, not 'golden'" in caught.value.cause


# --- a real registry -------------------------------------------------------------------------------


def free_address() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture
def own_registry(tmp_path: Path) -> Iterator[str]:
    if shutil.which("docker-registry") is None or shutil.which("skopeo") is None:
        pytest.skip("needs Debian's docker-registry and skopeo (`nox -s registry` installs them)")
    where, state = free_address(), registry.State(tmp_path / "registry")
    registry.ensure_registry(where, state, log=lambda _: None)
    yield where
    registry.stop_registry(where, state)


def push_new_image(context: Path, remote: str, base: str = "scratch") -> str:
    """Build a small image no cache has seen, push it as `remote`, remove it locally; its digest."""
    context.mkdir(exist_ok=True)
    (context / "Dockerfile").write_text(
        f"FROM {base}\nCOPY marker /\nLABEL org.imagelab.test={uuid.uuid4().hex}\n"
    )
    (context / "marker").write_text(uuid.uuid4().hex)
    local = f"imagelab-scratch/registry-sets:{uuid.uuid4().hex[:12]}"
    engine.build_image(context, context / "Dockerfile", local, timeout_s=120)
    try:
        return registry.push(local, remote)
    finally:
        engine.client().images.remove(local, force=True)


@pytest.mark.docker
def test_a_digest_moved_under_the_same_tag_is_detected(own_registry: str, tmp_path: Path, capsys) -> None:
    ref = f"{own_registry}/imagelab-scratch/registry-check:static"
    first = push_new_image(tmp_path / "a", ref)
    path = write_set(tmp_path, "golden-check", {"static": ref})
    baseline = write_baseline(tmp_path, "golden-check", {ref.rsplit(":", 1)[0]: first})
    argv = ["bases", "--check", "--bases", str(path), "--baseline", str(baseline), "--json"]

    assert cli.main(argv) == 0
    assert json.loads(capsys.readouterr().out)["moved"] == []

    second = push_new_image(tmp_path / "b", ref)  # the tag moves, as python:3.13 moves on Docker Hub
    assert second != first
    assert cli.main(argv) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["moved"] == ["static"]
    (static,) = report["roles"]
    assert (static["recorded"], static["current"]) == (first, second)
    assert static["cells"] == ["go-href/distroless"]


@pytest.mark.docker
def test_an_unreachable_registry_is_one_line_naming_file_role_and_reference(tmp_path: Path) -> None:
    if shutil.which("skopeo") is None:
        pytest.skip("needs skopeo (`nox -s registry` installs it)")
    ref = f"{free_address()}/golden/python:3.13"  # nothing listens there
    path = write_set(tmp_path, "golden", {"python": ref})
    with pytest.raises(ConfigError) as caught:
        build.ensure_bases(str(path))
    assert caught.value.cause.startswith(f"golden.toml: role python ({ref}): cannot resolve it: ")
    assert "\n" not in caught.value.cause and "reachable" in caught.value.hint


@pytest.mark.docker
def test_a_build_on_a_pinned_digest_uses_that_digest(own_registry: str, tmp_path: Path) -> None:
    """go-href's distroless image on a set that pins `static` to the first of two images pushed under
    one tag: the build takes the pinned one (its labels say so, and the newer image's label is absent)."""
    static = f"{own_registry}/imagelab-scratch/registry-pin:static"
    pinned = push_new_image(
        tmp_path / "a", static, base=f"{registry.address()}/imagelab-bases/static:debian13"
    )
    newer = push_new_image(
        tmp_path / "b", static, base=f"{registry.address()}/imagelab-bases/static:debian13"
    )
    name = f"registry-pin-{uuid.uuid4().hex[:8]}"
    path = write_set(
        tmp_path,
        name,
        {
            "golang": f"{registry.address()}/imagelab-bases/golang:debian13",
            "debian-slim": f"{registry.address()}/imagelab-bases/debian-slim:debian13",
            "static": f"{static}@{pinned}",
        },
    )
    golden = build.ensure_bases(str(path))
    assert golden.image("static").digest == pinned != newer
    (cell,) = apps.select(apps.discover(), ["go-href"], ["distroless"], golden)
    try:
        (built,) = build.build([cell], golden)
        assert built.result.ok, built.result.describe_failure()
        labels = engine.image_labels(cell.tag)
        assert labels["org.opencontainers.image.base.name"] == static
        assert labels["org.opencontainers.image.base.digest"] == pinned
        assert labels["org.imagelab.base-set"] == name
        base_labels = engine.client().images.pull(f"{static.rsplit(':', 1)[0]}@{pinned}").labels
        assert labels["org.imagelab.test"] == base_labels["org.imagelab.test"]  # inherited from the pin
    finally:
        engine.remove_image(cell.tag)
        engine.remove_image(f"{static.rsplit(':', 1)[0]}@{pinned}")
