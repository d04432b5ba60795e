# Stand-in for buildpack-deps:trixie, the image python:3.13 and node:22 are built on:
# compilers, common -dev headers and version control, so that `pip install` and `npm install` can build
# native code. The package list is in bases.toml (build-arg PACKAGES).
ARG PARENT
FROM ${PARENT}
ARG PACKAGES
# Versions are not pinned: `nox -s bases --rebuild` is how Debian's updates get in, and the image's
# labels record the versions that went in.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ${PACKAGES} \
 && rm -rf /var/lib/apt/lists/*
