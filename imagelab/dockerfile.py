"""Reading a Dockerfile: its instructions with their lines, and every image it names.

A leaf of the package (it imports nothing of imagelab), so that the base sets, the build and the
inspectors read Dockerfiles one way:
- `parse_dockerfile`: the instructions, continuation lines joined, comment lines left out, each with its
  first and last line and the index of its stage;
- `froms`: each FROM's image as written and the stage name it gives;
- `images`: every image the Dockerfile names -- FROMs, `COPY --from=IMAGE`, `RUN --mount=...,from=IMAGE`
  -- with its line and with build arguments applied, leaving out stage names, stage indices and
  scratch: the places where BuildKit's named contexts (bake's `contexts`) can put another image.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: `$NAME` or `${NAME}` in an instruction's arguments.
VARIABLE = re.compile(r"\$\{?(\w+)\}?")
#: A FROM's arguments: [--platform=...] image [AS stage].
FROM_ARGS = re.compile(r"(?:--platform=\S+\s+)?(?P<ref>\S+)(?:\s+AS\s+(?P<stage>\S+))?", re.IGNORECASE)
#: An ARG's arguments: NAME[=default].
ARG_ARGS = re.compile(r"(?P<name>\w+)(?:=(?P<default>\S+))?")
#: The flags in front of a COPY's or RUN's arguments, `--name=value` (value up to the next blank).
FLAGS = re.compile(r"--(?P<name>[\w-]+)(?:=(?P<value>\S*))?\s*")


@dataclass(frozen=True)
class Instruction:
    """One Dockerfile instruction: keyword, arguments as one line (continuations joined), its lines."""

    keyword: str
    args: str
    line: int  # 1-based
    last_line: int
    stage: int  # index of its stage; -1 before the first FROM

    @property
    def lines(self) -> str:
        return str(self.line) if self.line == self.last_line else f"{self.line}-{self.last_line}"

    @property
    def text(self) -> str:
        return f"{self.keyword} {self.args}".strip()


@dataclass(frozen=True)
class ImageUse:
    """An image a Dockerfile names, and where."""

    written: str  # as the Dockerfile says it: "python:3.13-slim", "${PYTHON_IMAGE}"
    ref: str  # with build arguments (and ARG defaults) applied; a variable nobody sets stays as written
    line: int
    keyword: str  # FROM, COPY or RUN

    @property
    def arg_form(self) -> bool:
        """Written with a variable: the build arguments choose the image."""
        return "$" in self.written

    @property
    def where(self) -> str:
        """How a message quotes it: `FROM python:3.13-slim`, `COPY --from=golang:1.24`, and what a
        variable made of it: `FROM ${BASE} (node:24)`."""
        flag = {"FROM": "FROM ", "COPY": "COPY --from=", "RUN": "RUN --mount=...,from="}[self.keyword]
        return flag + self.written + (f" ({self.ref})" if self.ref != self.written else "")


#: A heredoc's opening, `<<EOF`, `<<-EOF` or quoted `<<'EOF'` (not bash's `<<<` here-string).
HEREDOC = re.compile(r"(?<!<)<<(?!<)-?([\"']?)(?P<word>[A-Za-z_]\w*)\1")


def without_heredocs(text: str) -> str:
    """The Dockerfile with each heredoc's body and closing word blanked, line numbers kept: the body is
    a file's text or a script, never instructions (a Python `from x import y` there is no FROM)."""
    lines = text.splitlines()
    at = 0
    while at < len(lines):
        words = [] if lines[at].lstrip().startswith("#") else [m["word"] for m in HEREDOC.finditer(lines[at])]
        at += 1
        for word in words:  # several heredocs on one line follow each other, in order
            while at < len(lines) and lines[at].strip() != word:
                lines[at] = ""
                at += 1
            if at < len(lines):
                lines[at] = ""
                at += 1
    return "\n".join(lines) + ("\n" if text.endswith("\n") else "")


def parse_dockerfile(text: str) -> list[Instruction]:
    """The instructions of a Dockerfile, with comment lines (also inside continuations) and heredoc
    bodies left out."""
    lines = without_heredocs(text).splitlines()
    found: list[Instruction] = []
    stage, at = -1, 0
    while at < len(lines):
        if not lines[at].strip() or lines[at].lstrip().startswith("#"):
            at += 1
            continue
        first, parts = at, []
        while at < len(lines):
            line = lines[at].rstrip()
            at += 1
            if not line.endswith("\\"):
                parts.append(line)
                break
            parts.append(line[:-1])
            while at < len(lines) and (not lines[at].strip() or lines[at].lstrip().startswith("#")):
                at += 1
        keyword, _, args = " ".join(" ".join(parts).split()).partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            stage += 1
        found.append(Instruction(keyword, args, first + 1, at, stage))
    return found


def froms(instructions: list[Instruction]) -> list[tuple[str, str]]:
    """(image as written, stage name or "") of each FROM, in order: parsed instructions, so a
    `from x import y` inside a RUN's continuation lines is no FROM."""
    found = [FROM_ARGS.match(i.args) for i in instructions if i.keyword == "FROM"]
    return [(m["ref"], m["stage"] or "") for m in found if m]


def arg_defaults(instructions: list[Instruction]) -> dict[str, str]:
    """Every ARG's default, by name (an ARG without one is left out: "" would name no image)."""
    found = [ARG_ARGS.match(i.args) for i in instructions if i.keyword == "ARG"]
    return {m["name"]: m["default"] for m in found if m and m["default"]}


def flags(args: str) -> dict[str, list[str]]:
    """The leading `--name=value` flags of an instruction's arguments, each name's values in order."""
    found: dict[str, list[str]] = {}
    at = 0
    while match := FLAGS.match(args, at):
        found.setdefault(match["name"].lower(), []).append(match["value"] or "")
        at = match.end()
    return found


def images(instructions: list[Instruction], build_args: dict[str, str] | None = None) -> list[ImageUse]:
    """Every image the Dockerfile names, in order of appearance, each time it names one: stage FROMs,
    `COPY --from=IMAGE` and `RUN --mount=...,from=IMAGE`. A stage name (BuildKit compares them without
    case), a stage index (`--from=0`) and `scratch` are no image."""
    values = arg_defaults(instructions) | (build_args or {})
    # A FROM finds the stages above it; COPY --from and mounts find a stage wherever it starts.
    every_stage = {stage.lower() for _, stage in froms(instructions) if stage}
    stages_above: set[str] = set()
    found: list[ImageUse] = []

    def add(written: str, instruction: Instruction, stages: set[str]) -> None:
        ref = VARIABLE.sub(lambda m: values.get(m[1], m[0]), written)
        if ref.lower() in stages or ref.isdigit() or ref.lower() == "scratch":
            return
        found.append(ImageUse(written, ref, instruction.line, instruction.keyword))

    for instruction in instructions:
        if instruction.keyword == "FROM":
            match = FROM_ARGS.match(instruction.args)
            if match:
                add(match["ref"], instruction, stages_above)
                if match["stage"]:
                    stages_above.add(match["stage"].lower())
        elif instruction.keyword == "COPY":
            for value in flags(instruction.args).get("from", []):
                add(value, instruction, every_stage)
        elif instruction.keyword == "RUN":
            for mount in flags(instruction.args).get("mount", []):
                options = dict(part.partition("=")[::2] for part in mount.split(","))
                if options.get("from"):
                    add(options["from"], instruction, every_stage)
    return found
