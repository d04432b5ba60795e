"""microblog's distroless and minimal images ship the bytecode of what the app loads, so a read-only
container does not compile its modules at every start: hash-based .pyc (PEP 552), unchecked for the
standard library and the dependencies, checked for the app."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from lessons_support import build_variant, run_to_end, scratch_tag

pytestmark = pytest.mark.docker

VARIANTS = ("distroless", "minimal")
# PEP 552: the .pyc header's flags. 1: hash-based, not checked against the source; 3: hash-based, checked.
UNCHECKED, CHECKED = 1, 3
# Starts the app as the entrypoint does, short of serving, then names each loaded module without a .pyc.
LOADED = (
    "import importlib.util, os, sys\n"
    "os.environ.update(SECRET_KEY='test-only', DATABASE_URL='sqlite://')\n"
    "from microblog import serve\n"
    "app = serve.create_app()\n"
    "serve.migrate_database(app)\n"
    "app.test_client().get('/auth/login')\n"
    "files = [m.__file__ for m in list(sys.modules.values()) if (getattr(m, '__file__', None) or '').endswith('.py')]\n"
    "print(len(files), *[f for f in files if not os.path.exists(importlib.util.cache_from_source(f))])\n"
)
FLAGS = (
    "import importlib.util, os, flask, microblog.serve\n"
    "def flags(module):\n"
    "    with open(importlib.util.cache_from_source(module.__file__), 'rb') as pyc:\n"
    "        return int.from_bytes(pyc.read(8)[4:], 'little')\n"
    "print(flags(os), flags(flask), flags(microblog.serve))\n"
)


@pytest.fixture(scope="module")
def images() -> Iterator[dict[str, str]]:
    with scratch_tag("microblog-distroless") as distroless, scratch_tag("microblog-minimal") as minimal:
        tags = {"distroless": distroless, "minimal": minimal}
        for variant, tag in tags.items():
            build_variant("microblog", variant, tag)
        yield tags


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_module_the_app_loads_has_its_bytecode(variant: str, images: dict[str, str]) -> None:
    # Read-only, as the harness runs it: nothing can be compiled and kept at run time.
    code, output = run_to_end(
        images[variant], entrypoint=["/usr/bin/python3", "-c", LOADED], read_only=True, tmpfs={"/tmp": ""}
    )
    assert code == 0, output[-2000:]
    loaded, *without = output.split()
    assert int(loaded) > 400
    # A module whose import fails at build time is not in sys.modules, so it has no .pyc: mako tries
    # pygments, which is not installed. Anything more means the build's list of modules fell behind.
    assert len(without) <= 1, without


@pytest.mark.parametrize("variant", VARIANTS)
def test_library_bytecode_is_unchecked_and_the_apps_is_checked(variant: str, images: dict[str, str]) -> None:
    code, output = run_to_end(images[variant], entrypoint=["/usr/bin/python3", "-c", FLAGS])
    assert (code, output.split()) == (0, [str(UNCHECKED), str(UNCHECKED), str(CHECKED)]), output
