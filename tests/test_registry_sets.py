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
from engine_needs import skip_unless_buildable

from imagelab import apps, bases, build, cli, engine
from imagelab.bases import check, inputs, resolution
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


def write_baseline(
    folder: Path,
    set_name: str,
    bases_used: dict[str, str],
    made_from: dict[str, dict[str, str]] | None = None,
) -> Path:
    """A compare.json whose go-href/distroless image was built on these ref -> digest (and, where
    `made_from` gives them, the inputs those stand-ins recorded)."""
    path = folder / "baseline.json"
    images = [
        {"ref": f"{ref}@{digest}", "id": "", "digest": digest, "inputs": (made_from or {}).get(ref, {})}
        for ref, digest in bases_used.items()
    ]
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
    monkeypatch.setattr(registry, "remote_labels", lambda ref, **_: {})  # images that record no inputs
    baseline = write_baseline(tmp_path, "golden", {"r.example/static": DIGEST_A, "r.example/go": DIGEST_A})
    result = check.check(golden, baseline, DOCKERFILES)
    assert [r.role for r in result.moved] == ["static"]
    moved = result.moved[0]
    assert (moved.recorded, moved.current) == (DIGEST_A, DIGEST_B)
    assert moved.cells == ["go-href/distroless"]
    lines = check.summary(result)
    assert lines[0].startswith(f"MOVED static r.example/static:1: {DIGEST_A[:19]} -> {DIGEST_B[:19]} (")
    assert "1 moved, 1 unchanged" in lines[-1]
    assert result.to_json()["moved"] == ["static"]


INPUTS = {"packages": "sha256:" + "1" * 64, "recipe": "sha256:" + "2" * 64, "archive": "trixie 2026-11-15"}


def check_static_moved_to_b(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    then: dict[str, str],
    now: dict[str, str],
    old_in_registry: bool = False,
) -> check.CheckResult:
    """static's digest went from A to B; the baseline recorded `then` as A's inputs, B's labels say
    `now` (the registry no longer holds A unless `old_in_registry`, whose labels then say INPUTS)."""
    golden = bases.open_set(str(write_set(tmp_path, "golden", {"static": "r.example/static:1"})))
    monkeypatch.setattr(registry, "remote_digest", lambda ref, **_: DIGEST_B)

    def remote_labels(ref: str, **_: object) -> dict[str, str]:
        if ref == f"r.example/static@{DIGEST_B}":
            return {f"org.imagelab.inputs.{name}": value for name, value in now.items()}
        if ref == f"r.example/static@{DIGEST_A}" and old_in_registry:
            return {f"org.imagelab.inputs.{name}": value for name, value in INPUTS.items()}
        raise registry.RegistryError("cannot resolve it: manifest unknown")

    monkeypatch.setattr(registry, "remote_labels", remote_labels)
    baseline = write_baseline(tmp_path, "golden", {"r.example/static": DIGEST_A}, {"r.example/static": then})
    return check.check(golden, baseline, DOCKERFILES)


def test_a_new_digest_from_the_same_packages_and_recipe_is_rebuilt_not_moved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    newer_archive = {**INPUTS, "archive": "trixie 2026-12-01"}  # re-signed: no package moved
    result = check_static_moved_to_b(tmp_path, monkeypatch, INPUTS, newer_archive)
    (static,) = result.roles
    assert static.verdict == check.REBUILT and not result.moved and not result.failed
    lines = check.summary(result)
    assert lines[0].startswith(f"REBUILT static r.example/static:1: {DIGEST_A[:19]} -> {DIGEST_B[:19]}")
    assert "archive trixie 2026-11-15 -> trixie 2026-12-01" in lines[0]
    assert "1 rebuilt" in lines[-1] and "moved" not in lines[-1]
    assert result.to_json()["rebuilt"] == ["static"] and result.to_json()["moved"] == []


@pytest.mark.parametrize("changed", ["packages", "recipe"])
def test_other_packages_or_another_recipe_is_a_move(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, changed: str
) -> None:
    result = check_static_moved_to_b(tmp_path, monkeypatch, INPUTS, {**INPUTS, changed: "sha256:" + "9" * 64})
    assert [r.role for r in result.moved] == ["static"]
    assert result.moved[0].reason.startswith(f"other {changed}")
    assert check.summary(result)[0].startswith("MOVED static")


