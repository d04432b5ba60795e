"""The one door to Docker: nothing outside this package imports the SDK or runs `docker`.

- client.py     images, containers, logs and `docker save`, through the Docker SDK for Python
- bake.py       `docker buildx bake`, read step by step
- bootstrap.py  making sure an engine answers; installing and starting one on Debian
- process.py    the one runner of every other program the harness starts

The client's functions are this package's own, so callers write `engine.image_id(tag)`.
"""

from imagelab.engine.client import (
    RUN_LABEL,
    TOOL_REPOSITORY,
    Container,
    answers,
    build_image,
    client,
    container_logs,
    container_state,
    content_key,
    exec_output,
    explain,
    image_config,
    image_id,
    image_id_and_digest,
    image_labels,
    image_size,
    labelled_containers,
    layer_ids,
    memory_usage,
    prune_build_cache,
    published_port,
    read_files,
    remove_container,
    remove_image,
    remove_image_if_unused,
    remove_labelled,
    save_image,
    signals_held,
    start_container,
    stop_container,
    tool_tag,
    versions,
)

__all__ = [
    "RUN_LABEL",
    "TOOL_REPOSITORY",
    "Container",
    "answers",
    "build_image",
    "client",
    "container_logs",
    "container_state",
    "content_key",
    "exec_output",
    "explain",
    "image_config",
    "image_id",
    "image_id_and_digest",
    "image_labels",
    "image_size",
    "labelled_containers",
    "layer_ids",
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
