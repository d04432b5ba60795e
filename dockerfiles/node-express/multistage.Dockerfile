# multistage: install and test on the full node:26 image (compilers for native addons, the dev
# dependencies), then start again from node:26-slim and copy in only what runs: the production
# node_modules and src/.
# Saves: the toolchain and the dev dependencies never reach the runtime image, even though the
#   build needed them. The `test` stage runs the app's own tests (npm test with supertest) on the
#   same dependency tree; the harness builds it as the target `node-express-test`.
# Costs: a longer file, and the runtime still has npm, apt and a shell. For a Node app with no
#   compile step and no native addon, this lands near slim: the win grows with what the build needs.
# Look at: size against slim (about the same here) and naive; the test stage's log.
# Needs: Docker Engine 23.0 (BuildKit 0.10), for COPY --link (RUN --mount: 20.10).
ARG NODE_IMAGE=node:26-trixie
ARG NODE_SLIM_IMAGE=node:26-trixie-slim

# Everything: dev dependencies and tests, for the test stage (and for a compile or bundle step,
# if the app had one).
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# The cache mount keeps npm's download cache between builds and out of every layer.
RUN --mount=type=cache,target=/root/.npm npm ci
COPY . .

# Built only on request (`docker buildx build --target test`, which `nox -s tests` does): BuildKit
# builds the stages the target needs, and the runtime stage does not need this one. (The legacy builder,
# DOCKER_BUILDKIT=0, ran every stage above the target, tests included, at every build.)
FROM build AS test
RUN npm test

# Production dependencies only, installed where the compilers are.
FROM ${NODE_IMAGE} AS production-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev

FROM ${NODE_SLIM_IMAGE} AS runtime
# COPY --link makes its layer apart from the layers under it: after a base move, BuildKit can put the
# same layer on the new base instead of copying again (the containerd image store does; the classic
# store copies again: docs/lessons.md, "COPY --link and base moves").
ENV NODE_ENV=production
WORKDIR /app
COPY --link --from=production-deps /app/node_modules node_modules/
COPY --link package.json ./
COPY --link src/ src/
# The image's `node` user, by number (see slim.Dockerfile).
USER 1000:1000
EXPOSE 3000
# No HEALTHCHECK here, on purpose: Kubernetes ignores it (its probes, in the pod spec, ask /healthz
# themselves); distroless.Dockerfile shows one for Docker and Compose, without curl.
CMD ["node", "src/server.js"]
