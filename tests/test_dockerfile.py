"""The Dockerfile reader: every image a Dockerfile names, with its line; stage names are no image."""

from __future__ import annotations

from imagelab import dockerfile

# As a team writes one: plain FROMs, a stage built on a stage, an image copied from and mounted.
TEAM = """\
ARG GO_VERSION=1.24
FROM golang:${GO_VERSION} AS build
WORKDIR /src
COPY --from=docker.io/library/busybox:1.37 /bin/busybox /bin/busybox
RUN --mount=type=cache,target=/root/.cache \\
    --mount=type=bind,from=node:22-trixie,source=/usr/local/bin/node,target=/node \\
    go build -o /app .

FROM build AS test
# FROM python:3.13 in a comment is no image
RUN go test ./... && python3 -c "\\
from os import sep"

FROM --platform=linux/amd64 python:3.13-slim AS Runtime
COPY --from=build /app /app
COPY --from=0 /src /src
COPY --from=runtime /etc/passwd /tmp/
RUN --mount=type=bind,from=test,target=/t true

FROM scratch
COPY --from=gcr.io/distroless/static-debian13:nonroot /etc/passwd /etc/passwd
COPY --chown=65532 --from=runtime /app /app
"""


def uses(text: str, build_args: dict[str, str] | None = None) -> list[tuple[int, str, str, str]]:
    found = dockerfile.images(dockerfile.parse_dockerfile(text), build_args)
    return [(use.line, use.keyword, use.written, use.ref) for use in found]


def test_every_image_a_dockerfile_names_with_its_line():
    assert uses(TEAM) == [
        (2, "FROM", "golang:${GO_VERSION}", "golang:1.24"),
        (4, "COPY", "docker.io/library/busybox:1.37", "docker.io/library/busybox:1.37"),
        (5, "RUN", "node:22-trixie", "node:22-trixie"),
        (14, "FROM", "python:3.13-slim", "python:3.13-slim"),
        (
            21,
            "COPY",
            "gcr.io/distroless/static-debian13:nonroot",
            "gcr.io/distroless/static-debian13:nonroot",
        ),
    ]


def test_build_arguments_choose_the_image_of_the_arg_form():
    text = "ARG PYTHON_IMAGE=python:3.13\nARG CC_IMAGE\nFROM ${PYTHON_IMAGE} AS build\nFROM $CC_IMAGE\n"
    assert uses(text) == [
        (3, "FROM", "${PYTHON_IMAGE}", "python:3.13"),
        (4, "FROM", "$CC_IMAGE", "$CC_IMAGE"),  # nobody sets it: as written
    ]
    built = dockerfile.images(
        dockerfile.parse_dockerfile(text), {"PYTHON_IMAGE": "registry.example/py@sha256:1"}
    )
    assert built[0].ref == "registry.example/py@sha256:1" and all(use.arg_form for use in built)


def test_a_from_finds_only_the_stages_above_it():
    # `FROM node AS node` is the image node; the second FROM node is the stage.
    assert uses("FROM node AS node\nFROM node\n") == [(1, "FROM", "node", "node")]


def test_a_message_quotes_the_instruction_that_names_the_image():
    found = dockerfile.images(dockerfile.parse_dockerfile(TEAM))
    assert [use.where for use in found][1:3] == [
        "COPY --from=docker.io/library/busybox:1.37",
        "RUN --mount=...,from=node:22-trixie",
    ]
