# minimal: the runtime closure and nothing else. FROM scratch, then the node binary, exactly the
# shared libraries it loads (listed by ldd in the builder), the app and its production
# node_modules. No CA bundle (node carries its own root certificates), no tzdata, no /etc/passwd,
# no shell.
# Saves: what distroless ships besides node's own closure (the rest of glibc's package, libssl,
#   libgomp, CA bundle, tzdata, Debian's package metadata): about 20 MB. node itself, about
#   125 MB, is most of the image either way.
# Costs: it is hand-made: a new dependency with a native addon needs its libraries added by hand,
#   and nothing here is a Debian package a scanner can recognise. Times are UTC only (no tzdata).
# Look at: its distance to the runtime closure (it is the closure), and size against distroless.
ARG NODE_IMAGE=node:22

FROM ${NODE_IMAGE} AS production-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev

# node (at /usr/local/bin in node:22) and the libraries it links, under /closure with their paths
# kept: ldd prints "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" and, for the dynamic
# loader, "/lib64/ld-linux-x86-64.so.2 (0x...)". -L copies the files that the library symlinks
# point to, under the names the loader asks for.
FROM ${NODE_IMAGE} AS closure
# pipefail: a failing ldd must fail the build, not hand xargs an empty list.
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN mkdir /closure \
 && ldd /usr/local/bin/node \
    | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' \
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
ENTRYPOINT ["/usr/local/bin/node"]
CMD ["src/server.js"]
