"""exposure: each reader on fixture trees, the flags on synthetic images, then real images."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import build_busybox_image
from saved_images import FIXTURES, file, folder, symlink, tree, write_docker_archive

from imagelab import apps, bases, engine
from imagelab.engine import registry
from imagelab.inspect import dpkg, exposure, imagefs
from imagelab.inspect.exposure import Package

PASSWD = (
    b"root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n"
    b"nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"
)


def open_image(tmp_path: Path, *layers: list, config: dict | None = None) -> imagefs.ImageFS:
    return imagefs.open_archive(write_docker_archive(tmp_path / "image.tar", list(layers), config))


# -- packages -------------------------------------------------------------------------------------


def test_dpkg_status_counts_installed_packages_only(tmp_path: Path):
    with open_image(tmp_path, tree(FIXTURES / "dpkg")) as image:
        packages = exposure.deb_packages(image)

    assert sorted(packages) == [
        Package("deb", "base-files", "13.8"),
        Package("deb", "libc6", "2.41-12"),
        Package("deb", "tzdata", "2025b-4"),
    ]


def test_distroless_status_d_files_hold_one_or_more_packages_each(tmp_path: Path):
    with open_image(tmp_path, tree(FIXTURES / "distroless")) as image:
        packages = exposure.deb_packages(image)

    assert sorted(p.name for p in packages) == ["base-files", "libc6", "media-types", "netbase"]


def test_status_and_status_d_together_count_each_package_once(tmp_path: Path):
    with open_image(tmp_path, tree(FIXTURES / "dpkg"), tree(FIXTURES / "distroless")) as image:
        assert exposure.assess(image).counts["deb"] == 5


def test_python_distributions_in_site_packages_dist_packages_and_pip_target_folders(tmp_path: Path):
    with open_image(tmp_path, tree(FIXTURES / "python")) as image:
        packages = exposure.python_packages(image)

    assert sorted(packages) == [
        Package("python", "Flask", "3.1.0"),
        Package("python", "click", "8.1.8"),
        Package("python", "legacy-pkg", "0.9"),
        Package("python", "no_metadata", "2.0"),
        Package("python", "single-file", "1.2"),
        Package("python", "six", "1.17.0"),
    ]


def test_npm_packages_are_package_folders_with_a_name_and_version(tmp_path: Path):
    with open_image(tmp_path, tree(FIXTURES / "node")) as image:
        packages = exposure.npm_packages(image)

    assert sorted(packages) == [
        Package("npm", "@types/node", "22.10.2"),
        Package("npm", "debug", "2.6.9"),
        Package("npm", "debug", "4.4.0"),
        Package("npm", "express", "4.21.2"),
        Package("npm", "resolve", "1.22.10"),
    ]


def _buildinfo_blob(version: str, modinfo: str) -> bytes:
    def uvarint(n: int) -> bytes:
        out = b""
        while n >= 0x80:
            out += bytes([n & 0x7F | 0x80])
            n >>= 7
        return out + bytes([n])

    framed = ("0" * 16 + modinfo + "1" * 16).encode()
    return (
        exposure.GO_MAGIC
        + bytes([8, 2])
        + bytes(16)
        + uvarint(len(version))
        + version.encode()
        + uvarint(len(framed))
        + framed
    )


def test_go_build_info_is_found_past_a_decoy_and_parsed():
    deps = "".join(f"dep\texample.com/dep{n}\tv1.{n}.0\th1:abc=\n" for n in range(8))
    modinfo = f"path\texample.com/tool\nmod\texample.com/tool\tv0.3.0\th1:x=\n{deps}=>\t../dep\t\nbuild\tGOOS=linux\n"
    decoy = exposure.GO_MAGIC + b"\x20\x00"  # the magic as a string constant in code: no build info after it
    binary = b"\x7fELF" + bytes(12) + decoy + bytes(32 - len(decoy)) + _buildinfo_blob("go1.24.4", modinfo)

    info = exposure.parse_go_buildinfo(binary)

    assert len(modinfo) > 127, "a two-byte length exercises the varint"
    assert info.go_version == "go1.24.4"
    assert info.path == "example.com/tool"
    assert info.modules == [("example.com/tool", "v0.3.0")] + [
        (f"example.com/dep{n}", f"v1.{n}.0") for n in range(8)
    ]
    assert exposure.parse_go_buildinfo(b"\x7fELF no Go here") is None


@pytest.fixture(scope="module")
def go_binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny Go program with one (locally replaced) dependency, built offline by the host's go."""
    go = shutil.which("go")
    if go is None:
        pytest.skip("needs the go toolchain on the host to build a Go binary")
    source = tmp_path_factory.mktemp("hello")
    (source / "greeting").mkdir()
    (source / "go.mod").write_text(
        "module example.com/hello\n\ngo 1.22\n\nrequire example.com/greeting v1.2.3\n\n"
        "replace example.com/greeting => ./greeting\n"
    )
    (source / "main.go").write_text(
        'package main\n\nimport "example.com/greeting"\n\nfunc main() { println(greeting.Hello()) }\n'
    )
    (source / "greeting" / "go.mod").write_text("module example.com/greeting\n\ngo 1.22\n")
    (source / "greeting" / "greeting.go").write_text(
        'package greeting\n\nfunc Hello() string { return "hi" }\n'
    )
    env = os.environ | {
        "GOPROXY": "off",
        "GOFLAGS": "-mod=mod -buildvcs=false",
        "GOTOOLCHAIN": "local",
        "GOWORK": "off",
        "CGO_ENABLED": "0",
    }
    subprocess.run(
        [go, "build", "-o", "hello", "."], cwd=source, env=env, check=True, timeout=300, capture_output=True
    )
    return source / "hello"


