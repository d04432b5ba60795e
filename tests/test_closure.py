"""closure: what an image's program needs, on small saved images whose ELF files are copies of the
host's own programs and libraries (so DT_NEEDED and PT_INTERP are real), with no engine."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from elftools.common.exceptions import ELFError
from elftools.elf.dynamic import DynamicSection
from elftools.elf.elffile import ELFFile
from saved_images import file, folder, symlink, write_docker_archive

from imagelab.inspect import closure, imagefs

LIBS = "usr/lib/x86_64-linux-gnu"
LOADER = "/lib64/ld-linux-x86-64.so.2"
# Stand-ins for libraries the host's copies need: not ELF, so counted by size and not followed.
LIBC, LD, PCRE = b"c" * 1000, b"l" * 200, b"p" * 300
STDLIB_PY, FLASK, APP_PY, CA, NOISE = b"o" * 500, b"f" * 70, b"a" * 40, b"C" * 90, b"x" * 5000


def host_elf(path: str, needs: set[str]) -> bytes:
    """The bytes of a host ELF file that needs exactly `needs` (and the usual loader); skip elsewhere."""
    try:
        data = Path(path).read_bytes()
        elf = ELFFile(io.BytesIO(data))
        needed = {
            tag.needed
            for section in elf.iter_sections()
            if isinstance(section, DynamicSection)
            for tag in section.iter_tags()
            if tag.entry.d_tag == "DT_NEEDED"
        }
        interpreters = {s.get_interp_name() for s in elf.iter_segments() if s["p_type"] == "PT_INTERP"}
    except (OSError, ELFError) as exc:  # missing, unreadable or not ELF: this host cannot give the fixture
        pytest.skip(f"needs {path} as an x86-64 ELF file ({exc})")
    if needed != needs or not interpreters <= {LOADER}:
        pytest.skip(f"{path} on this host needs {sorted(needed)}, the test is written for {sorted(needs)}")
    return data


@pytest.fixture(scope="module")
def true_elf() -> bytes:
    return host_elf("/bin/true", {"libc.so.6"})


@pytest.fixture(scope="module")
def selinux_elf() -> bytes:
    """A shared library that needs one library nothing else here needs (libpcre2)."""
    return host_elf(
        "/lib/x86_64-linux-gnu/libselinux.so.1", {"libpcre2-8.so.0", "libc.so.6", "ld-linux-x86-64.so.2"}
    )


def system_libraries(pcre: bool = True) -> list:
    """The C library, the loader where PT_INTERP names it (through /lib64, as on Debian), libpcre2."""
    return [
        folder(LIBS),
        file(f"{LIBS}/libc.so.6", LIBC),
        file(f"{LIBS}/ld-linux-x86-64.so.2", LD),
        *([file(f"{LIBS}/libpcre2-8.so.0", PCRE)] if pcre else []),
        folder("lib64"),
        symlink("lib64/ld-linux-x86-64.so.2", f"/{LIBS}/ld-linux-x86-64.so.2"),
        file("etc/ssl/certs/ca-certificates.crt", CA),
    ]


def python_image(tmp_path: Path, true_elf: bytes, selinux_elf: bytes, pcre: bool = True, **config):
    """A python:3.13-like image: the interpreter in /usr/local, a stdlib with one extension module (a
    copy of libselinux, so its libraries are followed), Flask in site-packages, the app in /app."""
    stdlib = "usr/local/lib/python3.13"
    layers = [
        [*system_libraries(pcre), file("usr/bin/apt-get", NOISE, 0o755), file("usr/share/doc/x", NOISE)],
        [
            file("usr/local/bin/python3.13", true_elf, 0o755),
            symlink("usr/local/bin/python3", "python3.13"),
            file(f"{stdlib}/os.py", STDLIB_PY),
            file(f"{stdlib}/lib-dynload/_selinux.cpython-313-x86_64-linux-gnu.so", selinux_elf, 0o755),
            file(f"{stdlib}/site-packages/flask/__init__.py", FLASK),
        ],
        [file("app/app.py", APP_PY)],
    ]
    settings = {"Cmd": ["python3", "app.py"], "WorkingDir": "/app", "Env": ["PATH=/usr/local/bin:/usr/bin"]}
    return imagefs.open_archive(write_docker_archive(tmp_path / "image.tar", layers, settings | config))


def test_a_python_image_counts_interpreter_libraries_stdlib_packages_app_and_ca_bundle(
    tmp_path: Path, true_elf: bytes, selinux_elf: bytes
):
    with python_image(tmp_path, true_elf, selinux_elf) as image:
        found = closure.runtime_closure(image)

    assert found.program == "/usr/local/bin/python3.13", "the symlink python3 leads to the interpreter"
    assert found.parts == {
        "program": len(true_elf),
        "runtime": len(STDLIB_PY) + len(selinux_elf),  # site-packages is not the runtime's
        "dependencies": len(FLASK),
        "app": len(APP_PY),
        # libc and the loader for the interpreter (the loader once, though two files name it);
        # libpcre2 only because the stdlib's extension module needs it.
        "libraries": len(LIBC) + len(LD) + len(PCRE),
        "ca bundle": len(CA),
    }
    assert found.size == sum(found.parts.values())
    assert found.unresolved == []


def test_a_library_the_image_lacks_is_named_unresolved(tmp_path: Path, true_elf: bytes, selinux_elf: bytes):
    with python_image(tmp_path, true_elf, selinux_elf, pcre=False) as image:
        found = closure.runtime_closure(image)

    assert found.unresolved == ["libpcre2-8.so.0"]
    assert found.parts["libraries"] == len(LIBC) + len(LD)


def test_a_venv_interpreter_imports_from_the_venv_not_the_global_site_packages(
    tmp_path: Path, true_elf: bytes
):
    venv_layer = [
        file("venv/pyvenv.cfg", b"home = /usr/local/bin\n"),
        symlink("venv/bin/python", "/usr/local/bin/python3.13"),
        file("venv/lib/python3.13/site-packages/click/__init__.py", b"k" * 33),
    ]
    stdlib = "usr/local/lib/python3.13"
    layers = [
        [*system_libraries(), file("usr/local/bin/python3.13", true_elf, 0o755)],
        [file(f"{stdlib}/os.py", STDLIB_PY), file(f"{stdlib}/site-packages/flask/__init__.py", FLASK)],
        venv_layer,
        [file("app/app.py", APP_PY)],
    ]
    settings = {"Cmd": ["/venv/bin/python", "app.py"], "WorkingDir": "/app"}
    with imagefs.open_archive(write_docker_archive(tmp_path / "venv.tar", layers, settings)) as image:
        found = closure.runtime_closure(image)

    assert found.program == "/usr/local/bin/python3.13"
    assert found.parts["dependencies"] == 33, "click from the venv; Flask is outside it"
    assert found.parts["runtime"] == len(STDLIB_PY)


WRAPPER = b'#!/bin/sh\nset -e\nexec "$@"\n'


def node_image(tmp_path: Path, true_elf: bytes, **config) -> imagefs.ImageFS:
    """A node:22-like image: an entrypoint wrapper, node on the PATH, an app with node_modules."""
    layers = [
        [
            *system_libraries(),
            folder("usr/bin"),
            file("usr/bin/dash", true_elf, 0o755),
            symlink("bin", "usr/bin"),
            symlink("usr/bin/sh", "dash"),
            file("usr/local/bin/node", true_elf + b"\0" * 7, 0o755),  # another size than dash
            file("usr/local/bin/docker-entrypoint.sh", WRAPPER, 0o755),
        ],
        [
            file("app/server.js", b"s" * 60),
            file("app/node_modules/express/index.js", b"e" * 80),
            file("app/node_modules/express/node_modules/debug/index.js", b"d" * 20),
        ],
    ]
    settings = {
        "Entrypoint": ["docker-entrypoint.sh"],
        "Cmd": ["node", "server.js"],
        "WorkingDir": "/app",
        "Env": ["PATH=/usr/local/bin:/usr/bin:/bin"],
    }
    return imagefs.open_archive(write_docker_archive(tmp_path / "node.tar", layers, settings | config))


def test_an_entrypoint_wrapper_leads_to_the_command_it_execs(tmp_path: Path, true_elf: bytes):
    with node_image(tmp_path, true_elf) as image:
        found = closure.runtime_closure(image)

    assert found.program == "/usr/local/bin/node", "not the shell the wrapper names"
    assert found.parts == {
        "program": len(true_elf) + 7,
        "app": len(WRAPPER) + 60,  # the wrapper runs on the way, so it counts with the app
        "dependencies": 80 + 20,  # the outer node_modules once, nested ones inside it
        "libraries": len(LIBC) + len(LD),
        "ca bundle": len(CA),
    }


def test_a_shell_script_run_with_no_command_after_it_runs_the_shell(tmp_path: Path, true_elf: bytes):
    with node_image(tmp_path, true_elf, Cmd=[]) as image:
        found = closure.runtime_closure(image)

    assert found.program == "/usr/bin/dash", "the script's own shebang: /bin/sh, a link to dash"
    assert found.parts["program"] == len(true_elf)


def test_a_script_found_by_env_on_the_path_leads_to_its_interpreter(tmp_path: Path, true_elf: bytes):
    script = b"#!/usr/bin/env python3\nprint('hi')\n"
    settings = {"Cmd": ["./run.py"], "WorkingDir": "/app", "Env": ["PATH=/usr/local/bin:/usr/bin"]}
    layers = [
        [*system_libraries(), file("usr/local/bin/python3.13", true_elf, 0o755)],
        [symlink("usr/local/bin/python3", "python3.13"), file("app/run.py", script, 0o755)],
    ]
    with imagefs.open_archive(write_docker_archive(tmp_path / "script.tar", layers, settings)) as image:
        found = closure.runtime_closure(image)

    assert found.program == "/usr/local/bin/python3.13"
    assert found.parts["app"] == len(script), "the script once, though it is also in the app folder"


def test_an_image_whose_command_is_missing_has_an_empty_closure(tmp_path: Path):
    layers = [[file("etc/ssl/certs/ca-certificates.crt", CA)]]
    archive = write_docker_archive(tmp_path / "image.tar", layers, {"Cmd": ["/nowhere"]})
    with imagefs.open_archive(archive) as image:
        found = closure.runtime_closure(image)

    assert (found.program, found.size, found.parts, found.unresolved) == ("", 0, {}, [])
