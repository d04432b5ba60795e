"""Debian's signature on an InRelease file: checked with gpgv against Debian's keyring on the saved real
file, against a throw-away key on the served archive, and an index nobody vouches for is no data."""

from __future__ import annotations

import lzma
from pathlib import Path

import pytest
from vulns_archive import DEBIAN_KEYS, SUITE, VULNS, Signer, archive_keyring, local_archive

from imagelab.vulns import archive, signature


@DEBIAN_KEYS
def test_a_real_inrelease_verifies_against_debians_keyring():
    # Saved as Debian's security archive served it on 2026-12-04, signature and all.
    signed = (VULNS / f"{SUITE}.InRelease").read_bytes()
    text = signature.verify_release(signed, SUITE)
    date, hashes = archive.parse_release(text)
    assert date.isoformat() == "2026-12-04T03:54:28+00:00"
    assert "main/binary-amd64/Packages.xz" in hashes
    assert "BEGIN PGP" not in text  # only the signed text is read


ONE_KEY = Path("/usr/share/keyrings/debian-archive-bookworm-security-automatic.gpg")


@DEBIAN_KEYS
@pytest.mark.skipif(not ONE_KEY.is_file(), reason=f"needs {ONE_KEY.name} (debian-archive-keyring)")
def test_one_good_signature_is_enough_when_the_keyring_lacks_the_other_signers_key():
    # The saved file carries two signatures, by bullseye's and bookworm's security keys; a keyring that
    # holds only bookworm's (as one without the older key would) makes gpgv exit 2, and apt accepts it.
    signed = (VULNS / f"{SUITE}.InRelease").read_bytes()
    text = signature.verify_release(signed, SUITE, ONE_KEY)
    assert "main/binary-amd64/Packages.xz" in archive.parse_release(text)[1]


@DEBIAN_KEYS
def test_one_byte_changed_in_a_real_inrelease_is_refused():
    signed = (VULNS / f"{SUITE}.InRelease").read_bytes()
    tampered = signed.replace(b"Date: Fri, 04 Dec 2026", b"Date: Sat, 05 Dec 2026", 1)
    assert tampered != signed
    with pytest.raises(signature.SignatureError, match="signature is bad") as caught:
        signature.verify_release(tampered, SUITE)
    assert "\n" not in caught.value.cause and caught.value.hint


def test_an_index_whose_signature_fails_is_no_data_not_the_kept_one(tmp_path, served):
    url, _ = served
    assert local_archive(tmp_path / "cache", url).index(SUITE) is not None  # kept from a good fetch
    inrelease = tmp_path / "debian-security" / "dists" / SUITE / "InRelease"
    inrelease.write_bytes(inrelease.read_bytes().replace(b"Date: ", b"Date:  ", 1))

    run = local_archive(tmp_path / "cache", url)

    assert run.index(SUITE) is None
    assert "signature is bad" in run.errors[SUITE] and "hint:" in run.errors[SUITE]
    assert "\n" not in run.errors[SUITE]


def test_a_release_signed_by_a_key_not_in_the_keyring_is_refused(tmp_path):
    stranger = Signer()
    try:
        signed = stranger.sign("Date: Fri, 04 Dec 2026 03:54:32 UTC\n")
    finally:
        stranger.close()
    with pytest.raises(signature.SignatureError, match="key the keyring does not hold"):
        signature.verify_release(signed, SUITE, archive_keyring())
    with pytest.raises(signature.SignatureError, match="holds no signature"):
        signature.verify_release(b"Date: Fri, 04 Dec 2026 03:54:32 UTC\n", SUITE, archive_keyring())


def test_a_kept_packages_file_altered_since_is_not_used(tmp_path, served):
    url, _ = served
    assert local_archive(tmp_path / "cache", url).index(SUITE) is not None
    kept = next((tmp_path / "cache").rglob("Packages.xz"))
    kept.write_bytes(lzma.compress(b"Package: libexpat1\nVersion: 99\n"))

    assert local_archive(tmp_path / "cache", url, offline=True).index(SUITE) is None


def test_without_gpgv_or_keyring_the_error_names_the_apt_command(tmp_path, monkeypatch):
    with pytest.raises(signature.SignatureError, match="no Debian archive keyring") as caught:
        signature.verify_release(b"", SUITE, tmp_path / "missing.gpg")
    assert "apt-get install gpgv debian-archive-keyring" in caught.value.hint
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH with no gpgv on it
    with pytest.raises(signature.SignatureError, match="gpgv is not installed") as caught:
        signature.verify_release(b"", SUITE, archive_keyring())
    assert "apt-get install gpgv debian-archive-keyring" in caught.value.hint
