"""Whether Debian vouches for an InRelease file: its OpenPGP signature, checked with gpgv against Debian's
archive keyring (the debian-archive-keyring package), as apt checks it.

Apart from archive.py, which fetches and keeps the indexes: the check is a question about one file and
one keyring, asked of every InRelease file fetched and again of every kept one when it is read.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from imagelab import process
from imagelab.errors import ImagelabError

#: The keys Debian signs its release, updates and security suites with (package debian-archive-keyring).
KEYRING = Path("/usr/share/keyrings/debian-archive-keyring.gpg")
INSTALL_HINT = "install the checker and Debian's keys: sudo apt-get install gpgv debian-archive-keyring"
GPGV_TIMEOUT_S = 60


class SignatureError(ImagelabError):
    """An InRelease file whose signature does not verify against Debian's keys, or cannot be checked."""


#: gpgv's status words (doc/DETAILS in GnuPG) -> what they say about the file, in the user's words.
_VERDICTS = {
    "BADSIG": "its signature is bad (the file was altered after it was signed)",
    "EXPKEYSIG": "it is signed by an expired key",
    "REVKEYSIG": "it is signed by a revoked key",
    "NO_PUBKEY": "it is signed by a key the keyring does not hold",
    "NODATA": "it holds no signature",
}


def verify_release(signed: bytes, suite: str, keyring: Path = KEYRING) -> str:
    """The text an InRelease file signs, once gpgv has found a good signature by a key of `keyring`.

    Only the signed text is returned: whatever a file carries outside its signature is never read."""
    if shutil.which("gpgv") is None:
        raise SignatureError(
            f"{suite}: gpgv is not installed, so the index's signature cannot be checked", INSTALL_HINT
        )
    if not keyring.is_file():
        raise SignatureError(f"{suite}: no Debian archive keyring at {keyring}", INSTALL_HINT)
    with tempfile.TemporaryDirectory(prefix="imagelab-gpgv-") as folder:
        source, output = Path(folder) / "InRelease", Path(folder) / "signed"
        source.write_bytes(signed)
        try:
            done = process.run(
                ["gpgv", "--status-fd", "1", "--keyring", str(keyring), "--output", str(output), str(source)],
                timeout=GPGV_TIMEOUT_S,
                what=f"gpgv on {suite}'s InRelease",
                check=False,
            )
        except process.ProcessError as exc:  # a gpgv that hangs: this index is no data, not the run's end
            raise SignatureError(
                f"{suite}'s InRelease could not be checked: {exc.cause}", INSTALL_HINT
            ) from exc
        status = [line.split()[1:] for line in done.stdout.splitlines() if line.startswith("[GNUPG:] ")]
        words = {fields[0] for fields in status if fields}
        # Debian signs each InRelease with several keys (this release's and the one before), and gpgv
        # exits non-zero as soon as one of them is not in the keyring. As apt does, one good, valid
        # signature is enough, unless another one is bad, expired or revoked, or fails for any other
        # reason than a missing key (ERRSIG's return code 9).
        refused = words & {"BADSIG", "EXPKEYSIG", "REVKEYSIG"} or any(
            fields[0] == "ERRSIG" and fields[6:7] != ["9"] for fields in status
        )
        if "VALIDSIG" in words and "GOODSIG" in words and not refused and output.is_file():
            return output.read_bytes().decode("utf-8", "replace")
    why = next((text for word, text in _VERDICTS.items() if word in words), "gpgv refused it")
    raise SignatureError(
        f"{suite}'s InRelease does not verify against {keyring.name}: {why}",
        "a proxy or mirror altered it, or the keyring is older than the key (upgrade debian-archive-keyring)",
    )
