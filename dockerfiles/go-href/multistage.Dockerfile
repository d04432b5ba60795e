# multistage: build (and test) on the golang image, then start again from debian:trixie-slim and
# copy in the binary and the CA bundle. The Docker documentation's multi-stage page once showed this
# very program (href-counter): `go get` in GOPATH mode on a golang image of its time, then
# `CGO_ENABLED=0 go build -a -installsuffix cgo`, and an alpine runtime with `apk add
# ca-certificates`. Today's Go uses modules (go.mod, go.sum, `go mod download`), -installsuffix does
# nothing any more, and today's docs build a small Go program into `FROM scratch`. This file keeps
# the two-stage shape but leaves cgo on; the CGO_ENABLED=0 binary of that example is the one
# distroless.Dockerfile and minimal.Dockerfile build.
# Saves: the toolchain, the module cache and the build cache, for two COPY lines (how much:
#   naive against multistage in results/compare.md).
#   The `test` stage runs the app's own tests (go test) on the build stage; the harness builds it
#   as the target `go-href-test`.
# Costs: the runtime still has a shell, apt and dpkg, which a Go binary never uses. With cgo on
#   (golang's default where gcc is present) the binary links glibc dynamically: it needs a runtime whose glibc is at least
#   as new as the builder's (glibc's symbols are versioned: an older one refuses to start it and
#   names the GLIBC_2.xx version it lacks), and it does not start at all on a musl image such as
#   Alpine (docs/lessons.md, "Go, cgo and musl"). Both default images are Debian 13, so this holds.
# Look at: size against naive; the distroless and minimal variants show what the Debian rest costs.
# Needs: Docker Engine 23.0 (BuildKit 0.10), for COPY --link (RUN --mount: 20.10).
ARG GOLANG_IMAGE=golang:1.27-trixie
ARG DEBIAN_SLIM_IMAGE=debian:trixie-slim

FROM ${GOLANG_IMAGE} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# The build cache mount keeps compiled packages between builds: a one-line change recompiles one.
RUN --mount=type=cache,target=/root/.cache/go-build \
    go build -o /out/go-href .

# Built only on request (`docker buildx build --target test`, which `nox -s tests` does): BuildKit
# builds the stages the target needs, and the runtime stage does not need this one. (The legacy builder,
# DOCKER_BUILDKIT=0, ran every stage above the target, tests included, at every build.)
FROM build AS test
RUN --mount=type=cache,target=/root/.cache/go-build \
    go test -count=1 ./...

FROM ${DEBIAN_SLIM_IMAGE} AS runtime
# COPY --link makes its layer apart from the layers under it: after a base move, BuildKit can put the
# same layer on the new base instead of copying again (the containerd image store does; the classic
# store copies again: docs/lessons.md, "COPY --link and base moves").
# debian:trixie-slim has no CA bundle: without one, https:// pages fail certificate checks.
COPY --link --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --link --from=build /out/go-href /usr/local/bin/go-href
# Debian has no user 65532; a numeric UID needs no /etc/passwd entry.
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/go-href"]