def test_a_baseline_without_inputs_is_a_move_unless_the_registry_still_has_the_old_image(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    unknown = check_static_moved_to_b(tmp_path, monkeypatch, {}, INPUTS)
    assert [r.role for r in unknown.moved] == ["static"]
    assert "the baseline records no recipe or packages" in unknown.moved[0].reason
    # The machine that measured the baseline still has its image: its labels say what it was made of.
    known = check_static_moved_to_b(tmp_path, monkeypatch, {}, INPUTS, old_in_registry=True)
    assert known.roles[0].verdict == check.REBUILT


def test_a_stand_in_no_run_has_built_is_not_built_yet_with_the_command_that_builds_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(registry.ADDRESS_ENV, raising=False)
    monkeypatch.setattr(registry, "ensure_registry", lambda *_, **__: None)
    cc, static = (f"{registry.address()}/imagelab-bases/{role}:debian13" for role in ("cc", "static"))
    golden = bases.open_set(str(write_set(tmp_path, "golden", {"cc": cc, "static": static})))

    def remote_digest(ref: str, **_: object) -> str:
        if ref == cc:
            raise registry.RegistryError(
                f"cannot resolve it: reading manifest debian13 in {cc.rsplit(':', 1)[0]}: manifest unknown"
            )
        raise registry.RegistryError("cannot resolve it: connection refused")

    monkeypatch.setattr(registry, "remote_digest", remote_digest)
    result = check.check(golden, None, DOCKERFILES, set_argument="golden")
    verdicts = {r.role: r.verdict for r in result.roles}
    assert verdicts == {"cc": check.NOT_BUILT, "static": check.FAILED}  # only a missing stand-in is
    assert [r.role for r in result.failed] == ["static"]
    lines = check.summary(result)
    assert f"NOT BUILT HERE YET cc {cc}: build it with `nox -s bases -- --bases golden --role cc`" in lines
    assert "1 not built here yet, 1 failed" in lines[-1]


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


def push_new_image(
    context: Path, remote: str, base: str = "scratch", labels: dict[str, str] | None = None
) -> str:
    """Build a small image no cache has seen (with `labels`), push it as `remote`, remove it locally;
    its digest."""
    context.mkdir(exist_ok=True)
    more = "".join(f'LABEL {key}="{value}"\n' for key, value in (labels or {}).items())
    (context / "Dockerfile").write_text(
        f"FROM {base}\nCOPY marker /\nLABEL org.imagelab.test={uuid.uuid4().hex}\n{more}"
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
def test_a_stand_in_made_again_is_rebuilt_one_never_made_is_not_built_yet_and_new_packages_moved(
    own_registry: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """As on a newcomer's machine: static made again from the same inputs (a new digest), cc never made
    (compare's apps did not need it), then static made from other package versions."""
    monkeypatch.setenv(registry.ADDRESS_ENV, own_registry)  # its imagelab-bases/ are the stand-ins
    static, cc = (f"{own_registry}/imagelab-bases/{role}:debian13" for role in ("static", "cc"))
    repository = static.rsplit(":", 1)[0]
    first = push_new_image(tmp_path / "a", static, labels=inputs.as_labels(INPUTS))
    path = write_set(tmp_path, "golden-rebuilt", {"static": static, "cc": cc})
    baseline = write_baseline(tmp_path, "golden-rebuilt", {repository: first}, {repository: INPUTS})
    argv = ["bases", "--check", "--bases", str(path), "--baseline", str(baseline), "--json"]

    again = push_new_image(tmp_path / "b", static, labels=inputs.as_labels(INPUTS))
    assert again != first
    assert cli.main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["rebuilt"], report["not_built"], report["moved"]) == (["static"], ["cc"], [])
    not_built = next(role for role in report["roles"] if role["role"] == "cc")
    assert not_built["reason"] == f"nox -s bases -- --bases {path} --role cc"

    updated = {**INPUTS, "packages": inputs.packages_digest({"libc6": "2.41-12+deb13u1"})}
    push_new_image(tmp_path / "c", static, labels=inputs.as_labels(updated))
    assert cli.main(argv) == 1
    report = json.loads(capsys.readouterr().out)
    assert (report["moved"], report["not_built"]) == (["static"], ["cc"])


@pytest.mark.docker
def test_an_unreachable_registry_is_one_line_naming_file_role_and_reference(tmp_path: Path) -> None:
    if shutil.which("skopeo") is None:
        pytest.skip("needs skopeo (`nox -s registry` installs it)")
    ref = f"{free_address()}/golden/python:3.13"  # nothing listens there
    path = write_set(tmp_path, "golden", {"python": ref})
    with pytest.raises(ConfigError) as caught:
        build.ensure_bases(bases.open_set(str(path)))
    assert caught.value.cause.startswith(f"golden.toml: role python ({ref}): cannot resolve it: ")
    assert "\n" not in caught.value.cause and "reachable" in caught.value.hint


@pytest.mark.docker
def test_a_build_on_a_pinned_digest_uses_that_digest(own_registry: str, tmp_path: Path) -> None:
    """go-href's distroless image on a set that pins `static` to the first of two images pushed under
    one tag: the build takes the pinned one (its labels say so, and the newer image's label is absent)."""
    skip_unless_buildable(apps.discover()["go-href"].dockerfile("distroless"), "go-href/distroless")
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
    golden = build.ensure_bases(bases.open_set(str(path)))
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
