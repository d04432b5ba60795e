"""The build commands the READMEs, docs/lessons.md and the Dockerfiles' comments give a reader work on the
engines the project supports: every Dockerfile here has a `RUN --mount` step, which the legacy builder
(plain `docker build` on Docker 20.10, or on any engine without the buildx plugin) refuses. So each is a
`docker buildx build`, and one that tags an image also loads it into the engine's image store."""

from __future__ import annotations

import re

import pytest
from lessons_support import APPS, DOCKERFILES

from imagelab import ROOT

DOCUMENTS = [ROOT / "apps" / app / "README.md" for app in APPS] + [ROOT / "docs" / "lessons.md"]
# A command, not the name of one: `docker build` or `docker buildx build` followed by an option.
BUILD = re.compile(r"\bdocker\s+(?:buildx\s+)?build\s+-")


def commands(text: str) -> list[str]:
    """Each build command of a Markdown text: inline code spans and code-block lines (continuations
    joined), whitespace collapsed."""
    spans = re.findall(r"`([^`]+)`", re.sub(r"```.*?```", " ", text, flags=re.DOTALL))
    blocks = re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.DOTALL)
    lines = [line for block in blocks for line in re.sub(r"\\\n", " ", block).splitlines()]
    found = [" ".join(item.split()) for item in [*spans, *lines]]
    return [item.removeprefix("$ ") for item in found if BUILD.search(item)]


def documented_commands() -> list[tuple[str, str]]:
    found = [(path.relative_to(ROOT).as_posix(), c) for path in DOCUMENTS for c in commands(path.read_text())]
    for path in sorted(DOCKERFILES.glob("*/*.Dockerfile")):
        found += [(path.relative_to(ROOT).as_posix(), c) for c in comment_commands(path.read_text())]
    return found


def comment_commands(dockerfile: str) -> list[str]:
    """The build commands in a Dockerfile's comments, read as Markdown once the `#` marks are gone."""
    comments = [line.lstrip()[1:] for line in dockerfile.splitlines() if line.lstrip().startswith("#")]
    # A comment line may also start with a command, up to a colon: "# docker build --target debug: ..."
    leading = [m[1].strip() for line in comments if (m := re.match(r"\s*(docker\s+[^:`]*)", line))]
    return commands("\n".join(comments)) + [c for c in leading if BUILD.search(c)]


@pytest.mark.parametrize("app", APPS)
@pytest.mark.parametrize("variant", ["slim", "multistage", "distroless", "minimal"])
def test_every_variant_but_naive_needs_buildkit(app: str, variant: str) -> None:
    # The reason for the rule below: were it not so, plain `docker build` would do for them.
    assert re.search(
        r"^RUN\s+--mount=", (DOCKERFILES / app / f"{variant}.Dockerfile").read_text(), re.MULTILINE
    )


def test_the_documents_give_build_commands() -> None:
    where = {path for path, _ in documented_commands()}
    assert {f"apps/{app}/README.md" for app in APPS} <= where


@pytest.mark.parametrize(("path", "command"), documented_commands())
def test_each_build_command_uses_buildx_and_loads_what_it_tags(path: str, command: str) -> None:
    assert re.search(r"\bdocker buildx build\b", command), f"{path}: {command}"
    if re.search(r"(?:^|\s)(?:-t|--tag)[\s=]", command):
        assert re.search(r"(?:^|\s)--load\b", command), f"{path}: a tagged build without --load: {command}"


def test_commands_reads_code_blocks_spans_and_comments() -> None:
    markdown = (
        "Plain `docker build` is a name, not a command.\n"
        "```sh\ndocker build -f a.Dockerfile \\\n    -t x:y ctx\n$ docker buildx build --target test ctx\n```\n"
        "and `docker buildx build --load -t x ctx` inline.\n"
    )
    assert commands(markdown) == [
        "docker buildx build --load -t x ctx",
        "docker build -f a.Dockerfile -t x:y ctx",
        "docker buildx build --target test ctx",
    ]
    dockerfile = (
        "# (`docker buildx\n#   build --target debug`), the same image\n"
        "# docker build --target debug: the image above\nRUN docker build -t x .\n"
    )
    assert comment_commands(dockerfile) == [
        "docker buildx build --target debug",
        "docker build --target debug",
    ]
