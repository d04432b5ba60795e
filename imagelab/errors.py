"""One base exception for everything the harness reports to a person.

Each error carries what someone needs to act on it: a one-line cause, a hint, and where there is
one, the end of a log (the last 20 lines beat a stack trace).
"""

from __future__ import annotations

from collections.abc import Iterable

LOG_TAIL_LINES = 20


def tail(text: str | bytes, lines: int = LOG_TAIL_LINES) -> list[str]:
    """The last `lines` non-empty lines of a log."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    kept = [line.rstrip() for line in text.splitlines() if line.strip()]
    return kept[-lines:]


class ImagelabError(Exception):
    """A failure the harness explains: `cause` is one line, `hint` says what to do, `log` is a tail."""

    def __init__(self, cause: str, hint: str = "", log: Iterable[str] = ()) -> None:
        super().__init__(cause)
        self.cause = cause
        self.hint = hint
        self.log = list(log)
        if self.hint or self.log:  # shown under a traceback (a failed test), never in the one-line report
            self.add_note("\n".join(self.render().splitlines()[1:]))

    def render(self) -> str:
        parts = [f"error: {self.cause}"]
        if self.hint:
            parts.append(f"hint: {self.hint}")
        if self.log:
            parts.append("last log lines:")
            parts.extend(f"  | {line}" for line in self.log)
        return "\n".join(parts)


class EngineError(ImagelabError):
    """No Docker engine answers, or it cannot be installed or started here."""


class ConfigError(ImagelabError):
    """A file the project reads (app.toml, bases.toml, a baseline) or a selector is wrong."""


class BuildError(ImagelabError):
    """A docker build failed: the cause names the target and the failing step."""


class ContainerError(ImagelabError):
    """A container crashed, never answered, or answered wrongly."""

    def __init__(self, cause: str, hint: str = "", log: Iterable[str] = (), exit_code: int | None = None):
        super().__init__(cause, hint, log)
        self.exit_code = exit_code
