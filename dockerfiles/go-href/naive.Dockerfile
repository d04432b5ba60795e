# naive: the "before" picture of href-counter, the program the Docker documentation's multi-stage
# page used to show (see multistage.Dockerfile for what changed since). One stage on the full golang
# image (Debian, compilers, git and the Go toolchain), the whole folder copied in,
# `go build` into /usr/local/bin, run from there as root.
# Saves: nothing, but it works, and it is the yardstick the other variants are measured against.
# Costs: the image ships a compiler to run one binary; it also keeps the module cache
#   and the build cache of this build; `COPY . .` comes before the download, so a one-line change
#   re-downloads and recompiles every dependency. With cgo on (golang's default where gcc is
#   present) a program that uses net links glibc dynamically (`ldd /usr/local/bin/go-href` lists
#   libc.so.6): it runs only where a glibc at least as new as the builder's is (not on Alpine's
#   musl). distroless.Dockerfile builds a static one.
# Why Go 1.27: Go supports its two newest releases (1.27 and 1.26); go.mod's `go 1.24.0` is the
#   oldest Go that may build this module, not the one that does. docs/base-lifecycles.md has the dates.
# Look at: the size (every other variant is a share of it) and how little of it is the program.
# Needs: Docker Engine 20.10 (BuildKit 0.8): nothing here needs a newer one.
ARG GOLANG_IMAGE=golang:1.27-trixie
FROM ${GOLANG_IMAGE}

WORKDIR /src
COPY . .
RUN go build -o /usr/local/bin/go-href .

CMD ["go-href"]
