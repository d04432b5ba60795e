"""Structure tests: what each variant promises about its image, checked with container-structure-test.

A variant's file promises live in dockerfiles/contracts/<variant>.yaml, beside the Dockerfiles that
keep them, in container-structure-test's own format (anyone can run one by hand). What that format
cannot say is checked here, from the image's config:
- every variant: ENTRYPOINT/CMD present and in exec form, so `docker stop` reaches the app, not a
  shell; a service exposes the port its app.toml names (a generated metadataTest);
- the user: USER_RULES. A user given by name is looked up in the image's /etc/passwd (a generated
  fileContentTest), as the name alone does not say which UID runs.
"""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from imagelab import ROOT, engine, process
from imagelab.apps import Variant
from imagelab.checks.smoke import build_command, new_run_id
from imagelab.checks.tools import tool
from imagelab.errors import tail
from imagelab.inspect import users
from imagelab.inspect.users import NONROOT_UID, SHELLS

CONTRACTS = ROOT / "dockerfiles" / "contracts"
TOOL_TIMEOUT_S = 300
NON_ROOT = "non-root"  # any user but root
NONROOT_USER = str(NONROOT_UID)  # distroless' nonroot user, by its UID
#: What each variant promises about the user it runs as. naive runs as root on purpose: it is the
#: "before" picture.
USER_RULES = {"slim": NON_ROOT, "multistage": NON_ROOT, "distroless": NONROOT_USER, "minimal": NONROOT_USER}


@dataclass
class Check:
    name: str
    passed: bool
    detail: str = ""


@dataclass
class StructureResult:
    app: str
    variant: str
    base_set: str
    tag: str
    contract: str = ""  # the variant's contract file, relative to the repository ("" when it has none)
    checks: list[Check] = field(default_factory=list)
    error: str = ""  # the checks could not run
    hint: str = ""

    @property
    def passed(self) -> bool:
        return not self.error and bool(self.checks) and all(c.passed for c in self.checks)

    def problems(self) -> list[str]:
        failed = [f"{c.name}: {c.detail}" if c.detail else c.name for c in self.checks if not c.passed]
        return [self.error] if self.error else failed


def exec_form(config: dict) -> Check:
    """ENTRYPOINT + CMD present, and not `sh -c` (shell form), which makes the shell PID 1."""
    argv = (config.get("Entrypoint") or []) + (config.get("Cmd") or [])
    if not argv:
        return Check("entrypoint/cmd in exec form", False, "the image has neither ENTRYPOINT nor CMD")
    if len(argv) > 1 and Path(argv[0]).name in SHELLS and argv[1] == "-c":
        return Check(
            "entrypoint/cmd in exec form", False, f"shell form {argv}: the shell gets SIGTERM, not the app"
        )
    return Check("entrypoint/cmd in exec form", True, json.dumps(argv))


def user_checks(variant: str, config: dict) -> tuple[list[Check], list[dict]]:
    """Checks of the user the image runs as, and the fileContentTests that resolve a user name."""
    rule = USER_RULES.get(variant)
    if rule is None:
        return [], []
    user = config.get("User") or ""
    wanted = f"user {NONROOT_USER}" if rule == NONROOT_USER else "user not root"
    known = users.uid(user)  # None for a name other than root: only the image's /etc/passwd knows it
    if known == 0:
        return [Check(wanted, False, f"runs as root (USER {user or 'not set'})")], []
    if known is not None:
        ok = known == NONROOT_UID if rule == NONROOT_USER else True
        return [Check(wanted, ok, f"USER {user}")], []
    name = users.user_name(user)
    uid = NONROOT_USER if rule == NONROOT_USER else "[1-9][0-9]*"
    lookup = {
        "name": f"{wanted}: {name} in /etc/passwd",
        "path": "/etc/passwd",
        "expectedContents": [f"(?m)^{re.escape(name)}:[^:]*:{uid}:"],
    }
    return [], [lookup]


def generated_config(variant: Variant, config: dict) -> tuple[list[Check], dict]:
    """The app-specific part of the contract: Python checks, and container-structure-test config."""
    checks, lookups = user_checks(variant.name, config)
    generated: dict = {}
    if variant.app.service is not None:
        generated["metadataTest"] = {"exposedPorts": [str(variant.app.service.port)]}
    if lookups:
        generated["fileContentTests"] = lookups
    return [exec_form(config), *checks], generated


def parse_report(stdout: str) -> list[Check]:
    """container-structure-test's --output json: one result per test, with its errors."""
    report = json.loads(stdout[stdout.index("{") :])
    return [
        Check(r.get("Name") or "(config)", bool(r.get("Pass")), "; ".join(r.get("Errors") or []))
        for r in report.get("Results") or []
    ]


def run_tool(tag: str, configs: list[Path]) -> list[Check]:
    """Run container-structure-test with the docker driver (the engine DOCKER_HOST or the default
    socket names, as for the docker CLI); one check per test.

    The tool cannot label the containers it starts, so it runs against a tag made for this run alone,
    and every container made from that tag is removed afterwards, however the run ended."""
    with engine.tool_tag(tag, new_run_id()) as tool_image:
        command = [tool("container-structure-test", "container-structure-test"), "test", "--driver", "docker"]
        command += ["--image", tool_image, "--output", "json", "--no-color"]
        for config in configs:
            command += ["--config", str(config)]
        try:
            done = process.run(command, timeout=TOOL_TIMEOUT_S, what="container-structure-test", check=False)
        except process.ProcessError as exc:
            return [Check("container-structure-test", False, exc.cause)]
    try:
        return parse_report(done.stdout)
    except ValueError:
        said = " | ".join(tail(done.stderr, 3))
        return [Check("container-structure-test", False, f"no JSON report (exit {done.exit_code}): {said}")]


def check(variant: Variant) -> StructureResult:
    """Check one image against its variant's contract."""
    contract = CONTRACTS / f"{variant.name}.yaml"
    result = StructureResult(variant.app.name, variant.name, variant.base_set.name, variant.tag)
    config = engine.image_config(variant.tag)
    if config is None:
        result.error, result.hint = (
            f"image {variant.tag} does not exist",
            f"build it: {build_command(variant)}",
        )
        return result
    result.checks, generated = generated_config(variant, config)
    configs = []
    if contract.is_file():
        result.contract = str(contract.relative_to(ROOT))
        configs.append(contract)
    with tempfile.TemporaryDirectory(prefix="imagelab-structure-") as scratch:
        if generated:
            path = Path(scratch) / f"{variant.target}.json"
            path.write_text(json.dumps({"schemaVersion": "2.0.0", **generated}, indent=2))
            configs.append(path)
        if configs:
            result.checks += run_tool(variant.tag, configs)
    return result


def summary(result: StructureResult) -> list[str]:
    """Plain lines for the CLI."""
    if result.error:
        return [f"structure: FAIL ({result.error})", *([f"  hint: {result.hint}"] if result.hint else [])]
    failed = [c for c in result.checks if not c.passed]
    lines = [
        f"structure: {'pass' if result.passed else 'FAIL'} ({len(result.checks) - len(failed)}/{len(result.checks)} checks)"
    ]
    return lines + [f"  failed: {c.name}" + (f": {c.detail}" if c.detail else "") for c in failed]
