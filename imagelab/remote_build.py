"""`compare --build-on CONTEXT`: build on another engine, check and measure here, hand over by registry.

The order: the base images the Dockerfiles start from reach the build engine through the registry
(engine/transfer.py, by digest), the bake runs there, and every image that built comes back the same way
and is tagged here under its usual name -- so the smoke tests and the measuring run unchanged, on images
this engine never built.
"""

from __future__ import annotations

from imagelab import build
from imagelab.apps import Variant
from imagelab.bases import BaseSet
from imagelab.engine import registry, transfer
from imagelab.inspect import origin
from imagelab.terminal import terminal


def build_on(context: str, variants: list[Variant], base_set: BaseSet) -> list[build.Built]:
    """Build `variants` on the engine of `context` and bring each image that built back here."""
    transfer.builder_client(context)  # an unknown context or a silent engine fails here, in one line
    registry.ensure_registry(log=terminal.step)
    base_set = build.ensure_bases(base_set)  # every role resolved to a digest in the registry
    args = base_set.build_args()
    paths = [v.app.dockerfile(v.name) for v in variants]
    refs = [b.ref for path in paths for b in origin.base_images(path, args, base_set.replaced(path))]
    sent = transfer.send_bases(context, refs)
    if sent:
        terminal.step(f"sent {len(sent)} base images to context '{context}' through the registry")
    built = build.build(variants, base_set, context=context)
    for item in built:
        if item.result.ok:
            handed = transfer.bring_back(context, item.variant.tag)
            how = "already here" if handed.was_here_before else "new here"
            terminal.info(f"  pulled {handed.pulled} as {handed.local_tag} ({how})")
    return built
