# naive: the "before" picture of the Docker documentation's first multi-stage example. One stage on
# the full golang:1.24 image (Debian, compilers, git and the Go toolchain: about 850 MB), the whole
# folder copied in, `go build`, and the program run from where it was built, as root.
# Saves: nothing, but it works, and it is the yardstick the other variants are measured against.
# Costs: the image ships a compiler to run one static-ish binary of a few MB; it also keeps the
#   module cache and the build cache of this build; `COPY . .` comes before the download, so a
#   one-line change re-downloads and recompiles every dependency.
# Look at: the size (every other variant is a share of it) and how little of it is the program.
ARG GOLANG_IMAGE=golang:1.24
FROM ${GOLANG_IMAGE}

WORKDIR /src
COPY . .
RUN go build -o /usr/local/bin/go-href .

CMD ["go-href"]
