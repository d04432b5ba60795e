"""The harness on the other engines and image stores it starts, beside the one the suite runs on.

The rest of the suite runs on the engine `nox -s tests` started. Here each setup below starts beside it
as a second engine and runs the same compare (imagelab/engine_matrix.py): it must pass the gate against
the engine in use's report of the same images, with the same verdicts and package lists, and hold the
invariants every engine must (no image smaller than its closure, compressed at most unpacked, layers
that add up).
"""

from __future__ import annotations

import os

import pytest

from imagelab import engine_matrix
from imagelab.engine_matrix import EngineSetup

#: The newest engine on the store new installs get, the same packaged engine on the other store than
#: the suite's, and the oldest engine the project supports. (Docker 29 is built once, about 3.5 min.)
SETUPS = [
    EngineSetup("source", "containerd"),
    EngineSetup("forky", "containerd"),
    EngineSetup("debian", "classic"),
]


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    return engine_matrix.first_report(tmp_path_factory.mktemp("engine-in-use"))


@pytest.mark.docker
@pytest.mark.skipif(os.geteuid() != 0, reason="a second dockerd needs root")
@pytest.mark.parametrize("engine_setup", SETUPS, ids=lambda c: c.name)
def test_compare_passes_with_the_same_verdicts_on_every_engine(baseline, tmp_path, engine_setup):
    outcome = engine_matrix.run_setup(engine_setup, baseline, tmp_path, log=lambda _: None)
    assert outcome.ok, f"{engine_setup.name}: {outcome.reason}"
    assert engine_setup.store in outcome.engine


def test_an_image_smaller_than_its_closure_is_named():
    row = {
        "built": True,
        "smoke": "pass",
        "structure": "pass",
        "error": "",
        "size": 100,
        "closure_size": 150,
        "compressed_size": 40,
        "layer_details": [{"size": 60}, {"size": 40}],
    }
    assert engine_matrix.invariants(row) == ["smaller than its runtime closure"]
    row |= {"closure_size": 90, "compressed_size": 120, "layer_details": [{"size": 60}]}
    assert engine_matrix.invariants(row) == [
        "compressed larger than unpacked",
        "layers do not add up to its size",
    ]
