# Stand-in for buildpack-deps:trixie, the image python:3.13, node:22 and golang:1.24 are built on:
# compilers, common -dev headers and version control, so that `pip install`, `npm install` and `go build`
# can build native code. The package list is in bases.toml (build-arg PACKAGES).
ARG PARENT
FROM ${PARENT}
ARG PACKAGES
RUN apt-get update \
 && apt-get install -y --no-install-recommends ${PACKAGES} \
 && rm -rf /var/lib/apt/lists/*
