"""The lessons as the Dockerfiles' text must keep them (no engine): base images that name their Debian
release, nothing tied to one Python version or layout, no `# syntax=` line, pip caches in cache mounts,
test and debug stages off the default build, health checks in exec form, secrets kept out of contexts."""

from __future__ import annotations

import json
import re

import pytest
from lessons_support import APPS, DOCKERFILES, ancestors, dockerfile, instructions, stages

from imagelab import ROOT

VARIANTS = ("naive", "slim", "multistage", "distroless", "minimal")
ALL = [(app, variant) for app in APPS for variant in VARIANTS]
SERVICES = ("microblog", "node-express")
ARG_DEFAULT = re.compile(r"^ARG\s+(\w+_IMAGE)=(\S+)\s*$", re.MULTILINE)


def text(app: str, variant: str) -> str:
    return dockerfile(app, variant).read_text()


@pytest.mark.parametrize(("app", "variant"), ALL)
def test_every_base_image_default_names_its_debian_release(app: str, variant: str) -> None:
    # A builder and a runtime of the same Debian release have the same glibc, by construction.
    defaults = dict(ARG_DEFAULT.findall(text(app, variant)))
    assert defaults, "no ARG <ROLE>_IMAGE=<default> before FROM"
    for arg, image in defaults.items():
        assert "trixie" in image or "debian13" in image, f"{arg}={image} does not name the Debian release"


@pytest.mark.parametrize(("app", "variant"), ALL)
def test_nothing_names_a_python_version_in_a_path_or_an_entrypoint(app: str, variant: str) -> None:
    # The same file builds on Debian 12 (python3.11) and the official images (python in /usr/local).
    for line in instructions(text(app, variant)):
        if line.upper().startswith("ARG "):
            continue
        assert not re.search(r"python3\.\d+|/usr/(local/)?lib/python3\.", line), line
        assert not re.search(r"config-3\.\d+", line), line


@pytest.mark.parametrize(("app", "variant"), ALL)
def test_no_syntax_line_so_the_builtin_frontend_builds_it(app: str, variant: str) -> None:
    # `# syntax=` makes BuildKit pull a frontend image first: no registry answers here.
    first = text(app, variant).splitlines()[0]
    assert not re.match(r"#\s*syntax\s*=", first, re.IGNORECASE)
    assert "syntax=" not in "".join(text(app, variant).splitlines()[:3]).replace(" ", "")


@pytest.mark.parametrize("variant", ["slim", "multistage", "distroless", "minimal"])
def test_pip_keeps_its_cache_in_a_cache_mount_never_in_a_layer(variant: str) -> None:
    runs = [i for i in instructions(text("microblog", variant)) if re.search(r"\bpip\b.*\binstall\b", i)]
    assert runs, "no pip install"
    for run in runs:
        assert "--mount=type=cache,target=/root/.cache/pip" in run, run
        assert "--no-cache-dir" not in run, run


def test_naive_keeps_pips_cache_in_its_layer_as_its_comment_says() -> None:
    # The cache lands in /root/.cache/pip unless something turns it off: neither the RUN nor the python
    # stand-ins (nor docker-library's python images, which set no PIP_NO_CACHE_DIR) do. How much it
    # holds depends on the index's caching headers; the report's caches column says what it was.
    runs = [i for i in instructions(text("microblog", "naive")) if re.search(r"\bpip\b.*\binstall\b", i)]
    assert runs and all("--mount=type=cache" not in r and "--no-cache-dir" not in r for r in runs)
    stand_in = (DOCKERFILES / "bases" / "python.Dockerfile").read_text()
    assert not re.search(r"PIP_NO_CACHE_DIR|no-cache-dir|XDG_CACHE_HOME", stand_in)
    assert "pip's cache (/root/.cache/pip) stays in the layer" in text("microblog", "naive")


# A measured figure: a size, a ratio, a duration, or a count of files, modules or packages.
MEASURED = re.compile(
    r"(?<![\w.])(?!0x)\d+(?:\.\d+)?\s?(?:[kKMG]i?B|ms|s|x)(?![\w-])|(?<![\w.])\d+(?:\.\d+)?\s?%"
    r"|\b\d+ (?:files|modules|OS packages|locales)\b|\(\d+ here\)"
)


def comments(source: str) -> str:
    return "\n".join(line for line in source.splitlines() if line.lstrip().startswith("#"))


