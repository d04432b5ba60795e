# Stand-in for golang:1.24, with Debian's golang-1.24 on debian-slim plus the scm tools and C toolchain
# the official image has (bases.toml lists them).
ARG PARENT
FROM ${PARENT}
ARG PACKAGES
# Debian installs Go under /usr/lib/go-1.24; the link puts it where the official image has it.
# Versions are not pinned: `nox -s bases --rebuild` is how Debian's updates get in, and the image's
# labels record the versions that went in.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ${PACKAGES} \
 && rm -rf /var/lib/apt/lists/* \
 && ln -s /usr/lib/go-1.24 /usr/local/go \
 && mkdir -p /go/src /go/bin \
 && chmod -R 1777 /go
# GOTOOLCHAIN=local: never download another Go, as in the official image. Go reads the system CA bundle
# (with the extra CA certificates) by itself, so `go mod download` needs nothing more.
ENV GOTOOLCHAIN=local \
    GOPATH=/go \
    PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
WORKDIR /go
