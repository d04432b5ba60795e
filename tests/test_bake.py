"""Reading buildx's rawjson progress stream, without an engine: which target failed, at which step."""

from __future__ import annotations

import base64
import json

import pytest

from imagelab.engine import bake
from imagelab.engine.bake import BakeRun, TargetResult, read_stream


def vertex(digest: str, name: str, started: str = "", completed: str = "", **extra) -> dict:
    found = {"digest": digest, "name": name, **extra}
    if started:
        found["started"] = f"2026-11-27T10:00:{started}.123456789Z"
    if completed:
        found["completed"] = f"2026-11-27T10:00:{completed}.123456789Z"
    return {"vertexes": [found]}


def stream(*items: dict | str, indent: int | None = 2) -> list[str]:
    """The output as buildx writes it: objects (pretty-printed by buildx 0.13, one a line by 0.29), and
    plain lines between them."""
    lines: list[str] = []
    for item in items:
        text = item if isinstance(item, str) else json.dumps(item, indent=indent)
        lines += [line + "\n" for line in text.splitlines()]
    return lines


EVENTS = [
    vertex("a", "[internal] load local bake definitions", "00", "01"),
    vertex("b", "[app-slim 1/3] FROM docker.io/library/python:3.13", "01", "01", cached=True),
    vertex("c", "[app-slim 2/3] RUN pip install -r requirements.txt", "01", "20"),
    vertex("d", "[app-slim] exporting to image", "20", "22"),
    vertex(
        "e",
        "[app-minimal build 3/5] RUN make",
        "01",
        "09",
        error='process "/bin/sh -c make" did not complete successfully: exit code: 2',
    ),
    {
        "logs": [
            {
                "vertex": "e",
                "stream": 2,
                "data": base64.b64encode(b"cc: error: x.c\nmake: *** [all] Error 1\n").decode(),
            }
        ]
    },
    vertex("f", "[app-naive 2/2] RUN pip install .", "01", "09", error="context canceled: context canceled"),
    'ERROR: failed to solve: process "/bin/sh -c make" did not complete successfully: exit code: 2',
]


@pytest.mark.parametrize("indent", [2, None], ids=["buildx-0.13", "buildx-0.29"])
def test_the_stream_splits_into_objects_and_lines(indent):
    items = list(read_stream(stream(*EVENTS, indent=indent)))
    assert items[:-1] == EVENTS[:-1]
    assert items[-1].startswith("ERROR: failed to solve")


@pytest.mark.parametrize("indent", [2, None], ids=["buildx-0.13", "buildx-0.29"])
def test_both_forms_give_the_same_verdicts(indent):
    run = BakeRun(["app-slim", "app-minimal", "app-naive"])
    for item in read_stream(stream(*EVENTS, indent=indent)):
        run.feed(item)
    assert run.result("app-slim").ok
    minimal = run.result("app-minimal")
    assert not minimal.ok and minimal.failed_step == "[app-minimal build 3/5] RUN make"
    assert "make: *** [all] Error 1" in minimal.log


def test_a_stream_cut_inside_an_object_keeps_what_it_read():
    lines = stream(vertex("a", "[internal] load build definition", "00", "01"))
    items = list(read_stream(lines[:-1]))
    assert len(items) == 1 and isinstance(items[0], str) and '"digest": "a"' in items[0]


def test_each_target_gets_its_outcome_step_timing_and_log():
    done = []
    run = BakeRun(["app-slim", "app-minimal", "app-naive"], on_done=done.append)
    for item in read_stream(stream(*EVENTS)):
        run.feed(item)

    slim = run.result("app-slim")
    assert slim.ok and [r.target for r in done] == ["app-slim"]
    assert (slim.seconds, slim.steps, slim.cached_steps, slim.ran_steps) == (21.0, 3, 1, 1)

    minimal = run.result("app-minimal")
    assert not minimal.ok
    assert minimal.failed_step == "[app-minimal build 3/5] RUN make"
    assert minimal.log == ["cc: error: x.c", "make: *** [all] Error 1"]
    assert minimal.describe_failure().startswith("app-minimal: step [app-minimal build 3/5] RUN make failed")

    naive = run.result("app-naive")
    assert not naive.ok and not naive.failed_step
    assert naive.error == "canceled when another target failed"


