"""Base images: the sets that map every role to an image, and building the local stand-ins.

- sets.py       base sets: the files that map roles to image references (sets/*.toml)
- references.py image references as Docker reads them; the names of the named contexts that replace them
- resolution.py every role of a set resolved to a digest; local stand-ins built and pushed first
- check.py      `bases --check`: which roles moved since a baseline, and the cells that use them
- recipes.py    bases.toml: the roles and how each local stand-in is made, per Debian release
- local.py      building the local stand-ins (keyed on their inputs, one builder at a time)
- provenance.py a stand-in's key (everything it is made from) and its labels (what it stands in for)
- schedule.py   several stand-ins at once, each once the one it builds on is done
- rootfs.py     Debian root file systems with mmdebstrap (minbase)
- distroless.py distroless-style root file systems, unpacked from .deb files
- certificates.py the CA bundle: Debian's certificates, then the extra ones
- node.py       the official Node.js binary and npm, from the npm registry
"""

from imagelab.bases.local import StandIn, build_local
from imagelab.bases.recipes import LocalSet, Recipes, Role, arg_of, load, load_recipes
from imagelab.bases.resolution import Resolved, resolve
from imagelab.bases.sets import LOCAL_SET, BaseSet, RoleImage, final_role, known_sets, open_set, roles_of

__all__ = [
    "LOCAL_SET",
    "BaseSet",
    "LocalSet",
    "Recipes",
    "Resolved",
    "Role",
    "RoleImage",
    "StandIn",
    "arg_of",
    "build_local",
    "final_role",
    "known_sets",
    "load",
    "load_recipes",
    "open_set",
    "resolve",
    "roles_of",
]
