"""What a vulnerability scanner would say about an image, from data the package registries serve.

- debversion: Debian's version order (dpkg's).
"""
