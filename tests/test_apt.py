"""Programs from the machine's Debian release: what is missing is named, with the command that brings it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from imagelab import apt
from imagelab.errors import ConfigError


def test_only_programs_not_on_path_are_missing():
    assert apt.missing({"sh": "dash", "imagelab-no-such-program": "imagelab-pkg"}) == ["imagelab-pkg"]


def test_nothing_runs_when_nothing_is_missing():
    apt.install_missing({"sh": "dash"}, log=lambda line: pytest.fail(line), needed_for="a test")


@pytest.mark.parametrize("where", ["not debian", "not root"])
def test_where_apt_is_not_ours_one_line_names_the_package_and_the_command(monkeypatch, where):
    if where == "not debian":
        monkeypatch.setattr(apt, "DEBIAN_VERSION_FILE", Path("/nonexistent/debian_version"))
    else:
        monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(ConfigError) as caught:
        apt.install_missing({"imagelab-no-such-program": "imagelab-pkg"}, print, "building the base set")
    assert caught.value.cause == "imagelab-pkg is not installed: building the base set needs it"
    assert caught.value.hint == "on Debian or Ubuntu: `sudo apt-get install imagelab-pkg`"
