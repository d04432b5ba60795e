"""results/accepted.toml: a reviewed change stops failing until its date; a bad entry is one line naming it."""

from __future__ import annotations

import datetime

import pytest

from imagelab import cli
from imagelab.errors import ConfigError
from imagelab.report import accepted, gate

TODAY = datetime.date(2026, 11, 28)
ENTRY = """
[[accepted]]
image = "microblog/naive"
metric = "size"
value = 1_000_000_000
reason = "Debian 13's Python is larger; reviewed"
expires = 2026-12-31
"""


def size_change(new: int, image: str = "microblog/naive (debian)") -> gate.Change:
    return gate.Change(image, "size", "900 MB", f"{new}", "+", True, value=new, base_set="debian")


def judged(text: str, change: gate.Change, tmp_path, today=TODAY) -> gate.Change:
    path = tmp_path / "accepted.toml"
    path.write_text(text)
    [result] = accepted.apply([change], path, today)
    return result


def test_a_reviewed_change_within_its_value_passes_with_its_reason(tmp_path):
    result = judged(ENTRY, size_change(950_000_000), tmp_path)
    assert not result.regression and result.accepted.startswith("Debian 13's Python is larger")


def test_growth_past_the_accepted_value_fails_again(tmp_path):
    result = judged(ENTRY, size_change(1_100_000_000), tmp_path)
    assert result.regression and result.note == "accepted only up to 1000000000"


def test_an_expired_acceptance_fails_again_and_says_so(tmp_path):
    result = judged(ENTRY, size_change(950_000_000), tmp_path, today=datetime.date(2027, 1, 1))
    assert result.regression and result.note == "acceptance expired on 2026-12-31"


def test_an_entry_for_another_image_or_base_set_accepts_nothing(tmp_path):
    assert judged(ENTRY, size_change(950_000_000, "microblog/slim (debian)"), tmp_path).regression
    one_set = ENTRY.replace('"microblog/naive"', '"microblog/naive (official)"')
    assert judged(one_set, size_change(950_000_000), tmp_path).regression
    this_set = ENTRY.replace('"microblog/naive"', '"microblog/naive (debian)"')
    assert not judged(this_set, size_change(950_000_000), tmp_path).regression


def test_text_values_must_match_the_new_value(tmp_path):
    entry = ENTRY.replace('metric = "size"', 'metric = "entrypoint"').replace(
        "value = 1_000_000_000", 'value = "/usr/bin/python3.13 -m app"'
    )
    change = gate.Change(
        "microblog/naive", "entrypoint", "a", "b", "changed", True, value="/usr/bin/python3.13 -m app"
    )
    assert not judged(entry, change, tmp_path).regression
    other = gate.Change("microblog/naive", "entrypoint", "a", "b", "changed", True, value="/bin/sh")
    assert judged(entry, other, tmp_path).regression


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("expires = 2026-12-31", 'expires = "soon"'), "entry 1 (microblog/naive): expires must be a date"),
        (('metric = "size"', 'metric = "sise"'), "entry 1 (microblog/naive): unknown metric 'sise'"),
        (('reason = "Debian', 'reasons = "Debian'), "entry 1 (microblog/naive): missing reason"),
        (("value = 1_000_000_000", 'value = "1 GB"'), "value for 'size' must be a number"),
        (('image = "microblog/naive"', 'image = "microblog"'), 'image must be "app/variant"'),
        (("[[accepted]]", "[[accepted]"), "not valid TOML"),
    ],
)
def test_a_malformed_entry_is_one_line_naming_it(tmp_path, edit, message):
    path = tmp_path / "accepted.toml"
    path.write_text(ENTRY + ENTRY.replace(*edit) if edit[0] != "[[accepted]]" else ENTRY.replace(*edit))
    with pytest.raises(ConfigError) as caught:
        accepted.load(path)
    cause = caught.value.cause.replace("entry 2", "entry 1")
    assert message in cause and "\n" not in cause


def test_compare_refuses_a_malformed_file_before_building(tmp_path, capsys):
    path = tmp_path / "accepted.toml"
    path.write_text(ENTRY.replace("expires = 2026-12-31", "expires = 31.12.2026"))
    assert cli.main(["compare", "--accepted", str(path)]) == 1
    err = capsys.readouterr().err
    assert "not valid TOML" in err and "Traceback" not in err


def test_a_missing_file_accepts_nothing(tmp_path):
    assert accepted.load(tmp_path / "none.toml") == []


@pytest.fixture(params=["Etc/GMT+12", "Etc/GMT-14"], ids=["utc-12", "utc+14"])
def far_time_zone(request, monkeypatch):
    """A machine whose local date is, for half of each day, not UTC's (a day behind, or a day ahead)."""
    import time

    monkeypatch.setenv("TZ", request.param)
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_compare_and_bump_judge_an_expiry_on_the_same_day_utc_s_wherever_they_run(
    tmp_path, capsys, far_time_zone
):
    from imagelab.report import jsonfile
    from tests.reports import MiB, image, run

    utc_today = datetime.datetime.now(datetime.UTC).date()
    for expires, still_accepted in ((utc_today, True), (utc_today - datetime.timedelta(days=1), False)):
        text = ENTRY.replace("2026-12-31", expires.isoformat())
        # compare's and merge's gate
        assert judged(text, size_change(950_000_000), tmp_path, today=None).regression is not still_accepted
        # bump's gate: one image grown past the size limit, and accepted by the same entry
        old, new = tmp_path / "old.json", tmp_path / "new.json"
        old.write_text(jsonfile.dumps(run(image("naive", 800 * MiB, app="microblog"))))
        grown = image("naive", 900 * MiB, app="microblog", compressed_size=800 * MiB // 3)
        new.write_text(jsonfile.dumps(run(grown)))
        (tmp_path / "accepted.toml").write_text(text)
        argv = ["bump", "--from", str(old), "--to", str(new), "--results", str(tmp_path)]
        assert cli.main([*argv, "--accepted", str(tmp_path / "accepted.toml")]) == (
            0 if still_accepted else 1
        )
