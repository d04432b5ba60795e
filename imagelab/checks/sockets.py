"""Why a service never answered: what its network namespace listens on instead."""

from __future__ import annotations

import contextlib
import ipaddress
from pathlib import Path

from imagelab import engine
from imagelab.engine import Container


def parse_listening(proc_net_tcp: str) -> list[tuple[str, int]]:
    """(address, port) of the LISTEN sockets in a /proc/<pid>/net/tcp or tcp6 table."""
    found = []
    for line in proc_net_tcp.splitlines()[1:]:
        fields = line.split()
        if len(fields) > 3 and fields[3] == "0A":  # 0A: TCP_LISTEN
            address, port = fields[1].rsplit(":", 1)
            raw = bytes.fromhex(address)
            # The kernel prints each 32-bit word in host byte order (little-endian on x86 and arm64).
            words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
            found.append((str(ipaddress.ip_address(words)), int(port, 16)))
    return found


def listening(box: Container, pid: int) -> list[tuple[str, int]] | None:
    """What a container's process listens on, or None when its sockets cannot be read from here.

    From /proc/<pid>/net/tcp{,6} where the engine's processes are this host's -- checked: the pid must
    be in the container's cgroup, as in another pid namespace (the harness in a container, a VM) the
    same number is another process. Else from the container itself, where the image has `cat`."""
    tables = []
    with contextlib.suppress(OSError):
        if pid and box.id in Path(f"/proc/{pid}/cgroup").read_text():
            tables = [Path(f"/proc/{pid}/net/{name}").read_text() for name in ("tcp", "tcp6")]
    if not tables:
        tables = [engine.exec_output(box, ["cat", f"/proc/net/{name}"]) for name in ("tcp", "tcp6")]
    found = {socket for table in tables if table for socket in parse_listening(table)}
    return sorted(found) if any(tables) else None


def _loopback(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    mapped = getattr(ip, "ipv4_mapped", None)  # ::ffff:127.0.0.1 is IPv4's loopback
    return (mapped or ip).is_loopback


def never_answered_hint(port: int, sockets: list[tuple[str, int]] | None) -> str:
    """Why nothing answered on `port`, from what the app listens on instead."""
    if sockets is None:
        return f"is the app listening on 0.0.0.0:{port}? (its sockets cannot be read from here)"
    on_port = [address for address, p in sockets if p == port]
    if on_port and all(_loopback(a) for a in on_port):
        return f"it listens on {_show(on_port[0], port)} only, inside the container: bind 0.0.0.0:{port}"
    if on_port:
        return (
            f"it listens on {_show(on_port[0], port)}, so the answer itself is wrong or late: see 'last'; "
            "raise [service] start_timeout in app.toml if it starts slowly"
        )
    if sockets:
        listed = ", ".join(_show(a, p) for a, p in sockets)
        return f"it listens on {listed}, not on {port}: fix the app's port or [service] port in app.toml"
    return f"it listens on no TCP port at all: is the app listening on 0.0.0.0:{port}?"


def _show(address: str, port: int) -> str:
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
