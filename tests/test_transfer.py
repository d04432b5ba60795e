"""compare --build-on refuses what it cannot do in one line, before building anything."""

from __future__ import annotations

import shutil

import pytest

from imagelab import cli
from imagelab.engine import transfer
from imagelab.errors import EngineError


@pytest.mark.skipif(shutil.which("docker") is None, reason="needs the docker CLI (not an engine)")
def test_an_unknown_context_is_one_line_with_a_hint():
    with pytest.raises(EngineError) as caught:
        transfer.context_host("imagelab-no-such-context")
    assert "no Docker context named 'imagelab-no-such-context'" in caught.value.render()
    assert "docker context ls" in caught.value.render()


def test_build_on_with_cold_is_refused_before_the_engine_is_asked(capsys):
    assert cli.main(["compare", "--build-on", "elsewhere", "--cold"]) == 1
    assert "--cold empties this engine's build cache" in capsys.readouterr().err
