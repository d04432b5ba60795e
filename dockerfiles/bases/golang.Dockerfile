# Stand-in for golang:1.2X (the set's `go` in bases.toml): debian-slim plus the scm tools and C toolchain
# the official image has, then the official Go distribution (the Go module proxy's golang.org/toolchain,
# the same files as go.dev/dl's tarball) under /usr/local/go, where the official image unpacks it.
ARG PARENT
FROM ${PARENT}
ARG PACKAGES
# Versions are not pinned: `nox -s bases --rebuild` is how Debian's updates get in, and the image's
# labels record the versions that went in.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ${PACKAGES} \
 && rm -rf /var/lib/apt/lists/*
COPY go /usr/local/go
ARG GOLANG_VERSION
# GOTOOLCHAIN=local: never download another Go, as in the official image. Go reads the system CA bundle
# (with the extra CA certificates) by itself, so `go mod download` needs nothing more. GOPATH /go is
# writable by any user (1777), as in the official image, so a non-root build can fill its caches.
ENV GOLANG_VERSION=${GOLANG_VERSION} \
    GOTOOLCHAIN=local \
    GOPATH=/go \
    PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
RUN mkdir -p /go/src /go/bin \
 && chmod -R 1777 /go \
 && go version
WORKDIR /go