def test_targets_that_share_the_export_step_digest_each_finish():
    """BuildKit v0.8 gives every target's export step the same digest; only the name tells them apart."""
    done = []
    run = BakeRun(["a", "b"], on_done=done.append)
    for item in read_stream(
        stream(
            vertex("x", "[a] exporting to image", "00"),
            vertex("x", "[b] exporting to image", "00"),
            vertex("x", "[a] exporting to image", "00", "01"),
            vertex("x", "[b] exporting to image", "00", "02"),
        )
    ):
        run.feed(item)
    assert [r.target for r in done] == ["a", "b"]
    assert run.result("a").ok and run.result("b").ok


def test_a_step_shared_by_targets_counts_for_each():
    """BuildKit runs an identical step once and names it after one target; the other needs it too."""
    run = BakeRun(["a", "b"])
    for item in read_stream(
        stream(
            vertex("dep", "[a build 2/3] RUN npm ci", "00", "30"),
            vertex("ca", "[a 2/2] COPY --from=build /app /app", "30", "31", inputs=["dep"]),
            vertex("cb", "[b 2/2] COPY --from=build /app /app", "30", "32", inputs=["dep"]),
            vertex("x", "[a] exporting to image", "31", "33"),
            vertex("x", "[b] exporting to image", "32", "33"),
        )
    ):
        run.feed(item)
    assert run.result("a").seconds == 33.0  # 30 + 1 + 2
    assert run.result("b").seconds == 33.0  # 30 + 2 + 1
    assert run.result("b").span_seconds == 3.0


def test_a_single_target_bake_has_no_target_prefix():
    run = BakeRun(["only"])
    for item in read_stream(
        stream(vertex("x", "[2/2] COPY . .", "00", "03"), vertex("y", "exporting to image", "03", "04"))
    ):
        run.feed(item)
    result = run.result("only")
    assert result.ok and result.steps == 2 and result.ran_steps == 1


def rounds_of(monkeypatch, answers: list[dict[str, TargetResult]]) -> list[list[str]]:
    """bake_all against a bake that answers each round from `answers`; the targets each round baked."""
    asked: list[list[str]] = []

    def fake_bake(bake_file, targets, *args, **kwargs):
        asked.append(list(targets))
        return {t: answers[len(asked) - 1][t] for t in targets}

    monkeypatch.setattr(bake, "bake", fake_bake)
    monkeypatch.setattr(bake, "answers", lambda: True)
    return asked


EXPORT_LOST = "error writing data blob sha256:e8bf: failed to get status: error getting writer status: EOF"


def test_a_target_whose_export_failed_is_baked_again_once(monkeypatch, tmp_path):
    lost = TargetResult("b", ok=False, failed_step="[b] exporting to image", error=EXPORT_LOST)
    asked = rounds_of(
        monkeypatch,
        [{"a": TargetResult("a", ok=True), "b": lost}, {"b": TargetResult("b", ok=True)}],
    )

    results = bake.bake_all(tmp_path / "bake.json", ["a", "b"])

    assert asked == [["a", "b"], ["b"]]
    assert results["a"].ok and results["b"].ok


def test_an_export_that_fails_twice_is_reported_and_a_failing_step_is_not_retried(monkeypatch, tmp_path):
    lost = TargetResult("b", ok=False, failed_step="[b] exporting to image", error=EXPORT_LOST)
    broken = TargetResult("c", ok=False, failed_step="[c 2/3] RUN false", error="exit code: 1")
    asked = rounds_of(monkeypatch, [{"b": lost, "c": broken}, {"b": lost}])

    results = bake.bake_all(tmp_path / "bake.json", ["b", "c"])

    assert asked == [["b", "c"], ["b"]]
    assert results["b"].describe_failure() == f"b: step [b] exporting to image failed: {EXPORT_LOST}"
    assert results["c"].failed_step == "[c 2/3] RUN false"
