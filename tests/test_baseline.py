"""The regression gate on hand-made reports: what fails it, what does not, and bad baseline files."""

from __future__ import annotations

import copy
import json

import pytest

from imagelab.errors import ConfigError
from imagelab.report import gate as baseline

MB = 1000**2


def row(variant: str, size: int, **extra) -> dict:
    return {
        "app": "demo",
        "variant": variant,
        "base_set": "debian",
        "built": True,
        "size": size,
        "smoke": "pass",
        "structure": "pass",
        "hardened": "n/a",
        "exposure": {
            "os_packages": 10,
            "language_packages": 20,
            "shell": False,
            "root": False,
            "user": "65532",
        },
        **extra,
    }


def report(*rows: dict) -> dict:
    return {"schema": 1, "base_set": "debian", "images": list(rows)}


OLD = report(row("naive", 900 * MB), row("minimal", 10 * MB))


def regressions(new: dict) -> list[baseline.Change]:
    return [c for c in baseline.compare(OLD, new) if c.regression]


def test_an_identical_run_passes_without_changes():
    assert baseline.compare(OLD, copy.deepcopy(OLD)) == []


def test_growth_must_pass_both_the_share_and_the_bytes():
    small_share = report(row("naive", 940 * MB), row("minimal", 10 * MB))  # +40 MB but +4.4 %
    few_bytes = report(row("naive", 900 * MB), row("minimal", 11 * MB))  # +10 % but +1 MB
    both = report(row("naive", 900 * MB), row("minimal", 13 * MB))  # +30 % and +3 MB
    assert regressions(small_share) == [] and regressions(few_bytes) == []
    [change] = regressions(both)
    assert change.image == "demo/minimal (debian)" and change.what == "size"
    assert change.change.startswith("+2.9 MiB (+30.0 %)")


def test_a_broken_check_a_new_shell_root_and_a_missing_variant_fail():
    new = report(
        row("naive", 900 * MB, smoke="fail"),
    )
    new["images"].append(row("distroless", 50 * MB))
    changes = regressions(new)
    assert {(c.image, c.what) for c in changes} == {
        ("demo/naive (debian)", "smoke"),
        ("demo/minimal (debian)", "variant"),
    }
    shelled = report(row("naive", 900 * MB), row("minimal", 10 * MB))
    shelled["images"][1]["exposure"].update(shell=True, root=True, user="0")
    assert {c.what for c in regressions(shelled)} == {"shell", "user"}


def test_package_growth_past_the_threshold_fails():
    new = copy.deepcopy(OLD)
    new["images"][0]["exposure"]["os_packages"] = 12  # +20 %
    new["images"][1]["exposure"]["os_packages"] = 11  # +10 %: on the threshold, passes
    assert [(c.image, c.what) for c in regressions(new)] == [("demo/naive (debian)", "os packages")]


def test_other_apps_and_base_sets_are_not_reported_missing():
    other = report(row("naive", 900 * MB))
    other["images"][0]["app"] = "another"
    assert baseline.compare(OLD, other) == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "does not exist"),
        ("{not json", "is not valid JSON"),
        (json.dumps({"schema": 99, "images": []}), "found schema 99"),
        (json.dumps({"schema": 1, "images": [{"app": "x"}]}), "images[0] lacks variant, base_set, built"),
    ],
)
def test_a_bad_baseline_names_the_file_and_the_problem(tmp_path, content, message):
    path = tmp_path / "baseline.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ConfigError) as caught:
        baseline.load(path)
    assert str(path) in caught.value.cause and message in caught.value.cause
    assert "--update-baseline" in caught.value.hint
