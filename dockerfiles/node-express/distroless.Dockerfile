# distroless: install the production dependencies on node:22, then copy them and src/ into
# gcr.io/distroless/nodejs22-debian13:nonroot: node, glibc, libstdc++, CA certificates and tzdata,
# and nothing else: no shell, no npm, no apt, no package database.
# Saves: npm, apt, bash and coreutils (the tools an intruder would use): about 70 MB against
#   node:22-slim. The image's user is nonroot (UID 65532).
# Costs: no `docker exec ... sh` to look around, no `npm start` (the entrypoint is /nodejs/bin/node,
#   so CMD names the script), no shell-form CMD or RUN in this stage. node is PID 1 with no init:
#   the app must handle SIGTERM itself (src/server.js does).
# Look at: size against multistage; the structure test (no /bin/sh, user 65532).
ARG NODE_IMAGE=node:22
ARG NODE_DISTROLESS_IMAGE=gcr.io/distroless/nodejs22-debian13:nonroot

FROM ${NODE_IMAGE} AS production-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev

FROM ${NODE_DISTROLESS_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY --from=production-deps /app/node_modules node_modules/
COPY package.json ./
COPY src/ src/
USER 65532:65532
EXPOSE 3000
# Exec form, appended to the image's ENTRYPOINT ["/nodejs/bin/node"].
CMD ["src/server.js"]
