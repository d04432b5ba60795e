"""What a Go binary asks of the image's C library (docs/lessons.md, "Go, cgo and musl"), checked without
an engine and without an Alpine image: none is reachable here, and a musl root made from Debian's
packages would not be Alpine.

A program that uses `net`, built with cgo on and with CGO_ENABLED=0, as go-href's variants are. The cgo
one names glibc's dynamic loader in its ELF header; an image without that file (Alpine has musl's loader
instead) cannot start it: the kernel's exec fails with ENOENT, "not found", although the program is
there. The test makes that situation with a copy whose loader path names a file that does not exist."""

from __future__ import annotations

import errno
import io
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from elftools.elf.dynamic import DynamicSection
from elftools.elf.elffile import ELFFile

pytestmark = pytest.mark.skipif(
    not (shutil.which("go") and shutil.which("gcc")), reason="needs Go and gcc (cgo) on PATH"
)

# Like go-href, it resolves a name through `net`: with cgo on, the net package asks glibc.
PROBE = """package main

import (
\t"fmt"
\t"net"
)

func main() {
\t_, err := net.LookupHost("localhost")
\tfmt.Println("started; lookup error:", err)
}
"""
GLIBC_LOADERS = ("/lib64/ld-linux-x86-64.so.2", "/lib/ld-linux-aarch64.so.1")


def build(folder: Path, cgo: bool) -> Path:
    """The probe, built by this machine's Go with cgo on or off."""
    (folder / "main.go").write_text(PROBE)
    (folder / "go.mod").write_text("module probe\n\ngo 1.21\n")
    out = folder / ("probe-cgo" if cgo else "probe-static")
    env = {**os.environ, "CGO_ENABLED": "1" if cgo else "0", "GOFLAGS": "-mod=mod", "GOTOOLCHAIN": "local"}
    subprocess.run(["go", "build", "-o", str(out), "."], cwd=folder, env=env, check=True, timeout=300)
    return out


@pytest.fixture(scope="module")
def cgo_binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("cgo"), cgo=True)


@pytest.fixture(scope="module")
def static_binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("static"), cgo=False)


def interpreter_and_needed(path: Path) -> tuple[str, list[str]]:
    elf = ELFFile(io.BytesIO(path.read_bytes()))
    interpreter = next((s.get_interp_name() for s in elf.iter_segments() if s["p_type"] == "PT_INTERP"), "")
    needed = [
        tag.needed
        for section in elf.iter_sections()
        if isinstance(section, DynamicSection)
        for tag in section.iter_tags()
        if tag.entry.d_tag == "DT_NEEDED"
    ]
    return interpreter, needed


def with_loader(path: Path, loader: str, out: Path) -> Path:
    """A copy of `path` whose PT_INTERP names `loader` (no longer than the original)."""
    data = bytearray(path.read_bytes())
    elf = ELFFile(io.BytesIO(bytes(data)))
    segment = next(s for s in elf.iter_segments() if s["p_type"] == "PT_INTERP")
    room = segment["p_filesz"]
    assert len(loader) < room
    offset = segment["p_offset"]
    data[offset : offset + room] = loader.encode().ljust(room, b"\0")
    out.write_bytes(bytes(data))
    out.chmod(0o755)
    return out


def test_with_cgo_on_the_binary_needs_glibcs_loader_and_libc(cgo_binary: Path) -> None:
    interpreter, needed = interpreter_and_needed(cgo_binary)
    assert interpreter in GLIBC_LOADERS
    assert "libc.so.6" in needed
    run = subprocess.run([cgo_binary], check=True, capture_output=True, text=True, timeout=30)
    assert run.stdout.startswith("started")


def test_without_glibcs_loader_the_program_is_not_found_though_it_is_there(
    cgo_binary: Path, tmp_path: Path
) -> None:
    # As on Alpine: the file the ELF header names as its loader does not exist in that root.
    missing = "/lib/ld-none.so.1"
    assert not Path(missing).exists()
    moved = with_loader(cgo_binary, missing, tmp_path / "probe-without-glibc")
    assert moved.exists()
    with pytest.raises(FileNotFoundError) as failed:
        subprocess.run([moved], check=True, timeout=30)
    assert failed.value.errno == errno.ENOENT


def test_with_cgo_enabled_0_the_binary_needs_no_loader_and_no_libc(static_binary: Path) -> None:
    assert interpreter_and_needed(static_binary) == ("", [])
    run = subprocess.run([static_binary], check=True, capture_output=True, text=True, timeout=30)
    assert run.stdout.startswith("started")
