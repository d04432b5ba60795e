"""app.toml discovery, validation and the matrix selectors."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagelab import apps, bases
from imagelab.errors import ConfigError

DEBIAN = bases.open_set("debian")

SERVICE = """\
description = "a test service"
language = "node"
kind = "service"
source_file = "server.js"
comment = "//"
[service]
port = 3000
[[service.probes]]
method = "get"
path = "/"
status = 200
body = "Hello"
"""


def make_app(root: Path, text: str, name: str = "demo") -> Path:
    folder = root / "apps" / name
    folder.mkdir(parents=True)
    (folder / "server.js").write_text("// the app\n")
    (folder / "app.toml").write_text(text)
    return folder


def test_the_repository_apps_load():
    found = apps.discover()
    assert {"microblog", "node-express", "go-href"} <= set(found)
    assert found["go-href"].kind == "job" and found["go-href"].job is not None
    assert all(app.source_file.is_file() for app in found.values())


def test_a_service_loads_with_its_probes(tmp_path):
    app = apps.load_app(make_app(tmp_path, SERVICE))
    assert app.service is not None
    assert app.service.probes == (apps.Probe("GET", "/", 200, "Hello"),)
    assert app.service.start_timeout == 30.0


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace('kind = "service"\n', ""), "field 'kind' is missing"),
        (
            lambda t: t.replace('kind = "service"', 'kind = "daemon"'),
            "field 'kind' is 'daemon'; valid: service, job",
        ),
        (lambda t: t.replace("port = 3000", 'port = "3000"'), "field 'service.port' must be int, not str"),
        (lambda t: t.replace("port = 3000", "port = 70000"), "field 'service.port' is 70000"),
        (
            lambda t: t.replace("status = 200", "status = true"),
            "field 'service.probes[0].status' must be int",
        ),
        (lambda t: t.replace('"server.js"', '"missing.js"'), "field 'source_file' names missing.js"),
        (lambda t: t + "oops = [", "not valid TOML"),
    ],
)
def test_a_bad_field_is_named_with_its_file(tmp_path, edit, message):
    folder = make_app(tmp_path, edit(SERVICE))
    with pytest.raises(ConfigError) as caught:
        apps.load_app(folder)
    assert str(folder / "app.toml") in caught.value.cause
    assert message in caught.value.cause


def test_a_job_needs_its_fixture(tmp_path):
    text = SERVICE.split("[service]")[0].replace('"service"', '"job"') + (
        '[job]\nfixture = "page.html"\nurl_env = "url"\noutput = "{}"\n'
    )
    with pytest.raises(ConfigError) as caught:
        apps.load_app(make_app(tmp_path, text))
    assert "field 'job.fixture' names page.html, which does not exist" in caught.value.cause


def test_unknown_selectors_name_the_valid_ones():
    found = apps.discover()
    with pytest.raises(ConfigError) as caught:
        apps.select(found, ["nope"], [], DEBIAN)
    assert caught.value.cause == "unknown app 'nope'"
    assert "microblog" in caught.value.hint and "go-href" in caught.value.hint
    with pytest.raises(ConfigError) as caught:
        apps.select(found, [], ["tiny"], DEBIAN)
    assert caught.value.hint == "valid variants: naive, slim, multistage, distroless, minimal"


def test_select_skips_variants_without_a_dockerfile_and_names_targets(tmp_path):
    folder = make_app(tmp_path, SERVICE)
    app = apps.load_app(folder)
    found = {"demo": app}
    assert apps.select(found, [], [], DEBIAN) == []  # no Dockerfiles yet: nothing to build
    cell = apps.Variant(app, "minimal", DEBIAN)
    assert (cell.target, cell.tag, cell.hardened) == ("demo-minimal", "imagelab/demo:minimal-debian", True)
