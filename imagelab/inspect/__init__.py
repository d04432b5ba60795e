"""An image's own files, read from `docker save`: measures, the runtime closure, what it exposes."""
