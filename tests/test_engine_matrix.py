"""The harness on the other engines and image stores it starts, beside the one the suite runs on.

The rest of the suite runs on the engine `nox -s tests` started. Here each setup below starts beside it
as a second engine and runs the same compare (imagelab/engine_matrix.py), then a bump between two local
sets on the same images: the compare must pass the gate against
the engine in use's report of the same images, with the same verdicts and package lists, and hold the
invariants every engine must (no image smaller than its closure, compressed at most unpacked, layers
that add up).
"""

from __future__ import annotations

import json
import os
import tomllib

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
    if engine_setup.store == "containerd":
        # The containerd store keeps BuildKit's provenance beside each image: the report read it, and the
        # setup held it against the bases the harness resolved (engine_matrix.invariants).
        rows = json.loads((tmp_path / "compare.json").read_text())["images"]
        assert all(row["provenance"] for row in rows), [(r["variant"], r["provenance"]) for r in rows]


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


def test_the_pinned_set_pins_each_role_the_images_were_built_on_to_its_resolved_digest(tmp_path):
    golang = "127.0.0.1:5000/imagelab-bases/golang@sha256:" + "9f" * 32
    slim = "127.0.0.1:5000/imagelab-bases/debian-slim@sha256:" + "0e" * 32
    images = [
        {
            "base_images": [
                {"ref": golang, "digest": "sha256:" + "9f" * 32, "written": "${GOLANG_IMAGE}"},
                {"ref": slim, "digest": "sha256:" + "0e" * 32, "written": "${DEBIAN_SLIM_IMAGE}"},
                # scratch, or an image never in a registry: nothing to pin.
                {"ref": "scratch", "digest": "", "written": "scratch"},
            ]
        }
    ]
    (tmp_path / "compare.json").write_text(json.dumps({"images": images}))
    written = engine_matrix.pinned_set(tmp_path / "compare.json", tmp_path / "pinned.toml")
    assert tomllib.loads(written.read_text())["roles"] == {"golang": golang, "debian-slim": slim}


def test_where_provenance_names_other_bases_the_cell_fails_on_it():
    row = {
        "built": True,
        "smoke": "pass",
        "structure": "pass",
        "error": "",
        "size": 100,
        "closure_size": 90,
        "compressed_size": 40,
        "layer_details": [{"size": 100}],
        # a debug stage's base, resolved but never pulled for the target: not in provenance
        "base_images": [{"digest": "sha256:aa"}, {"digest": "sha256:cc"}, {"digest": ""}],
        "provenance": [{"ref": "r", "digest": "sha256:aa"}],
    }
    assert engine_matrix.invariants(row) == []
    row["provenance"] = [{"ref": "r", "digest": "sha256:bb"}]
    assert engine_matrix.invariants(row) == [
        "provenance records other base digests than the harness resolved"
    ]
    row["provenance"] = None  # the classic store keeps none: nothing to hold the bases against
    assert engine_matrix.invariants(row) == []


def test_a_package_list_that_differs_from_the_engine_in_use_is_named_with_what_differs():
    inventory = [
        {"kind": "deb", "name": "tzdata", "version": "2026f"},
        {"kind": "go", "name": "stdlib", "version": "1"},
    ]
    here = {"size": 10, "smoke": "pass", "exposure": {"shell": False, "inventory": inventory}}
    assert engine_matrix.differences(here, here) == []
    fewer = {"size": 10, "smoke": "fail", "exposure": {"shell": False, "inventory": inventory[:1]}}
    assert engine_matrix.differences(here, fewer) == [
        "smoke differs from the engine in use",
        "package lists differ (+0 -1)",
    ]
