"""A second Docker engine beside the first: it builds and runs on a bridge of its own, and when it stops it
leaves the first engine as it found it -- docker0 there, published ports answering.

The dangers are real on these machines: a second dockerd with `--bridge=none` deletes docker0, and one
with iptables enabled removes the first engine's DOCKER chains. The test checks both after the stop.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from imagelab import engine
from imagelab.engine import second_bridge, second_engine

pytestmark = [
    pytest.mark.docker,
    pytest.mark.skipif(os.geteuid() != 0, reason="a second dockerd needs root"),
]

HTTPD = """\
FROM scratch
COPY busybox /bin/busybox
COPY index.html /www/index.html
ENTRYPOINT ["/bin/busybox"]
CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]
"""


def docker_cli(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, check=False)


def iptables_rules() -> str:
    return subprocess.run(["iptables-save"], capture_output=True, text=True, timeout=30, check=True).stdout


def first_engine_serves(tag: str) -> str:
    """Start a container of `tag` on the first engine with a published port and fetch its page."""
    name = f"imagelab-scratch-second-{uuid.uuid4().hex[:8]}"
    container = engine.start_container(
        tag, name, "test-second-engine", ports={"8080/tcp": ("127.0.0.1", None)}
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            port = engine.published_port(container, 8080)
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                    return response.read().decode()
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
    finally:
        engine.remove_container(container.id)


def bridge_mac() -> str:
    return Path("/sys/class/net", second_bridge.BRIDGE, "address").read_text().strip()


@pytest.fixture
def httpd_context(busybox_rootfs: Path, tmp_path: Path) -> Path:
    shutil.copy2(busybox_rootfs / "bin" / "busybox", tmp_path / "busybox")
    (tmp_path / "index.html").write_text("served by the first engine\n")
    (tmp_path / "Dockerfile").write_text(HTTPD)
    return tmp_path


def test_a_second_engine_builds_and_runs_apart_and_leaves_the_first_as_it_was(httpd_context, scratch_tag):
    engine.build_image(httpd_context, httpd_context / "Dockerfile", scratch_tag, timeout_s=300)
    assert first_engine_serves(scratch_tag) == "served by the first engine\n"
    first_root = engine.client().info()["DockerRootDir"]

    with second_engine.second_engine() as other:
        client = other.client()
        # The context reaches another engine (the engine ID comes from /etc/docker/key.json: shared).
        assert client.info()["DockerRootDir"] == str(other.data_root) != first_root
        # It builds with its own BuildKit, into its own image store.
        tag = f"imagelab-scratch/second-engine:{uuid.uuid4().hex[:8]}"
        done = docker_cli(
            "--context", other.context, "buildx", "build", "--load", "-t", tag, str(httpd_context)
        )
        assert done.returncode == 0, done.stderr[-2000:]
        assert client.images.get(tag).id
        assert not engine.image_id(tag), "an image built on the second engine is not in the first"
        # Its containers live on its own bridge and subnet, and the bridge keeps its MAC while they
        # come and go (else its containers' ARP caches go stale and their downloads stall).
        container = client.containers.run(tag, detach=True, remove=False)
        try:
            container.reload()
            address = container.attrs["NetworkSettings"]["IPAddress"]
            assert ipaddress.ip_address(address) in ipaddress.ip_network(second_bridge.SUBNET)
            assert bridge_mac() == second_bridge.BRIDGE_MAC
        finally:
            container.remove(force=True)
            client.images.remove(tag)
        assert bridge_mac() == second_bridge.BRIDGE_MAC
        assert second_bridge.RULE_COMMENT in iptables_rules()

    assert Path("/sys/class/net/docker0").exists(), "the first engine's bridge must survive"
    assert not Path("/sys/class/net", second_bridge.BRIDGE).exists()
    assert second_bridge.RULE_COMMENT not in iptables_rules()
    assert docker_cli("context", "inspect", second_engine.CONTEXT).returncode != 0, "its context is removed"
    assert not Path(f"/proc/{other.pid}").exists(), "its dockerd is stopped"
    # The first engine still publishes ports: its DOCKER chains are intact.
    assert first_engine_serves(scratch_tag) == "served by the first engine\n"


def test_the_second_engine_stops_when_the_block_fails():
    with pytest.raises(RuntimeError, match="on purpose"), second_engine.second_engine() as other:
        pid = other.pid
        raise RuntimeError("on purpose")
    assert not Path(f"/proc/{pid}").exists()
    assert not Path("/sys/class/net", second_bridge.BRIDGE).exists()
    assert Path("/sys/class/net/docker0").exists()
