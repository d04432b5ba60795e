# slim: one stage on node:26-slim (Debian without compilers and headers), and three habits: copy the
# dependency files before the source, install production dependencies only, keep no caches; then
# drop root.
# Saves: most of the base image; supertest and the tests; npm's cache. A source-only change reuses
#   the `npm ci` layer, because package*.json did not change.
# Costs: no compiler, so a dependency with a native addon (node-gyp) would not install here; npm,
#   apt and a shell still ship and still run.
# Look at: size against naive, the rebuild time after a source edit (the npm ci step CACHED).
# Needs: Docker Engine 20.10 (BuildKit 0.8), for RUN --mount.
ARG NODE_SLIM_IMAGE=node:26-trixie-slim
FROM ${NODE_SLIM_IMAGE}

ENV NODE_ENV=production
WORKDIR /app

# The lockfile alone decides this layer, so it is rebuilt only when dependencies change.
COPY package.json package-lock.json ./
# npm's download cache and logs (/root/.npm) and node's compile cache (/tmp/node-compile-cache,
# which npm turns on) go to mounts that never become part of a layer. `npm cache clean --force`
# would leave the logs and the compile cache behind.
RUN --mount=type=cache,target=/root/.npm --mount=type=tmpfs,target=/tmp \
    npm ci --omit=dev

COPY src/ src/

# node:26 images have a `node` user, UID 1000; numeric, so a runtime (e.g. Kubernetes'
# runAsNonRoot) can check it is not root. The files stay root's: the app cannot rewrite itself.
USER 1000:1000
EXPOSE 3000
# No HEALTHCHECK here, on purpose: Kubernetes ignores it (its probes, in the pod spec, ask /healthz
# themselves); distroless.Dockerfile shows one for Docker and Compose, without curl.
CMD ["node", "src/server.js"]