@pytest.mark.parametrize(("app", "variant"), ALL)
def test_comments_quote_no_measured_figure(app: str, variant: str) -> None:
    # Figures typed by hand drift from the report (0.9-1.4x against 0.72x, 627 files against 628):
    # a comment says what to look at and where the figure is (results/compare.md, docs/lessons.md,
    # which quotes the report through imagelab.report.lessons), not the figure itself.
    assert MEASURED.findall(comments(text(app, variant))) == []


@pytest.mark.parametrize(
    "figure",
    [
        "16.8 MB",
        "0.9 to 1.4x",
        "about 1.1 GB",
        "627 files",
        "(14 here)",
        "2 to 3 s",
        "a fifth (60.2 -> 77.0 MB)",
        "12 %",
    ],
)
def test_the_figure_rule_catches_what_it_is_for(figure: str) -> None:
    assert MEASURED.search(f"# the step costs {figure} here")


@pytest.mark.parametrize(
    "fact",
    ["UID 65532", "Go 1.24", "x86-64", "libc.so.6", "exit 137", '-ldflags "-s -w"', "python3.13", "arm64"],
)
def test_the_figure_rule_leaves_names_and_versions_alone(fact: str) -> None:
    assert not MEASURED.search(f"# {fact}")


@pytest.mark.parametrize("app", APPS)
def test_the_test_stage_is_not_part_of_the_default_build(app: str) -> None:
    source = text(app, "multistage")
    assert "test" in [name for _, name in stages(source)]
    assert "test" not in ancestors(source)


@pytest.mark.parametrize("app", APPS)
def test_distroless_has_a_debug_target_off_the_default_build(app: str) -> None:
    source = text(app, "distroless")
    names = [name for _, name in stages(source)]
    assert "debug" in names
    assert stages(source)[-1] == ("runtime", ""), "the last stage must be the runtime image itself"
    assert "debug" not in ancestors(source) and "busybox" not in ancestors(source)


@pytest.mark.parametrize("app", SERVICES)
def test_distroless_services_check_their_health_in_exec_form_without_curl(app: str) -> None:
    checks = [i for i in instructions(text(app, "distroless")) if i.upper().startswith("HEALTHCHECK")]
    assert len(checks) == 1
    argv = json.loads(checks[0][checks[0].index("CMD") + 3 :])
    assert argv[0] in ("/usr/bin/python3", "/nodejs/bin/node")
    assert "curl" not in checks[0] and "wget" not in checks[0]


@pytest.mark.parametrize(
    ("app", "variant"),
    [("go-href", "distroless")] + [(a, v) for a in SERVICES for v in ("slim", "multistage", "minimal")],
)
def test_where_there_is_no_healthcheck_a_comment_says_why(app: str, variant: str) -> None:
    source = text(app, variant)
    assert not any(i.upper().startswith("HEALTHCHECK") for i in instructions(source))
    assert "No HEALTHCHECK" in source


def test_a_build_secret_reaches_npm_through_a_secret_mount() -> None:
    runs = [i for i in instructions(text("node-express", "distroless")) if "npm ci" in i]
    assert any("--mount=type=secret,id=npmrc,target=/root/.npmrc" in run for run in runs)


@pytest.mark.parametrize("app", APPS)
def test_dockerignore_keeps_secrets_out_of_the_context(app: str) -> None:
    patterns = (ROOT / "apps" / app / ".dockerignore").read_text().splitlines()
    for secret in ("**/.env", "**/.npmrc"):
        assert secret in patterns


def test_every_dockerfile_here_is_one_of_the_variants() -> None:
    # The parametrisations above cover every Dockerfile of every app.
    found = {(p.parent.name, p.stem) for app in APPS for p in (DOCKERFILES / app).glob("*.Dockerfile")}
    assert found == set(ALL)


def test_ancestors_follow_from_and_copy_from_transitively() -> None:
    # The reading the stage tests above rely on, on a file where the last stage does need `test`.
    source = (
        "FROM a AS build\nRUN make\nFROM build AS test\nRUN make check \\\n from-a-continued\n"
        "FROM b AS runtime\nCOPY --from=test /out /out\nFROM c AS debug\nFROM runtime\n"
    )
    assert stages(source) == [
        ("a", "build"),
        ("build", "test"),
        ("b", "runtime"),
        ("c", "debug"),
        ("runtime", ""),
    ]
    assert ancestors(source) == {"runtime", "test", "build"}
