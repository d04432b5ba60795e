# minimal: FROM scratch, a static binary and the CA bundle, nothing else: the runtime closure of a
# Go program that fetches https:// pages.
# Saves: everything distroless/static still has (tzdata, /etc/passwd, /etc/services, Debian's
#   package metadata) and, through -ldflags "-s -w", the symbol table and DWARF debug data;
#   -trimpath drops the build machine's paths from the binary.
# Costs: no time zones but UTC, no user names (USER must be numeric), no /tmp; a stripped binary
#   gives panics with function names but no debugger symbols.
# Look at: size against distroless; its distance to the closure (it is the closure).
# Needs: Docker Engine 20.10 (BuildKit 0.8), for RUN --mount.
ARG GOLANG_IMAGE=golang:1.27-trixie

FROM ${GOLANG_IMAGE} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/go-href .

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/go-href /go-href
USER 65532:65532
ENTRYPOINT ["/go-href"]
