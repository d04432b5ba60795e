"""A Debian archive on 127.0.0.1 for the vulnerability tests, served from tests/fixtures/vulns/.

The fixtures are trimmed real data from Debian's archive (bookworm-security, 2026-12-04): a Release
file's header, a few stanzas of its Packages file, and expat's changelog down to 2.4.9-1. The served
tree is made from them: the Packages file compressed and listed by SHA256 in the Release file (and
under by-hash/, as Debian's mirrors serve it), and a .deb built around the changelog at the pool path
the Packages stanza names. The served InRelease is signed, as Debian's are, by a throw-away key made for
the test run (`signer()`); archives under test are given its keyring (`archive_keyring()`), and read
it as of AS_OF, not the machine's day: the Release file is only valid until 2026-12-11, as Debian's are.
"""

from __future__ import annotations

import atexit
import functools
import gzip
import hashlib
import http.server
import io
import lzma
import shutil
import subprocess
import tarfile
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from saved_images import FIXTURES

from imagelab.vulns import signature
from imagelab.vulns.archive import Archive

VULNS = FIXTURES / "vulns"
SUITE = "bookworm-security"
EXPAT_FIXED = "2.5.0-1+deb12u5"
#: The day the tests read the archive: after the fixture Release's Date, before its Valid-Until.
AS_OF = datetime(2026, 12, 6, tzinfo=UTC)
#: For the tests of the saved real InRelease file, signed by Debian.
DEBIAN_KEYS = pytest.mark.skipif(
    shutil.which("gpgv") is None or not signature.KEYRING.is_file(),
    reason=f"needs gpgv and Debian's keyring ({signature.INSTALL_HINT})",
)


class Signer:
    """A throw-away OpenPGP key in its own GnuPG home: signs InRelease files as Debian's archive does."""

    def __init__(self) -> None:
        self.home = Path(tempfile.mkdtemp(prefix="imagelab-gpg-"))
        self.keyring = self.home / "archive-keyring.gpg"
        self._gpg(
            "--quick-gen-key", "imagelab test archive <archive@imagelab.invalid>", "ed25519", "sign", "never"
        )
        self.keyring.write_bytes(self._gpg("--export"))

    def sign(self, text: str) -> bytes:
        """`text` as a cleartext-signed InRelease file."""
        return self._gpg("--clearsign", "--output", "-", input=text.encode())

    def close(self) -> None:
        subprocess.run(["gpgconf", "--homedir", str(self.home), "--kill", "gpg-agent"], check=False)
        shutil.rmtree(self.home, ignore_errors=True)

    def _gpg(self, *args: str, input: bytes | None = None) -> bytes:
        command = ["gpg", "--homedir", str(self.home), "--batch", "--pinentry-mode", "loopback"]
        command += ["--passphrase", "", *args]
        return subprocess.run(command, input=input, capture_output=True, check=True, timeout=60).stdout


@functools.cache
def signer() -> Signer:
    made = Signer()
    atexit.register(made.close)  # its gpg-agent ends with the test run
    return made


def archive_keyring() -> Path:
    """The keyring that vouches for the served archives' InRelease files."""
    return signer().keyring


def local_archive(cache: Path, security: str, offline: bool = False, now: datetime = AS_OF) -> Archive:
    """An archive reading the security pocket from `security`; the release pockets' mirror is a port
    nothing listens on, so bookworm-updates is unreachable here."""
    return Archive(
        cache,
        mirror="http://127.0.0.1:9/debian",
        security_mirror=security,
        offline=offline,
        keyring=archive_keyring(),
        now=lambda: now,
    )


def make_deb(files: dict[str, bytes], symlinks: dict[str, str] | None = None) -> bytes:
    """A .deb (an ar archive: debian-binary, control.tar.xz, data.tar.xz) holding `files` by path."""
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w:xz") as tar:
        for path, content in files.items():
            info = tarfile.TarInfo(f"./{path}")
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
        for path, target in (symlinks or {}).items():
            info = tarfile.TarInfo(f"./{path}")
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)
    control = io.BytesIO()
    with tarfile.open(fileobj=control, mode="w:xz"):
        pass
    members = [
        ("debian-binary", b"2.0\n"),
        ("control.tar.xz", control.getvalue()),
        ("data.tar.xz", data.getvalue()),
    ]
    out = io.BytesIO()
    out.write(b"!<arch>\n")
    for name, body in members:
        out.write(f"{name:<16}{0:<12}{0:<6}{0:<6}{100644:<8}{len(body):<10}`\n".encode())
        out.write(body + (b"\n" if len(body) % 2 else b""))
    return out.getvalue()


def serve_tree(root: Path, expat_changelog: bool = True) -> None:
    """Write the security archive's tree under `root` (its URL path: /debian-security)."""
    packages = (VULNS / f"{SUITE}.Packages").read_text()
    if expat_changelog:
        changelog = gzip.compress((VULNS / f"expat_{EXPAT_FIXED}.changelog").read_bytes())
        deb = make_deb({"usr/share/doc/libexpat1/changelog.Debian.gz": changelog})
        pool = f"pool/updates/main/e/expat/libexpat1_{EXPAT_FIXED}_amd64.deb"
        (root / pool).parent.mkdir(parents=True, exist_ok=True)
        (root / pool).write_bytes(deb)
        packages = _set_field(packages, "libexpat1", "SHA256", hashlib.sha256(deb).hexdigest())
        packages = _set_field(packages, "libexpat1", "Size", str(len(deb)))
    compressed = lzma.compress(packages.encode())
    digest = hashlib.sha256(compressed).hexdigest()
    dists = root / "dists" / SUITE
    (dists / "main/binary-amd64/by-hash/SHA256").mkdir(parents=True)
    (dists / "main/binary-amd64/Packages.xz").write_bytes(compressed)
    (dists / f"main/binary-amd64/by-hash/SHA256/{digest}").write_bytes(compressed)
    release = (VULNS / f"{SUITE}.Release").read_text()
    release += f"SHA256:\n {digest} {len(compressed):>16} main/binary-amd64/Packages.xz\n"
    (dists / "InRelease").write_bytes(signer().sign(release))


def _set_field(packages: str, package: str, field: str, value: str) -> str:
    stanzas = packages.split("\n\n")
    for i, stanza in enumerate(stanzas):
        if stanza.startswith(f"Package: {package}\n"):
            lines = [
                f"{field}: {value}" if line.startswith(f"{field}:") else line for line in stanza.splitlines()
            ]
            stanzas[i] = "\n".join(lines)
    return "\n\n".join(stanzas)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    requests: list[str]

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.requests.append(self.path)
        super().do_GET()


@contextmanager
def archive_server(root: Path) -> Iterator[tuple[str, list[str]]]:
    """Serve `root` on 127.0.0.1 (a free port); yields the base URL and the paths asked for."""
    requests: list[str] = []
    handler = type("Handler", (_Quiet,), {"requests": requests})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(root))
    )
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", requests
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
