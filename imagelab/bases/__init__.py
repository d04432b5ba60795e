"""Base images: the sets that map every role to an image, and building the local stand-ins.

- recipes.py    bases.toml: the roles and how each local stand-in is made
- sets.py       base sets: which image each role's build argument points at
- local.py      building the local stand-ins (keyed on their inputs, one builder at a time)
- rootfs.py     Debian root file systems with mmdebstrap: minbase and distroless-style
- node.py       the official Node.js binary and npm, from the npm registry
- aptsources.py the Debian mirror this machine's apt uses
- command.py    the `bases` command
"""

from imagelab.bases.local import build_local
from imagelab.bases.recipes import BaseSets, Role, load
from imagelab.bases.sets import BASE_SETS, LOCAL_SET, build_args, check_base_set, resolve

__all__ = [
    "BASE_SETS",
    "LOCAL_SET",
    "BaseSets",
    "Role",
    "build_args",
    "build_local",
    "check_base_set",
    "load",
    "resolve",
]
