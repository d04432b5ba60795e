"""The network of the second engine (engine/second_engine.py): a bridge and iptables rules of its own.

Three things a second dockerd does by default would break the first engine, so it does none of them:
- `--bridge=none` deletes the first engine's docker0 at start-up. It gets a bridge of its own instead,
  created here beforehand on a private subnet nothing else on the machine uses.
- With iptables enabled, dockerd starts by removing the DOCKER chains it finds -- the first engine's,
  holding every published port of every running container -- before making its own. So it runs with
  `--iptables=false`, and this module adds the rules its build steps need to reach the network
  (forward its bridge, masquerade its subnet), marked with a comment, and removes exactly those.
- With `--default-address-pool` (or default-address-pools in daemon.json), a dockerd that finds its
  default bridge network from a previous start deletes the interface named docker0 -- whatever bridge
  it was told to use (moby's configureNetworking; seen here on the second start of a kept data root).
  So it gets no address pool: the build steps it runs need none, and no networks are created on it.
docker0 is checked before the second engine starts, after it starts and after it stops.
"""

from __future__ import annotations

from pathlib import Path

from imagelab import process
from imagelab.errors import EngineError

BRIDGE = "imagelab-e2"  # at most 15 characters: a Linux interface name
#: Its bridge's address and subnet: 10.213.0.0/24 is used by nothing here (Docker's own pools are
#: 172.17-31.0.0/16 and 192.168.0.0/16).
BRIDGE_ADDRESS = "10.213.0.1/24"
#: A fixed, locally administered MAC for the bridge (02:42 like Docker's, then its IPv4 address). Without
#: one, Linux gives a bridge the lowest MAC of its ports, so it changes whenever a container starts or
#: stops; the others keep the old one for the gateway in their ARP cache and their connections stall
#: (seen here: 3 in 60 module downloads from five concurrent containers, none with this fixed).
BRIDGE_MAC = "02:42:0a:d5:00:01"
SUBNET = "10.213.0.0/24"
FIRST_BRIDGE = "docker0"
RULE_COMMENT = "imagelab second engine"
COMMAND_TIMEOUT_S = 30
REMOVE_TRIES = 5  # copies of one rule an earlier run may have left, removed one at a time


def create() -> None:
    """The bridge, up with its address, and the rules its containers need to reach the network."""
    run(["ip", "link", "add", BRIDGE, "address", BRIDGE_MAC, "type", "bridge"])
    run(["ip", "addr", "add", BRIDGE_ADDRESS, "dev", BRIDGE])
    run(["ip", "link", "set", BRIDGE, "up"])
    for table, rule in _rules():
        run(["iptables", "-t", table, "-I", *rule])


def remove() -> None:
    """Exactly the rules and the bridge `create` made, whatever of them an earlier run left. Idempotent."""
    for table, rule in _rules():
        for _ in range(REMOVE_TRIES):  # bounded: a rule that will not go must not hang the clean-up
            if run(["iptables", "-t", table, "-C", *rule], check=False) != 0:
                break
            run(["iptables", "-t", table, "-D", *rule], check=False)
    if link_exists(BRIDGE):
        run(["ip", "link", "delete", BRIDGE, "type", "bridge"], check=False)


def check_first_bridge(when: str) -> None:
    """The first engine's docker0 is there; `when` says since what it should have been ("" before)."""
    if link_exists(FIRST_BRIDGE):
        return
    if not when:
        raise EngineError(f"the first engine has no {FIRST_BRIDGE}", hint="start it with `nox -s engine`")
    raise EngineError(
        f"the first engine's {FIRST_BRIDGE} is gone since the second engine {when}",
        hint="the first engine cannot start containers until it is restarted",
    )


def _rules() -> list[tuple[str, list[str]]]:
    """What its build steps need to reach the network, since it does not touch iptables itself."""
    mark = ["-m", "comment", "--comment", RULE_COMMENT]
    established = ["-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED"]
    return [
        ("filter", ["FORWARD", "-i", BRIDGE, "-j", "ACCEPT", *mark]),
        ("filter", ["FORWARD", "-o", BRIDGE, *established, "-j", "ACCEPT", *mark]),
        ("nat", ["POSTROUTING", "-s", SUBNET, "!", "-o", BRIDGE, "-j", "MASQUERADE", *mark]),
    ]


def link_exists(name: str) -> bool:
    return Path("/sys/class/net", name).exists()


def run(command: list[str], check: bool = True) -> int:
    """One of the commands that set up or take down the second engine (ip, iptables, docker context)."""
    return process.run(command, timeout=COMMAND_TIMEOUT_S, what=" ".join(command[:3]), check=check).exit_code
