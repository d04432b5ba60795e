"""All output to a person goes through one Terminal: messages and progress to stderr, data to stdout.

On a terminal, long work (the bake, the base set, the measuring) shows live progress: items done of
the total, what each running item does now, the time elapsed. When stderr is not a TTY (CI logs,
pipes) the same work prints plain lines instead: one per item done, as a log wants them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

#: What a running item is doing, cut to this many characters (a RUN line can be a paragraph).
DOING_CHARS = 72


class Phase:
    """One phase of long work: items start, say what they are doing, and finish.

    `live` is None on a log or a pipe: then only `finish` prints, a plain line per item."""

    def __init__(self, console: Console, title: str, items: Iterable[str], live: Progress | None) -> None:
        self.console, self.live, self.title = console, live, title
        self.items = list(items)
        self.done = 0
        self.running: dict[str, TaskID] = {}
        self.total = live.add_task(self._headline(), total=len(self.items)) if live else None

    def _headline(self) -> str:
        return f"{self.title}: {self.done} of {len(self.items)} done"

    def doing(self, item: str, what: str) -> None:
        """`item` runs, and is at `what` now (a build step, "smoke test", ...)."""
        if self.live is None or item not in self.items:
            return
        what = " ".join(what.split())
        what = what if len(what) <= DOING_CHARS else what[: DOING_CHARS - 3] + "..."
        description = f"  {item}: {what}"
        if item in self.running:
            self.live.update(self.running[item], description=description)
        else:
            self.running[item] = self.live.add_task(description, total=None)

    def finish(self, item: str, line: str = "") -> None:
        """`item` is done; `line` (if any) is printed above the live display, or as a plain line."""
        if line:
            self.console.print(line, markup=False, highlight=False)
        if self.live is None:
            return
        task = self.running.pop(item, None)
        if task is not None:
            self.live.remove_task(task)
        self.done += 1
        if self.total is not None:
            self.live.update(self.total, advance=1, description=self._headline())


class Terminal:
    def __init__(self, err: Console | None = None, out: Console | None = None) -> None:
        self.err = err or Console(stderr=True, highlight=False, soft_wrap=True)  # one cause, one line
        self.out = out or Console(highlight=False)
        if out is None and not self.out.is_terminal:
            # A log or a pipe has no width: let a table be as wide as its columns need.
            self.out = Console(highlight=False, width=240)

    def info(self, message: str) -> None:
        self.err.print(message, markup=False)

    def step(self, message: str) -> None:
        self.err.print(f"[bold]==>[/bold] {message}")

    def warn(self, message: str) -> None:
        self.err.print(f"[yellow]warning:[/yellow] {message}")

    def error(self, text: str) -> None:
        self.err.print(text, markup=False, style="red")

    @contextlib.contextmanager
    def progress(self, title: str, items: Iterable[str]) -> Iterator[Phase]:
        """Live progress of a phase on a terminal; plain lines elsewhere. The live display is gone
        when the block ends, however it ends (an error's line then stands alone)."""
        items = list(items)
        if not self.err.is_terminal or not items:
            yield Phase(self.err, title, items, None)
            return
        live = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=self.err,
            transient=True,  # the lines printed meanwhile stay; the bars go
        )
        with live:
            yield Phase(self.err, title, items, live)


terminal = Terminal()