def test_go_modules_come_from_the_binaries_in_the_image(tmp_path: Path, go_binary: Path):
    not_go = Path(shutil.which("true") or "/bin/true").read_bytes()
    layer = [
        folder("usr/local/bin"),
        file("usr/local/bin/hello", go_binary.read_bytes(), 0o755),
        file("usr/local/bin/true", not_go, 0o755),
        file("srv/hello.copy", go_binary.read_bytes(), 0o644),
    ]

    with open_image(tmp_path, layer) as image:
        binaries = exposure.go_binaries(image)
        packages = exposure.go_modules(image)

    assert [path for path, _ in binaries] == ["/usr/local/bin/hello"], "only executable files are read"
    info = binaries[0][1]
    assert info.path == "example.com/hello" and info.go_version.startswith("go1.")
    assert packages == [
        Package("go", "stdlib", info.go_version),
        Package("go", "example.com/hello", "(devel)"),
        Package("go", "example.com/greeting", "v1.2.3"),
    ]


# -- flags ----------------------------------------------------------------------------------------

DEBIAN_LIKE = [
    folder("usr/bin"),
    folder("usr/sbin"),
    symlink("bin", "usr/bin"),
    symlink("sbin", "usr/sbin"),
    file("usr/bin/dash", b"sh", 0o755),
    symlink("usr/bin/sh", "dash"),
    file("usr/bin/apt-get", b"apt", 0o755),
    file("usr/bin/dpkg", b"dpkg", 0o755),
    file("usr/bin/gcc-14", b"gcc", 0o755),
    symlink("usr/bin/gcc", "gcc-14"),
    folder("etc/alternatives"),
    symlink("etc/alternatives/cc", "/usr/bin/gcc"),
    symlink("usr/bin/cc", "/etc/alternatives/cc"),
    file("usr/local/go/bin/go", b"go", 0o755),
    file("usr/local/bin/pip3", b"not executable", 0o644),
    file("opt/venv/bin/pip", b"pip", 0o755),
    file("usr/bin/passwd", b"p", 0o4755),
    file("usr/bin/expiry", b"e", 0o2755),
    file("etc/passwd", PASSWD),
]


def test_flags_follow_the_image_symlinks_and_path(tmp_path: Path):
    config = {"User": "nonroot", "Env": ["PATH=/opt/venv/bin:/usr/local/bin:/usr/bin:/bin"]}
    with open_image(tmp_path, DEBIAN_LIKE, config=config) as image:
        found = exposure.assess(image)

    assert found.shells == ["/bin/sh"], "one entry per program: /bin/dash and /usr/bin/sh are the same"
    assert found.package_managers == ["apt-get", "dpkg", "pip"]
    assert found.compilers == ["cc", "gcc", "go"]
    assert found.setuid_files == ["/usr/bin/expiry", "/usr/bin/passwd"]
    assert (found.user, found.uid, found.non_root) == ("nonroot", 65532, True)


def test_a_distroless_like_image_has_no_shell_and_runs_as_nonroot(tmp_path: Path):
    layer = [*tree(FIXTURES / "distroless"), file("etc/passwd", PASSWD), symlink("bin/sh", "/busybox/sh")]
    with open_image(tmp_path, layer, config={"User": "65532:65532"}) as image:
        found = exposure.assess(image)

    assert (found.has_shell, found.package_managers, found.compilers, found.setuid_files) == (
        False,
        [],
        [],
        [],
    )
    assert (found.uid, found.non_root) == (65532, True)
    assert (found.os_packages, found.language_packages) == (4, 0)


@pytest.mark.parametrize(
    ("user", "uid", "non_root"),
    [
        ("", 0, False),
        ("root", 0, False),
        ("0:0", 0, False),
        ("nobody", 65534, True),
        ("ghost", None, False),
    ],
)
def test_the_user_an_image_runs_as(tmp_path: Path, user: str, uid: int | None, non_root: bool):
    with open_image(tmp_path, [file("etc/passwd", PASSWD)], config={"User": user}) as image:
        found = exposure.assess(image)

    assert (found.user, found.uid, found.non_root) == (user, uid, non_root)


