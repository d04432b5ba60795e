"""Progress on long work: live on a terminal, plain lines in a log or a pipe."""

from __future__ import annotations

import io

from rich.console import Console

from imagelab.engine.bake import BakeRun
from imagelab.terminal import Terminal


def terminal(tty: bool) -> tuple[Terminal, io.StringIO]:
    written = io.StringIO()
    console = Console(file=written, force_terminal=tty, width=100, highlight=False)
    return Terminal(err=console, out=Console(file=io.StringIO())), written


def test_a_log_gets_one_plain_line_per_item_done_and_nothing_else():
    shown, written = terminal(tty=False)
    with shown.progress("building 2 images", ["app-slim", "app-naive"]) as phase:
        phase.doing("app-slim", "[2/3] RUN pip install")
        phase.finish("app-slim", "  built app-slim in 3.0 s")
        phase.doing("app-naive", "[1/2] COPY . .")
        phase.finish("app-naive", "  built app-naive in 1.0 s")
    assert written.getvalue() == "  built app-slim in 3.0 s\n  built app-naive in 1.0 s\n"


def test_a_terminal_shows_done_of_total_each_running_step_and_elapsed_then_clears_it():
    shown, written = terminal(tty=True)
    with shown.progress("building 2 images", ["app-slim", "app-naive"]) as phase:
        phase.doing("app-slim", "[2/3] RUN pip install --no-cache-dir " + "x" * 200)
        phase.doing("app-naive", "[1/2] COPY . .")
        phase.live.refresh()
        live = written.getvalue()
        phase.finish("app-slim", "  built app-slim in 3.0 s")
        phase.live.refresh()
        after_one = written.getvalue()[len(live) :]
    assert "building 2 images: 0 of 2 done" in live
    assert "app-slim: [2/3] RUN pip install --no-cache-dir xxx" in live and "x" * 100 not in live
    assert "app-naive: [1/2] COPY . ." in live
    assert "0:00:0" in live  # elapsed
    assert "  built app-slim in 3.0 s" in after_one
    last_frame = after_one[after_one.rindex("building 2 images:") :]
    assert last_frame.startswith("building 2 images: 1 of 2 done")
    assert "app-naive: [1/2]" in last_frame and "app-slim" not in last_frame  # a finished target leaves
    assert written.getvalue().endswith("\x1b[2K")  # transient: the display is erased at the end


def test_an_empty_phase_shows_nothing_even_on_a_terminal():
    shown, written = terminal(tty=True)
    with shown.progress("building 0 images", []) as phase:
        assert phase.live is None
    assert written.getvalue() == ""


def test_the_bake_reports_each_targets_step_as_it_starts_without_its_target_name():
    steps = []
    run = BakeRun(["app-slim", "app-minimal"], on_step=lambda target, step: steps.append((target, step)))
    started = "2026-11-27T10:00:01.123456789Z"
    for digest, name in (
        ("a", "[internal] load build definition"),
        ("b", "[app-slim 2/3] RUN pip install"),
        ("c", "[app-minimal build 3/5] RUN make"),
        ("d", "[app-slim] exporting to image"),
    ):
        run.feed({"vertexes": [{"digest": digest, "name": name, "started": started}]})
    # a completed step is no current step
    run.feed(
        {
            "vertexes": [
                {"digest": "e", "name": "[app-slim 3/3] COPY", "started": started, "completed": started}
            ]
        }
    )
    assert steps == [
        ("app-slim", "[2/3] RUN pip install"),
        ("app-minimal", "[build 3/5] RUN make"),
        ("app-slim", "exporting to image"),
    ]
