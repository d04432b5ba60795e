# distroless: a static binary (CGO_ENABLED=0: Go's own DNS resolver, no glibc) on
# gcr.io/distroless/static-debian13:nonroot: CA certificates, tzdata, /etc/passwd with nonroot
# (UID 65532), /etc/services and /tmp; no libc, no shell, no package manager.
# Saves: the whole of Debian: the runtime is distroless's static image plus the binary.
# Costs: no shell to `docker exec` into (the `debug` target below adds a static busybox in /busybox,
#   like distroless's own :debug tags; `kubectl debug --image=busybox --target=CONTAINER` attaches
#   one from outside); the binary must not need cgo (a C library such as a SQLite driver, plugins);
#   ENTRYPOINT must be exec form, there is nothing to run a shell form. No HEALTHCHECK: go-href is a
#   job that exits, not a service that could be unhealthy.
# Look at: size against multistage; against minimal, the static image itself and the symbols and
#   debug data that minimal strips and this binary keeps (the binary's layer in each, in
#   results/compare.md).
# Needs: Docker Engine 23.0 (BuildKit 0.10), for COPY --link (RUN --mount: 20.10).
ARG GOLANG_IMAGE=golang:1.27-trixie
ARG STATIC_IMAGE=gcr.io/distroless/static-debian13:nonroot
ARG DEBIAN_SLIM_IMAGE=debian:trixie-slim

FROM ${GOLANG_IMAGE} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -o /out/go-href .

FROM ${STATIC_IMAGE} AS runtime
# COPY --link makes its layer apart from the layers under it: after a base move, BuildKit can put the
# same layer on the new base instead of copying again (the containerd image store does; the classic
# store copies again: docs/lessons.md, "COPY --link and base moves").
COPY --link --from=build /out/go-href /usr/local/bin/go-href
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/go-href"]

# A static busybox, for the debug target only: BuildKit builds a stage only when the target asks.
FROM ${DEBIAN_SLIM_IMAGE} AS busybox
# Unpinned: the base's Debian release fixes busybox's version closely enough for a debugging aid.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends busybox-static \
 && mkdir /busybox \
 && cp /bin/busybox /busybox/busybox \
 && /busybox/busybox --install -s /busybox \
 && rm -rf /var/lib/apt/lists/*

# docker buildx build --target debug: the image above plus a shell at /busybox/sh (on PATH), e.g.
#   docker run -it --rm --entrypoint sh IMAGE
FROM runtime AS debug
COPY --from=busybox /busybox /busybox
ENV PATH=/busybox:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# The image itself: the last stage is what a build without --target makes.
FROM runtime
