"""Each app's own test suite, run in its build image by building the `test` stage of its multistage
Dockerfile: the tests run against the very dependencies and toolchain that ship."""

from __future__ import annotations

import pytest

from imagelab import apps, bases, build

pytestmark = pytest.mark.docker

APPS = apps.discover()


@pytest.fixture(scope="module")
def suites() -> dict:
    with_tests = [a for a in APPS.values() if "AS test" in a.dockerfile("multistage").read_text()]
    return build.test_apps(with_tests, bases.open_set("debian"))


@pytest.mark.parametrize("name", sorted(APPS))
def test_the_app_suite_passes_in_its_build_image(suites, name):
    assert name in suites, f"dockerfiles/{name}/multistage.Dockerfile has no `test` stage"
    result = suites[name]
    assert result.ok, result.describe_failure() + "\n" + "\n".join(result.log)
    assert result.ran_steps or result.cached_steps, "the test stage ran no step"
