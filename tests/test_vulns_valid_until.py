"""A fetched InRelease past its Valid-Until is no data, as apt refuses it ("is expired"); the kept one read
offline is old by design and still read. The rule on texts, then through the archive: the saved real
file (signed by Debian, valid until 2026-12-11) and the served trimmed one (signed by a test key)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from vulns_archive import AS_OF, DEBIAN_KEYS, SUITE, VULNS, archive_keyring, local_archive, signer

from imagelab.vulns import archive, signature, validity
from imagelab.vulns.archive import Archive

UNTIL = datetime(2026, 12, 11, 3, 54, 28, tzinfo=UTC)  # the fixture Release file's Valid-Until
AFTER = datetime(2026, 12, 12, tzinfo=UTC)  # a day past it
RELEASE = (VULNS / f"{SUITE}.Release").read_text()
NOWHERE = "http://127.0.0.1:9/debian-security"  # nothing listens: the fetch fails at once


def test_a_release_past_its_valid_until_is_refused_with_the_suite_and_the_date():
    assert validity.valid_until(RELEASE) == UNTIL
    validity.refuse_expired(RELEASE, SUITE, AS_OF)  # within it: nothing to say

    with pytest.raises(validity.ReleaseExpired) as caught:
        validity.refuse_expired(RELEASE, SUITE, AFTER)

    assert (
        caught.value.cause
        == "bookworm-security's InRelease expired on 2026-12-11 03:54 UTC (its Valid-Until)"
    )
    assert "mirror" in caught.value.hint


def test_a_release_with_no_valid_until_never_expires():
    trixie = "Origin: Debian\nCodename: trixie\nDate: Sat, 08 Nov 2025 10:21:55 UTC\n"

    assert validity.valid_until(trixie) is None
    validity.refuse_expired(trixie, "trixie", AFTER)


def test_a_valid_until_with_no_zone_is_utc_as_apt_reads_it():
    text = "Date: Fri, 04 Dec 2026 03:54:28 -0000\nValid-Until: Fri, 11 Dec 2026 03:54:28 -0000\n"

    assert validity.valid_until(text) == UNTIL
    assert archive.parse_release(text)[0] == datetime(2026, 12, 4, 3, 54, 28, tzinfo=UTC)


@DEBIAN_KEYS
def test_the_saved_real_inrelease_fetched_after_its_valid_until_with_nothing_kept_is_no_data(
    tmp_path, monkeypatch
):
    saved = (VULNS / f"{SUITE}.InRelease").read_bytes()
    asked: list[str] = []

    def replay(url: str) -> bytes:  # a mirror that still serves the file of 2026-12-04
        asked.append(url)
        return saved

    run = Archive(tmp_path / "cache", mirror=NOWHERE, security_mirror=NOWHERE, now=lambda: AFTER)
    monkeypatch.setattr(run, "fetch", replay)

    assert run.index(SUITE) is None
    assert run.errors[SUITE].startswith(f"{SUITE}'s InRelease expired on 2026-12-11 03:54 UTC")
    assert "hint:" in run.errors[SUITE] and "\n" not in run.errors[SUITE]
    assert [url.rsplit("/", 1)[-1] for url in asked] == ["InRelease"]  # no Packages file asked for
    assert not (tmp_path / "cache").exists()  # nothing kept from it


def test_a_replayed_older_index_is_refused_and_the_kept_one_read_in_its_place(tmp_path, served):
    """As apt after a refused update: the old lists stay, and say how old they are."""
    url, _ = served
    assert local_archive(tmp_path / "cache", url).index(SUITE) is not None  # kept, as of AS_OF
    kept = next((tmp_path / "cache").rglob("InRelease"))
    before = kept.read_bytes()
    served_file = tmp_path / "debian-security" / "dists" / SUITE / "InRelease"
    text = signature.verify_release(served_file.read_bytes(), SUITE, archive_keyring())
    older = text.replace("Date: Fri, 04 Dec", "Date: Fri, 27 Nov").replace(
        "Until: Fri, 11 Dec", "Until: Fri, 04 Dec"
    )
    served_file.write_bytes(signer().sign(older))  # signed as Debian signed it a week before

    run = local_archive(tmp_path / "cache", url)
    index = run.index(SUITE)

    assert "expired on 2026-12-04" in run.errors[SUITE]
    assert kept.read_bytes() == before
    assert index is not None and index.offline and index.date.day == 4  # the kept one, not the replay


def test_a_kept_index_past_its_valid_until_is_still_read_offline(tmp_path, served):
    url, _ = served
    assert local_archive(tmp_path / "cache", url).index(SUITE) is not None  # kept, as of AS_OF

    offline = local_archive(tmp_path / "cache", url, offline=True, now=AFTER).index(SUITE)
    unreachable = local_archive(tmp_path / "cache", NOWHERE, now=AFTER)  # a failed fetch: the same path
    fallback = unreachable.index(SUITE)

    assert offline is not None and offline.offline and "offline: kept data" in offline.describe()
    assert fallback is not None and fallback.offline
    assert "cannot reach the archive" in unreachable.errors[SUITE]
    expired = local_archive(tmp_path / "cache", url, now=AFTER)  # fetched, and refused: the kept one
    assert (kept := expired.index(SUITE)) is not None and kept.offline
    assert "expired on 2026-12-11" in expired.errors[SUITE]


def test_a_suite_asked_for_one_package_and_for_all_is_fetched_once(tmp_path, served, monkeypatch):
    url, _ = served
    run = local_archive(tmp_path / "cache", url)
    asked: list[str] = []
    fetch = run.fetch
    monkeypatch.setattr(run, "fetch", lambda address: asked.append(address) or fetch(address))

    whole, one = run.index(SUITE), run.index(SUITE, only="libexpat1")

    assert whole is not None and one is not None and whole.date == one.date
    assert list(one.packages) == ["libexpat1"]
    assert sum(address.endswith("/InRelease") for address in asked) == 1
