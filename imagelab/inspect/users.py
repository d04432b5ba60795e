"""Who a container runs as, and which programs are shells: facts the base build, the structure checks,
the closure and the exposure scan share, written once.
"""

from __future__ import annotations

#: The UID of distroless' `nonroot` user (not 65535, as some course notes say): the hardened variants
#: run as it, and the local distroless stand-ins create it.
NONROOT_UID = 65532

#: Names of the shells an image may carry, as programs (busybox is one when called as sh).
SHELLS = ("sh", "bash", "dash", "ash", "zsh", "busybox")
#: Where images keep them: /bin, or /usr/bin where /bin is not (yet) a link to it.
SHELL_PATHS = tuple(f"{folder}/{name}" for folder in ("/bin", "/usr/bin") for name in SHELLS)


def user_name(user: str) -> str:
    """The user part of a container's USER (`user` or `user:group`, by name or number)."""
    return user.partition(":")[0]


def uid(user: str, passwd: str | None = None) -> int | None:
    """The UID a container's USER runs as ("" means root).

    A name other than root is looked up in `passwd` (the text of the image's /etc/passwd); None when
    it is not there or no passwd is given."""
    name = user_name(user)
    if name in ("", "root"):
        return 0
    if name.isdigit():
        return int(name)
    for line in (passwd or "").splitlines():
        fields = line.split(":")
        if len(fields) > 2 and fields[0] == name and fields[2].isdigit():
            return int(fields[2])
    return None
