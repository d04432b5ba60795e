"""All output to a person goes through one Terminal: messages and progress to stderr, data to stdout.

When stderr is not a TTY (CI logs, pipes) rich prints plain lines instead of live progress.
"""

from __future__ import annotations

from rich.console import Console


class Terminal:
    def __init__(self) -> None:
        self.err = Console(stderr=True, highlight=False, soft_wrap=True)  # one cause, one line
        self.out = Console(highlight=False)
        if not self.out.is_terminal:
            # A log or a pipe has no width: let a table be as wide as its columns need.
            self.out = Console(highlight=False, width=240)

    @property
    def interactive(self) -> bool:
        return self.err.is_terminal

    def info(self, message: str) -> None:
        self.err.print(message, markup=False)

    def step(self, message: str) -> None:
        self.err.print(f"[bold]==>[/bold] {message}")

    def warn(self, message: str) -> None:
        self.err.print(f"[yellow]warning:[/yellow] {message}")

    def error(self, text: str) -> None:
        self.err.print(text, markup=False, style="red")


terminal = Terminal()
