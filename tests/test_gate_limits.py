"""The gate's limits: a share and a floor for every gated metric, from defaults or the command line, and
findings that name what is behind them."""

from __future__ import annotations

import copy

import pytest

from imagelab import cli
from imagelab.commands import flags
from imagelab.errors import ConfigError
from imagelab.report import gate
from imagelab.report.model import ImageConfig, PackageRef
from tests.reports import MiB, exposure, image, run


def one(**changes):
    return run(image("slim", 100 * MiB, **changes))


def found(old, new, thresholds: gate.Thresholds | None = None) -> dict[str, gate.Change]:
    return {c.what: c for c in gate.changes(old, new, thresholds or gate.Thresholds())}


@pytest.mark.parametrize(
    ("metric", "field", "old", "noise", "regression"),
    [
        ("first answer", "first_answer_seconds", 0.8, 1.2, 2.0),  # +0.4 s is within the 0.5 s floor
        ("memory", "memory_bytes", 30 * MiB, 38 * MiB, 60 * MiB),  # +8 MiB is within the 10 MB floor
    ],
)
def test_timing_and_memory_fail_only_past_both_their_share_and_their_floor(
    metric, field, old, noise, regression
):
    before = one(**{field: old})
    assert metric not in found(before, one(**{field: noise}))  # noise is not even shown
    assert found(before, one(**{field: regression}))[metric].regression


def test_a_limit_from_the_command_line_replaces_the_default():
    args = cli.parser().parse_args(["compare", "--limit", "first-answer=10:0.1", "--max-growth-mb", "50"])
    thresholds = flags.gate_thresholds(args)
    assert thresholds.limit("first answer") == gate.Limit(10, 0.1)
    assert thresholds.limit("size") == gate.Limit(5, 50 * 1000**2)
    assert found(one(first_answer_seconds=0.8), one(first_answer_seconds=1.2), thresholds)[
        "first answer"
    ].regression


@pytest.mark.parametrize("spec", ["memory=lots", "memory", "speed=5:1"])
def test_a_bad_limit_is_one_line(spec):
    args = cli.parser().parse_args(["compare", "--limit", spec])
    with pytest.raises(ConfigError) as caught:
        flags.gate_thresholds(args)
    assert "\n" not in caught.value.cause and caught.value.hint


def test_a_package_count_regression_lists_the_packages_behind_it():
    inventory = [PackageRef("deb", "libc6", "2.41", True)]
    old = one(exposure=exposure(os_packages=1, inventory=inventory))
    grown = [
        *inventory,
        PackageRef("deb", "curl", "8.14.1-2", False),
        PackageRef("python", "six", "1.17", False),
    ]
    new = one(exposure=exposure(os_packages=2, language_packages=13, inventory=grown))
    changes = found(old, new)
    assert changes["os packages"].regression and changes["os packages"].details == ("+curl 8.14.1-2 (own)",)
    assert changes["language packages"].details == ("+six 1.17 (own)",)


def test_a_config_change_that_matters_is_named():
    config = ImageConfig(user="65532", entrypoint=["/app"])
    old = one(config=config, exposure=exposure(shell=False, shells=[], root=False, user="65532", uid=65532))
    new = copy.deepcopy(old)
    new.images[0].config.entrypoint = ["/bin/sh", "-c", "/app"]
    new.images[0].exposure.shell, new.images[0].exposure.shells = True, ["/bin/sh"]
    new.images[0].exposure.user = "nobody"
    changes = found(old, new)
    assert changes["entrypoint"].regression and changes["entrypoint"].new == "/bin/sh -c /app"
    assert changes["shell"].regression and changes["shell"].change == "gained a shell (/bin/sh)"
    assert not changes["user"].regression and (changes["user"].old, changes["user"].new) == (
        "65532",
        "nobody",
    )
