"""The real path end to end: bake a FROM-scratch image with a static binary, run it, read its output."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from imagelab import engine
from imagelab.engine import bake

pytestmark = pytest.mark.docker

DOCKERFILE = """\
FROM scratch
COPY bin/busybox /busybox
ENTRYPOINT ["/busybox"]
CMD ["echo", "hello from scratch"]
"""


def test_bake_then_run_a_scratch_image(busybox_rootfs: Path, tmp_path: Path, scratch_tag: str):
    context = tmp_path / "context"
    (context / "bin").mkdir(parents=True)
    shutil.copy2(busybox_rootfs / "bin" / "busybox", context / "bin" / "busybox")
    (context / "Dockerfile").write_text(DOCKERFILE)
    bake_file = tmp_path / "docker-bake.json"
    bake_file.write_text(json.dumps({"target": {"scratch": {"context": "context", "tags": [scratch_tag]}}}))

    results = bake.bake_all(bake_file, ["scratch"])

    assert results["scratch"].ok, results["scratch"].describe_failure()
    config = engine.image_config(scratch_tag)
    assert (config["Entrypoint"], config["Cmd"]) == (["/busybox"], ["echo", "hello from scratch"])
    assert len(engine.client().images.get(scratch_tag).attrs["RootFS"]["Layers"]) == 1, "one COPY, one layer"
    output = engine.client().containers.run(scratch_tag, remove=True, labels={engine.RUN_LABEL: "test"})
    assert output == b"hello from scratch\n"


def test_a_failing_step_is_named_with_its_log_and_the_other_target_still_builds(
    busybox_rootfs: Path, tmp_path: Path, scratch_tag: str
):
    context = tmp_path / "context"
    (context / "bin").mkdir(parents=True)
    shutil.copy2(busybox_rootfs / "bin" / "busybox", context / "bin" / "busybox")
    (context / "good.Dockerfile").write_text(DOCKERFILE)
    (context / "bad.Dockerfile").write_text(
        'FROM scratch\nCOPY bin/busybox /busybox\nRUN ["/busybox", "sh", "-c", "echo broken step >&2; exit 3"]\n'
    )
    bake_file = tmp_path / "docker-bake.json"
    bake_file.write_text(
        json.dumps(
            {
                "target": {
                    "good": {"context": "context", "dockerfile": "good.Dockerfile", "tags": [scratch_tag]},
                    "bad": {
                        "context": "context",
                        "dockerfile": "bad.Dockerfile",
                        "tags": [f"{scratch_tag}-bad"],
                    },
                }
            }
        )
    )

    results = bake.bake_all(bake_file, ["good", "bad"])

    assert results["good"].ok
    bad = results["bad"]
    assert not bad.ok
    assert "RUN" in bad.failed_step and "exit code: 3" in bad.error
    assert "broken step" in bad.log
    assert not engine.image_id(f"{scratch_tag}-bad")


def test_a_dockerfile_that_does_not_parse_is_named_and_the_other_target_still_builds(
    busybox_rootfs: Path, tmp_path: Path, scratch_tag: str
):
    """BuildKit refuses the whole bake before any step when one Dockerfile does not parse."""
    context = tmp_path / "context"
    (context / "bin").mkdir(parents=True)
    shutil.copy2(busybox_rootfs / "bin" / "busybox", context / "bin" / "busybox")
    (context / "good.Dockerfile").write_text(DOCKERFILE)
    (context / "bad.Dockerfile").write_text("FROM scratch\nCOPYY bin/busybox /busybox\n")
    targets = {
        "good": {"context": "context", "dockerfile": "good.Dockerfile", "tags": [scratch_tag]},
        "bad": {"context": "context", "dockerfile": "bad.Dockerfile", "tags": [f"{scratch_tag}-bad"]},
    }
    bake_file = tmp_path / "docker-bake.json"
    bake_file.write_text(json.dumps({"target": targets}))

    results = bake.bake_all(bake_file, ["good", "bad"])

    assert results["good"].ok, results["good"].describe_failure()
    # The cause in one line, whatever each BuildKit release words around it ("parse error line 2" in
    # v0.8, "parse error on line 2: ... (did you mean COPY?)" now): the target, the line, the word.
    failure = results["bad"].describe_failure()
    assert failure.startswith("bad: ") and "\n" not in failure
    assert "line 2" in failure and "unknown instruction: COPYY" in failure
    assert not engine.image_id(f"{scratch_tag}-bad")
