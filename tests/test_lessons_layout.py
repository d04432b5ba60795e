"""microblog's minimal and distroless images build and answer on a python image laid out like the official
one (interpreter, standard library and headers under /usr/local), not only on Debian's layout (/usr).

No registry answers here, so the test makes that layout itself with
benchmarks/course/usr-local-python.Dockerfile: FROM the local python stand-in, its Python moved to
/usr/local and nothing of it left under /usr, so that no path resolves there by accident. Labelled as a
local stand-in (not the official image), built under a scratch tag and removed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from lessons_support import (
    base_images,
    build_variant,
    container,
    http_get,
    http_post_json,
    published,
    scratch_tag,
    wait_until,
)

from imagelab import ROOT, engine
from imagelab.errors import BuildError
from imagelab.inspect import imagefs

pytestmark = pytest.mark.docker

# Debian's Python moved from /usr to /usr/local, as the official image keeps it: shared with
# benchmarks/course_recipe.py, which builds the course's recipe on it.
USR_LOCAL_PYTHON = ROOT / "benchmarks" / "course" / "usr-local-python.Dockerfile"


@pytest.fixture(scope="module")
def usr_local_python() -> Iterator[str]:
    python = base_images()["PYTHON_IMAGE"]
    with scratch_tag("python-usr-local") as tag:
        engine.build_image(
            USR_LOCAL_PYTHON.parent, USR_LOCAL_PYTHON, tag, build_args={"PYTHON_IMAGE": python}
        )  # fmt: skip
        yield tag


def python_paths(tag: str) -> list[str]:
    """Where the image's interpreter and its entrypoint link are, read from the saved image."""
    with imagefs.saved(tag) as fs:
        return sorted(p for p in fs.entries if "/bin/python" in p)


def answers_like_the_app(tag: str) -> None:
    """Up, the health check answers, and a new user is stored: Argon2 hashes the password with threads,
    which needs libgcc_s.so.1 (the one library ldd cannot see)."""
    options = {
        "environment": {"SECRET_KEY": "lessons-test-only"},
        "ports": {"5000/tcp": ("127.0.0.1", None)},
        "read_only": True,
        "tmpfs": {"/tmp": ""},
    }
    with container(tag, **options) as box:
        port = published(box, 5000)
        status, body = wait_until("/healthz answers", 60, lambda: http_get(port, "/healthz"))
        assert (status, json.loads(body)) == (200, {"status": "ok"})
        user = {"username": "layout", "email": "layout@example.com", "password": "layout-password"}
        code, body = http_post_json(port, "/api/users", json.dumps(user).encode())
        assert code == 201, (code, body, engine.container_logs(box)[-2000:])


def test_the_stand_in_has_python_under_usr_local_only(usr_local_python: str) -> None:
    labels = engine.image_labels(usr_local_python) or {}
    assert "not the official image" in labels["org.imagelab.test-stand-in"]
    paths = python_paths(usr_local_python)
    assert paths and all(p.startswith("/usr/local/bin/") for p in paths), paths


def test_minimal_builds_and_answers_on_a_usr_local_python(usr_local_python: str) -> None:
    with scratch_tag("microblog-minimal-usr-local") as tag:
        build_variant("microblog", "minimal", tag, args={"PYTHON_IMAGE": usr_local_python})
        paths = python_paths(tag)
        assert "/usr/bin/python3" in paths  # the entrypoint, a link
        assert any(p.startswith("/usr/local/bin/python3.") for p in paths), paths
        assert engine.image_config(tag)["Entrypoint"][0] == "/usr/bin/python3"
        answers_like_the_app(tag)


def test_distroless_builds_and_answers_with_a_usr_local_python_builder(usr_local_python: str) -> None:
    with scratch_tag("microblog-distroless-usr-local") as tag:
        build_variant("microblog", "distroless", tag, args={"PYTHON_IMAGE": usr_local_python})
        answers_like_the_app(tag)


def test_the_dockerfile_fails_the_build_when_a_library_is_missing(tmp_path: Path) -> None:
    # The same closure step, run where ldd reports a library "not found": the build must stop.
    minimal = (ROOT / "dockerfiles" / "microblog" / "minimal.Dockerfile").read_text()
    step = next(line for line in minimal.splitlines() if "grep 'not found'" in line)
    check = step.strip().removeprefix("&&").rstrip("\\").strip()
    dockerfile = (
        'ARG PYTHON_IMAGE\nFROM ${PYTHON_IMAGE}\nSHELL ["/bin/bash", "-o", "pipefail", "-c"]\n'
        "RUN printf '\\tlibmissing.so.1 => not found\\n' > /tmp/ldd.txt && " + check + "\n"
    )
    (tmp_path / "Dockerfile").write_text(dockerfile)
    python = base_images()["PYTHON_IMAGE"]
    with scratch_tag("missing-library") as tag, pytest.raises(BuildError) as failed:
        engine.build_image(tmp_path, tmp_path / "Dockerfile", tag, build_args={"PYTHON_IMAGE": python})
    assert "a shared library above is missing" in "\n".join(failed.value.log)