def test_an_inventory_counts_each_kind(tmp_path: Path):
    layers = [tree(FIXTURES / "dpkg"), tree(FIXTURES / "python"), tree(FIXTURES / "node")]
    with open_image(tmp_path, *layers) as image:
        found = exposure.assess(image)

    assert found.counts == {"deb": 3, "python": 6, "npm": 5, "go": 0}
    assert (found.os_packages, found.language_packages) == (3, 11)
    assert found.packages == sorted(found.packages)


# -- real images ------------------------------------------------------------------------------------

DOCKERFILE = """\
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
RUN ["/bin/busybox", "chmod", "u+s", "/bin/busybox"]
USER 65532
"""


@pytest.fixture(scope="module")
def busybox_image(busybox_rootfs: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tag = build_busybox_image(
        busybox_rootfs, tmp_path_factory.mktemp("exposure-context"), DOCKERFILE, "exposure"
    )
    yield tag
    engine.remove_image(tag)


@pytest.mark.docker
def test_a_busybox_image_has_a_shell_through_a_symlink(busybox_image: str):
    with imagefs.saved(busybox_image) as image:
        found = exposure.assess(image)

    assert found.shells == ["/bin/sh"]
    assert found.package_managers == ["dpkg"], "busybox carries a dpkg applet"
    assert found.compilers == []
    assert found.setuid_files == ["/bin/busybox"]
    assert (found.uid, found.non_root) == (65532, True)
    assert found.packages == []


def dpkg_query_installed(tag: str) -> set[str]:
    """The packages dpkg itself, run in the image, lists in a state that leaves their files."""
    listed = engine.client().containers.run(
        tag,
        entrypoint=["dpkg-query"],
        command=["-W", "-f", "${db:Status-Status} ${Package}\n"],
        remove=True,
        user="0",
        network_disabled=True,
        labels={engine.RUN_LABEL: "test-exposure"},
    )
    states = [line.split() for line in listed.decode().splitlines()]
    return {package for state, package in states if state not in dpkg.GONE}


def _local_base(role: str) -> str:
    tag = f"{registry.address()}/imagelab-bases/{role}:debian13"  # where nox -s bases puts it
    if not engine.image_id(tag):
        pytest.skip(f"{tag} is not built yet (nox -s bases)")
    return tag


@pytest.mark.docker
@pytest.mark.parametrize("role", ["python-slim", "python"])
def test_the_dpkg_count_agrees_with_dpkg_query_inside_the_image(role: str):
    tag = _local_base(role)
    installed = dpkg_query_installed(tag)

    with imagefs.saved(tag) as image:
        found = exposure.assess(image)

    assert {p.name for p in found.packages if p.kind == "deb"} == installed
    assert found.has_shell and "pip" in found.package_managers and not found.non_root
    assert ("gcc" in found.compilers) == (role == "python"), (
        "the full image carries a compiler, slim does not"
    )


@pytest.mark.docker
def test_the_local_python_distroless_base_keeps_the_contract():
    with imagefs.saved(_local_base("python-distroless")) as image:
        found = exposure.assess(image)

    assert (found.has_shell, found.package_managers, found.uid) == (False, [], 65532)
    debs = {p.name for p in found.packages if p.kind == "deb"}
    assert {"libc6", "python3.13-minimal", "ca-certificates"} <= debs, "distroless records them in status.d/"
    assert not {"dpkg", "apt", "bash"} & debs


# -- the matrix's own images --------------------------------------------------------------------------

MATRIX = apps.select(apps.discover(), (), (), bases.open_set("debian"))


@pytest.mark.docker
@pytest.mark.parametrize(
    "variant", [v for v in MATRIX if v.name in ("naive", "slim")], ids=lambda v: v.target
)
def test_the_matrix_dpkg_count_agrees_with_dpkg_query(debian_images, variant):
    assert debian_images[variant.tag].result.ok
    installed = dpkg_query_installed(variant.tag)
    with imagefs.saved(variant.tag) as image:
        found = exposure.assess(image)
    assert {p.name for p in found.packages if p.kind == "deb"} == installed


@pytest.mark.docker
@pytest.mark.parametrize("variant", MATRIX, ids=lambda v: v.target)
def test_the_flags_agree_with_the_variant_contract(debian_images, variant):
    """distroless and minimal promise no shell and no package manager (dockerfiles/contracts); every
    variant but naive promises a non-root user."""
    assert debian_images[variant.tag].result.ok
    with imagefs.saved(variant.tag) as image:
        found = exposure.assess(image)
    assert found.has_shell == (not variant.hardened), found.shells
    if variant.hardened:
        assert found.package_managers == [] and found.uid == 65532
    assert found.non_root == (variant.name != "naive"), (found.user, found.uid)
