"""Secrets stay out of images: a build secret (`RUN --mount=type=secret`) is in no layer, and
.dockerignore keeps .env and .npmrc out of the build context. Each proof reads every layer of the saved
image, and a control shows that the same reading finds a secret that a COPY did put in a layer."""

from __future__ import annotations

import dataclasses
import json
import shutil
import tarfile
import uuid
from pathlib import Path

import pytest
from engine_needs import skip_unless_buildable
from lessons_support import base_images, build_variant, scratch_tag

from imagelab import ROOT, engine
from imagelab.engine import bake
from imagelab.inspect import imagefs

pytestmark = pytest.mark.docker


def new_token() -> str:
    return f"imagelab-lesson-token-{uuid.uuid4().hex}"


def where_it_is(tag: str, needle: str) -> list[str]:
    """Every place of the saved image that holds `needle`: layer files (by name or bytes), the config."""
    found = []
    raw = needle.encode()
    with imagefs.saved(tag) as fs:
        for layer in fs.layers:
            with fs.open_layer(layer.index) as stream, tarfile.open(fileobj=stream, mode="r|*") as tar:
                for member in tar:
                    data = tar.extractfile(member).read() if member.isfile() else b""
                    if raw in data or needle in member.name or needle in (member.linkname or ""):
                        found.append(f"layer {layer.index}: {member.name}")
        if needle in json.dumps(dataclasses.asdict(fs.config)):
            found.append("config")
    history = engine.client().images.get(tag).history()
    if needle in json.dumps(history):
        found.append("history")
    return found


def test_the_search_finds_a_secret_that_a_copy_put_in_a_layer(tmp_path: Path) -> None:
    token = new_token()
    (tmp_path / "npmrc").write_text(f"//registry.example/:_authToken={token}\n")
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY npmrc /root/.npmrc\n")
    with scratch_tag("copied-secret") as tag:
        engine.build_image(tmp_path, tmp_path / "Dockerfile", tag)
        assert where_it_is(tag, token) == ["layer 0: root/.npmrc"]


def test_a_build_secret_is_in_no_layer_of_the_image(tmp_path: Path) -> None:
    token = new_token()
    npmrc = tmp_path / "npmrc"
    # A scoped registry that npm ci never asks here (no @imagelab-private package): the token is read
    # with the rest of the file, and nothing leaves the machine.
    npmrc.write_text(
        f"@imagelab-private:registry=https://npm.example.invalid/\n//npm.example.invalid/:_authToken={token}\n"
    )
    skip_unless_buildable(
        ROOT / "dockerfiles" / "node-express" / "distroless.Dockerfile", "node-express/distroless"
    )
    with scratch_tag("node-distroless-secret") as tag:
        target = {
            "context": str(ROOT / "apps" / "node-express"),
            "dockerfile": str(ROOT / "dockerfiles" / "node-express" / "distroless.Dockerfile"),
            "args": base_images(),
            "tags": [tag],
            "secret": [f"id=npmrc,src={npmrc}"],
            "no-cache": True,  # so that the RUN with the secret really runs
        }
        bake_file = tmp_path / "docker-bake.json"
        bake_file.write_text(json.dumps({"target": {"with-secret": target}}))

        result = bake.bake_all(bake_file, ["with-secret"])["with-secret"]

        assert result.ok, result.describe_failure() + "\n" + "\n".join(result.log)
        assert result.ran_steps >= 1
        assert where_it_is(tag, token) == []


def test_dockerignore_keeps_env_files_out_of_the_context(tmp_path: Path) -> None:
    token = new_token()
    context = tmp_path / "node-express"
    shutil.copytree(ROOT / "apps" / "node-express", context, ignore=shutil.ignore_patterns("node_modules"))
    (context / ".env").write_text(f"API_TOKEN={token}\n")
    (context / ".npmrc").write_text(f"//registry.example/:_authToken={token}\n")
    (context / "context-marker.txt").write_text("copied\n")  # the control: `COPY . .` takes the rest
    with scratch_tag("node-naive-dockerignore") as tag:
        build_variant("node-express", "naive", tag, context=context)
        files = engine.read_files(tag, "/app")
        assert files.get("app/context-marker.txt") == b"copied\n"
        assert "app/.env" not in files and "app/.npmrc" not in files
        assert where_it_is(tag, token) == []


def test_a_required_secret_that_is_missing_stops_the_build_at_its_step(tmp_path: Path) -> None:
    """`required=true` names the missing secret at its own step; an optional one lets the step run without
    it, and what fails is the command (npm's 401 or 404, here `test -s` with exit code 1)."""
    step = "RUN --mount=type=secret,id=token{} test -s /run/secrets/token"
    results = {}
    for name, flag in (("required", ",required=true"), ("optional", "")):
        (tmp_path / f"{name}.Dockerfile").write_text(
            f"ARG DEBIAN_SLIM_IMAGE\nFROM ${{DEBIAN_SLIM_IMAGE}}\n{step.format(flag)}\n"
        )
        target = {
            "context": str(tmp_path),
            "dockerfile": str(tmp_path / f"{name}.Dockerfile"),
            "args": base_images(),
            "no-cache": True,
        }
        bake_file = tmp_path / f"{name}.json"
        bake_file.write_text(json.dumps({"target": {name: target}}))
        results[name] = bake.bake_all(bake_file, [name])[name]

    assert not results["required"].ok and not results["optional"].ok
    # BuildKit 0.8 says "secret token not found: not found", newer ones "secret token: not found"
    assert "secret token" in results["required"].error and "not found" in results["required"].error
    assert "secret token" not in results["optional"].error and "exit code: 1" in results["optional"].error
