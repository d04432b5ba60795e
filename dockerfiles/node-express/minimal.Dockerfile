# minimal: the runtime closure and nothing else. FROM scratch, then the node binary, exactly the
# shared libraries it loads (listed by ldd in the builder), the app and its production
# node_modules. No CA bundle, no tzdata, no /etc/passwd, no /tmp, no shell.
# Saves: what distroless ships besides node's own closure (the rest of glibc's package, libssl,
#   libgomp, CA bundle, tzdata, Debian's package metadata). node itself is most of the image
#   either way (distroless against minimal in results/compare.md).
# Costs: it is hand-made: a new dependency with a native addon needs its libraries added by hand,
#   and nothing here is a Debian package a scanner can recognise. Time zones do work: node carries
#   ICU with its own time-zone data (`-e TZ=Europe/Paris` gives Paris time; the default is UTC, as
#   there is no /etc/localtime), as fresh as the node release, not as Debian's tzdata. What is
#   missing: /etc/passwd (os.userInfo() throws ENOENT for UID 65532), /tmp (os.tmpdir() names a
#   folder that does not exist: mount a tmpfs if the app writes there), and a CA bundle file (node's
#   own Mozilla roots work; NODE_EXTRA_CA_CERTS and --use-openssl-ca have nothing to read).
# Look at: its distance to the runtime closure (it is the closure), and size against distroless.
# Needs: Docker Engine 20.10 (BuildKit 0.8), for RUN --mount.
ARG NODE_IMAGE=node:26-trixie

FROM ${NODE_IMAGE} AS production-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev

# node (at /usr/local/bin in the node images) and the libraries it links, under /closure with their
# paths kept: ldd prints "libc.so.6 => /lib/<triplet>/libc.so.6 (0x...)" and, for the dynamic
# loader, "/lib64/ld-linux-x86-64.so.2 (0x...)" (or its arm64 name). -L copies the files that the
# library symlinks point to, under the names the loader asks for. A "not found" stops the build.
FROM ${NODE_IMAGE} AS closure
# pipefail: a failing ldd must fail the build, not hand xargs an empty list.
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN mkdir /closure \
 && ldd /usr/local/bin/node > /tmp/ldd.txt \
 && if grep 'not found' /tmp/ldd.txt; then echo 'a shared library above is missing' >&2; exit 1; fi \
 && awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' /tmp/ldd.txt \
    | xargs cp -L --parents --target-directory=/closure /usr/local/bin/node \
 && find /closure -type f

FROM scratch
COPY --from=closure /closure/ /
WORKDIR /app
COPY --from=production-deps /app/node_modules node_modules/
COPY package.json ./
COPY src/ src/
ENV NODE_ENV=production
USER 65532:65532
EXPOSE 3000
# No HEALTHCHECK here, on purpose: Kubernetes ignores it (its probes, in the pod spec, ask /healthz
# themselves); distroless.Dockerfile shows one for Docker and Compose, without curl.
ENTRYPOINT ["/usr/local/bin/node"]
CMD ["src/server.js"]
