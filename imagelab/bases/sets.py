"""Base sets: which image each role's build argument points at.

`official` is the public images, `debian` the local stand-ins (dockerfiles/bases/), `auto` the official
ones where a registry answers.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable

from imagelab.bases.recipes import BaseSets, load
from imagelab.errors import ConfigError

BASE_SETS = ("official", "debian", "auto")
LOCAL_SET = "debian"
#: Where `auto` asks whether a registry answers: the Docker Hub registry API, which answers 401 with
#: this header to anyone who reaches it.
REGISTRY_URL = "https://registry-1.docker.io/v2/"
REGISTRY_HEADER = "Docker-Distribution-Api-Version"
REGISTRY_TIMEOUT_S = 3


def check_base_set(base_set: str) -> str:
    if base_set not in BASE_SETS:
        raise ConfigError(f"unknown base set {base_set!r}", hint=f"valid base sets: {', '.join(BASE_SETS)}")
    return base_set


def build_args(base_set: str, sets: BaseSets | None = None) -> dict[str, str]:
    """The build arguments that point every role's ARG at `base_set`'s image ("official" or "debian";
    resolve "auto" first, so that a report can name the set it measured)."""
    check_base_set(base_set)
    if base_set == "auto":
        raise ConfigError("build_args needs a resolved base set", hint="call bases.resolve('auto') first")
    sets = sets or load()
    return {role.arg: role.image(base_set) for role in sets.roles.values()}


def resolve(base_set: str, registry_answers: Callable[[], bool] | None = None) -> str:
    """ "official" or "debian" for a base set name: `auto` is official where a registry answers."""
    check_base_set(base_set)
    if base_set != "auto":
        return base_set
    return "official" if (registry_answers or docker_hub_answers)() else LOCAL_SET


def docker_hub_answers(url: str = REGISTRY_URL, timeout_s: float = REGISTRY_TIMEOUT_S) -> bool:
    """True when the Docker Hub registry API answers within `timeout_s` (a bounded HEAD request)."""
    request = urllib.request.Request(url, method="HEAD")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            headers = response.headers
    except urllib.error.HTTPError as exc:  # 401 is the normal answer of a registry
        headers = exc.headers
    except (urllib.error.URLError, OSError, ValueError):
        return False
    return REGISTRY_HEADER in headers
