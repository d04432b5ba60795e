# slim: the single-stage habits on Go: dependency files before the source, no caches kept in the
# image, a non-root user. There is no official slim golang image (golang:1.27-alpine is the nearest:
# docs/lessons.md, "Go, cgo and musl", says what musl changes for a Go binary), and a single stage
# must run where the compiler is, so slim here can only be golang:1.27 without the caches.
# Saves: the module cache and the build cache (they live in BuildKit cache mounts, outside every
#   layer), and a source-only change no longer re-downloads the modules.
# Costs: still the whole toolchain to run one binary. It is the honest answer to "can I slim a
#   compiled app without a second stage?": not by much.
# Look at: size against naive (a small gap) and against multistage (the large one).
# Needs: Docker Engine 20.10 (BuildKit 0.8), for RUN --mount.
ARG GOLANG_IMAGE=golang:1.27-trixie
FROM ${GOLANG_IMAGE}

WORKDIR /src
# go.mod and go.sum alone decide this layer, so it is rebuilt only when dependencies change.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download

COPY . .
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    go build -o /usr/local/bin/go-href .

# The golang image has no user but root; 65532 matches the distroless images' nonroot.
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/go-href"]
