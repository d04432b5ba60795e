"""The one door to Docker: nothing outside this package imports the SDK or talks to an engine.

- client.py     the SDK client, images, builds and `docker save`, through the Docker SDK for Python
- containers.py containers: started with the run label, read, stopped, always removed
- bake.py       `docker buildx bake`, read step by step
- bootstrap.py  making sure an engine answers; starting one of the kinds on Debian, or saying what to install
- kinds.py      the engines the project can start (forky, source, trixie, debian) and their programs made ready
- registry.py   the registry the local base sets live in: started, pushed to, resolved by digest
- manifests.py  what a pull transfers, from a pushed image's manifest in the registry
- transfer.py   images handed from one engine to another through the registry, by digest
- second_engine.py  a second engine beside the first: the engines matrix, tests, benchmarks, `--build-on`
- second_bridge.py  its bridge and iptables rules of its own, which leave the first engine's alone

Programs (docker, skopeo) run through imagelab/process.py, the runner every package shares.
The functions of client.py and containers.py are this package's own, so callers write `engine.image_id(tag)`.
"""

from imagelab.engine.client import (
    ListedSizes,
    answers,
    as_engine_error,
    build_image,
    client,
    content_key,
    describe,
    image_config,
    image_id,
    image_id_and_digest,
    image_labels,
    image_size,
    image_store,
    layer_ids,
    listed_sizes,
    prune_build_cache,
    remove_image,
    remove_image_if_unused,
    save_image,
    versions,
)
from imagelab.engine.containers import (
    RUN_LABEL,
    TOOL_REPOSITORY,
    Container,
    container_logs,
    container_state,
    exec_output,
    labelled_containers,
    memory_usage,
    published_port,
    read_files,
    remove_container,
    remove_labelled,
    signals_held,
    start_container,
    stop_container,
    tool_tag,
)

__all__ = [
    "RUN_LABEL",
    "TOOL_REPOSITORY",
    "Container",
    "ListedSizes",
    "answers",
    "as_engine_error",
    "build_image",
    "client",
    "container_logs",
    "container_state",
    "content_key",
    "describe",
    "exec_output",
    "image_config",
    "image_id",
    "image_id_and_digest",
    "image_labels",
    "image_size",
    "image_store",
    "labelled_containers",
    "layer_ids",
    "listed_sizes",
    "memory_usage",
    "prune_build_cache",
    "published_port",
    "read_files",
    "remove_container",
    "remove_image",
    "remove_image_if_unused",
    "remove_labelled",
    "save_image",
    "signals_held",
    "start_container",
    "stop_container",
    "tool_tag",
    "versions",
]
