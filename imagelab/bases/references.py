"""Image references as Docker reads them, and the names BuildKit looks a named context up by.

`[host[:port]/]path[:tag][@sha256:hex]`: Docker Hub's host and `library/` are left out of the familiar
form (`docker.io/library/python:3.13` is `python:3.13`), which is how base sets compare references and
how a build names the context that replaces an image.
"""

from __future__ import annotations

import re

#: An image reference as Docker reads one: [host[:port]/]path[:tag][@sha256:hex].
COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
REFERENCE = re.compile(
    rf"^(?P<name>(?:[A-Za-z0-9.-]+(?::\d+)?/)?{COMPONENT}(?:/{COMPONENT})*)"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?(?:@(?P<digest>sha256:[0-9a-f]{64}))?$"
)
#: Docker Hub's names for itself: `docker.io/library/python` is `python`.
DOCKER_HUB = ("docker.io/", "index.docker.io/", "registry-1.docker.io/")
#: What a named context's value is: an image, by reference (`docker-image://REF@DIGEST`).
IMAGE_CONTEXT = "docker-image://"


def split_reference(ref: str) -> tuple[str, str, str]:
    """(name, tag, digest) of a reference, Docker Hub's host and `library/` dropped from the name, as
    Docker's familiar form has it; a reference that does not parse is its own name."""
    match = REFERENCE.match(ref)
    if not match:
        return ref, "", ""
    name = match["name"]
    for host in DOCKER_HUB:
        if name.startswith(host):
            name = name.removeprefix(host)
            name = name.removeprefix("library/") if name.count("/") == 1 else name
    return name, match["tag"] or "", match["digest"] or ""


def matching(ref: str) -> str:
    """A reference as sets compare them: familiar name and tag (none is latest), digest dropped --
    `docker.io/library/python:3.13-slim@sha256:...` is `python:3.13-slim`."""
    name, tag, _ = split_reference(ref)
    return f"{name}:{tag or 'latest'}"


def context_name(ref: str) -> str:
    """The name BuildKit looks a named context up by for an image reference: its familiar form
    without `:latest` (so the context for `docker.io/library/python:3.13` is named `python:3.13`)."""
    name, tag, digest = split_reference(ref)
    familiar = f"{name}:{tag}" if tag else name
    return f"{familiar}@{digest}" if digest else familiar.removesuffix(":latest")
