# distroless: install the production dependencies on node:26, then copy them and src/ into
# gcr.io/distroless/nodejs26-debian13:nonroot: node, glibc, libstdc++, CA certificates and tzdata,
# and nothing else: no shell, no npm, no apt. The package database stays, in a form of its own:
# one file per package in /var/lib/dpkg/status.d/ (no dpkg to read it), which is what image scanners
# read to list the OS packages (the report's pkgs column counts them).
# Saves: npm, apt, bash and coreutils (the tools an intruder would use), against node:26-slim
#   (multistage against distroless in results/compare.md). The image's user is nonroot (UID 65532).
# Costs: no `docker exec ... sh` to look around. What is there: node's REPL, through
#   `docker run -it --rm --entrypoint /nodejs/bin/node IMAGE` (--entrypoint also drops the image's
#   CMD; without it, the CMD below starts the server), and the `debug` target below (`docker buildx
#   build --target debug`), the same image plus a static busybox shell in /busybox, like distroless's
#   own :debug tags. `docker debug` (Docker Desktop) and `kubectl debug --image=busybox
#   --target=CONTAINER` attach a shell from another image to the running container instead. No
#   `npm start` (the entrypoint is /nodejs/bin/node, so CMD names the script), no shell-form CMD or
#   RUN in this stage. node is PID 1 with no init: the app must handle SIGTERM itself (src/server.js
#   does), or the container needs `docker run --init`.
# Look at: size against multistage; the structure test (no /bin/sh, user 65532); its health in
#   `docker ps` (the HEALTHCHECK below).
# Needs: Docker Engine 23.0 (BuildKit 0.10), for COPY --link (RUN --mount: 20.10).
ARG NODE_IMAGE=node:26-trixie
ARG NODE_DISTROLESS_IMAGE=gcr.io/distroless/nodejs26-debian13:nonroot
ARG DEBIAN_SLIM_IMAGE=debian:trixie-slim

FROM ${NODE_IMAGE} AS production-deps
WORKDIR /app
COPY package.json package-lock.json ./
# A private registry's token comes in as a build secret, never as an ARG or a COPY'd .npmrc (both
# end up in the image or its history): `docker buildx build --secret id=npmrc,src=$HOME/.npmrc ...`
# mounts the file for this one RUN, and no layer keeps it. Without --secret the mount is simply absent:
# optional on purpose, as the public registry needs no token. Where the dependencies do need it, add
# required=true: a build without --secret then stops at this step ("secret npmrc: not found"), not
# at npm's 401 or 404 further on.
RUN --mount=type=cache,target=/root/.npm \
    --mount=type=secret,id=npmrc,target=/root/.npmrc \
    npm ci --omit=dev

FROM ${NODE_DISTROLESS_IMAGE} AS runtime
# COPY --link makes its layer apart from the layers under it: after a base move, BuildKit can put the
# same layer on the new base instead of copying again (the containerd image store does; the classic
# store copies again: docs/lessons.md, "COPY --link and base moves").
ENV NODE_ENV=production
WORKDIR /app
COPY --link --from=production-deps /app/node_modules node_modules/
COPY --link package.json ./
COPY --link src/ src/
USER 65532:65532
EXPOSE 3000
# Without curl: node's own fetch, in exec form (there is no shell for the shell form). Docker and
# Compose act on it (`docker ps` shows "healthy"; Swarm replaces an unhealthy task); Kubernetes
# ignores it and uses the pod's probes.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["/nodejs/bin/node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz', {signal: AbortSignal.timeout(2000)}).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Exec form, appended to the image's ENTRYPOINT ["/nodejs/bin/node"].
CMD ["src/server.js"]

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
