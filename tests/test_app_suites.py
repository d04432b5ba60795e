"""Each app's own test suite, run in its build image by building the `test` stage of its multistage
Dockerfile: the tests run against the very dependencies and toolchain that ship."""

from __future__ import annotations

import pytest
from engine_needs import skip_unless_buildable, unmet

from imagelab import apps, bases, build

pytestmark = pytest.mark.docker

APPS = apps.discover()


@pytest.fixture(scope="module")
def suites() -> dict:
    with_tests = [a for a in APPS.values() if "AS test" in a.dockerfile("multistage").read_text()]
    buildable = [a for a in with_tests if not unmet(a.dockerfile("multistage"))]
    return build.test_apps(buildable, bases.open_set("debian")) if buildable else {}


@pytest.mark.parametrize("name", sorted(APPS))
def test_the_app_suite_passes_in_its_build_image(suites, name):
    skip_unless_buildable(APPS[name].dockerfile("multistage"), f"{name}'s multistage Dockerfile")
    assert name in suites, f"dockerfiles/{name}/multistage.Dockerfile has no `test` stage"
    result = suites[name]
    assert result.ok, result.describe_failure() + "\n" + "\n".join(result.log)
    assert result.ran_steps or result.cached_steps, "the test stage ran no step"
