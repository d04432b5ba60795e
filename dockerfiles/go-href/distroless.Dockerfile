# distroless: a static binary (CGO_ENABLED=0: Go's own DNS resolver, no glibc) on
# gcr.io/distroless/static-debian13:nonroot: CA certificates, tzdata, /etc/passwd with nonroot
# (UID 65532), /etc/services and /tmp; no libc, no shell, no package manager.
# Saves: the whole of Debian: from tens of MB to about 2 MB plus the binary.
# Costs: no shell to `docker exec` into; the binary must not need cgo (a C library such as a
#   SQLite driver, plugins); ENTRYPOINT must be exec form, there is nothing to run a shell form.
# Look at: size against multistage; against minimal, the static image itself (about 2 MB) and
#   the symbols and debug data that minimal strips and this binary keeps (about 3 MB).
ARG GOLANG_IMAGE=golang:1.24
ARG STATIC_IMAGE=gcr.io/distroless/static-debian13:nonroot

FROM ${GOLANG_IMAGE} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -o /out/go-href .

FROM ${STATIC_IMAGE}
COPY --from=build /out/go-href /usr/local/bin/go-href
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/go-href"]
