"""`--engine` and `--store` on the commands that need an engine: one choice, seen by every job and process."""

from __future__ import annotations

import os

import pytest

from imagelab import cli
from imagelab.engine import bootstrap, kinds


@pytest.fixture(autouse=True)
def _no_choice_yet(monkeypatch):
    # The flags write os.environ themselves. monkeypatch undoes only what it recorded, and a delenv of a
    # variable that is not set records nothing: set it first, so the test's own writes are undone too
    # (a choice left behind would reach every later test's harness process and engine).
    for variable in (bootstrap.ENGINE_ENV, bootstrap.STORE_ENV):
        monkeypatch.setenv(variable, "")
        monkeypatch.delenv(variable)


@pytest.mark.parametrize(
    "command",
    [
        ["compare", "--app", "go-href", "--variant", "minimal"],
        ["build", "--app", "go-href", "--variant", "minimal"],
        ["smoke", "--app", "go-href", "--variant", "minimal"],
        ["explain", "--app", "go-href", "--variant", "minimal"],
        ["clean"],
        ["engine"],
    ],
    ids=lambda command: command[0],
)
def test_an_unknown_engine_is_refused_in_one_line_naming_the_kinds(command, capsys):
    assert cli.main([*command, "--engine", "docker-99"]) == 1
    err = capsys.readouterr().err
    assert "unknown engine 'docker-99'" in err
    for kind in kinds.KINDS:
        assert kind in err


def test_an_unknown_store_is_refused_naming_the_stores(capsys):
    assert cli.main(["smoke", "--app", "go-href", "--store", "overlay3"]) == 1
    err = capsys.readouterr().err
    assert "unknown image store 'overlay3'" in err
    assert "classic" in err and "containerd" in err


def test_the_choice_reaches_the_processes_a_job_starts(monkeypatch):
    chosen = {}

    def ensure_engine(log=print, kind=None, store=None):
        # What a harness process started by the job (bake, a test's compare) would read.
        chosen.update(engine=os.environ.get(bootstrap.ENGINE_ENV), store=os.environ.get(bootstrap.STORE_ENV))
        raise bootstrap.EngineError("stop here", hint="")

    monkeypatch.setattr(bootstrap, "ensure_engine", ensure_engine)
    cli.main(["smoke", "--app", "go-href", "--engine", "source", "--store", "containerd"])
    assert chosen == {"engine": "source", "store": "containerd"}


def test_no_flag_leaves_the_environment_as_the_user_set_it(monkeypatch):
    monkeypatch.setenv(bootstrap.ENGINE_ENV, "debian")
    seen = {}

    def ensure_engine(log=print, kind=None, store=None):
        seen["engine"] = os.environ.get(bootstrap.ENGINE_ENV)
        raise bootstrap.EngineError("stop here", hint="")

    monkeypatch.setattr(bootstrap, "ensure_engine", ensure_engine)
    cli.main(["explain", "--app", "go-href", "--variant", "minimal"])
    assert seen == {"engine": "debian"}


def test_the_engine_matrix_takes_engine_and_store_pairs_not_one_engine(capsys):
    # Its --engine names a setup (KIND/STORE), never the engine this process runs on.
    assert cli.main(["engines", "--engine", "forky/overlay9"]) == 1
    err = capsys.readouterr().err
    assert "unknown engine and store forky/overlay9" in err and "debian/classic" in err
    assert bootstrap.ENGINE_ENV not in os.environ


def test_no_choice_outlives_its_test():
    # Runs after the tests above (file order): none of their --engine or --store is left in the process.
    assert bootstrap.ENGINE_ENV not in os.environ and bootstrap.STORE_ENV not in os.environ
