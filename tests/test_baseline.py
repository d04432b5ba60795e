"""The regression gate on hand-made reports: what fails it, what does not, and bad baseline files."""

from __future__ import annotations

import copy
import json

import pytest
from reports import exposure, image, run

from imagelab.errors import ConfigError
from imagelab.report import gate

MB = 1000**2


def lean(variant: str, size: int, **changes):
    facts = exposure(os_packages=10, language_packages=20, shell=False, root=False, user="65532", uid=65532)
    return image(variant, size, exposure=facts, **changes)


OLD = run(lean("naive", 900 * MB), lean("minimal", 10 * MB))


def regressions(new) -> list[gate.Change]:
    return [c for c in gate.changes(OLD, new) if c.regression]


def test_an_identical_run_passes_without_changes():
    assert gate.changes(OLD, copy.deepcopy(OLD)) == []


def test_growth_must_pass_both_the_share_and_the_bytes():
    small_share = run(lean("naive", 940 * MB), lean("minimal", 10 * MB))  # +40 MB but +4.4 %
    few_bytes = run(lean("naive", 900 * MB), lean("minimal", 11 * MB))  # +10 % but +1 MB
    both = run(lean("naive", 900 * MB), lean("minimal", 13 * MB))  # +30 % and +3 MB
    assert regressions(small_share) == [] and regressions(few_bytes) == []
    [change] = regressions(both)
    assert change.image == "demo/minimal (debian)" and change.what == "size"
    assert change.change.startswith("+2.9 MiB (+30.0 %)")


def test_a_broken_check_a_new_shell_root_and_a_missing_variant_fail():
    new = run(lean("naive", 900 * MB, smoke="fail"), lean("distroless", 50 * MB))
    assert {(c.image, c.what) for c in regressions(new)} == {
        ("demo/naive (debian)", "smoke"),
        ("demo/minimal (debian)", "variant"),
    }
    shelled = copy.deepcopy(OLD)
    shelled.images[1].exposure.shell, shelled.images[1].exposure.root = True, True
    shelled.images[1].exposure.user = "0"
    assert {c.what for c in regressions(shelled)} == {"shell", "user"}


def test_package_growth_past_the_threshold_fails():
    new = copy.deepcopy(OLD)
    new.images[0].exposure.os_packages = 12  # +20 %
    new.images[1].exposure.os_packages = 11  # +10 %: on the threshold, passes
    assert [(c.image, c.what) for c in regressions(new)] == [("demo/naive (debian)", "os packages")]


def test_other_apps_and_base_sets_are_not_reported_missing():
    assert gate.changes(OLD, run(lean("naive", 900 * MB, app="another"))) == []
    assert gate.changes(OLD, run(lean("naive", 900 * MB), base_set="official")) == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "does not exist"),
        ("{not json", "is not valid JSON"),
        ('{"schema": 1, "images": [', "is not valid JSON"),  # truncated
        (json.dumps({"schema": 99, "images": []}), "found schema 99"),
        (json.dumps([1, 2]), "found schema 'list'"),
        (json.dumps({"schema": 1, "generated": "x", "revision": "x", "base_set": "debian",
                     "base_set_note": "", "engine": "", "images": [{"app": "x"}]}), "images.0.variant"),
    ],
)  # fmt: skip
def test_a_bad_baseline_names_the_file_and_the_problem(tmp_path, content, message):
    path = tmp_path / "baseline.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ConfigError) as caught:
        gate.load(path)
    assert str(path) in caught.value.cause and message in caught.value.cause
    assert "--update-baseline" in caught.value.hint
