# naive: what most people write first. One stage on the full node:26 image (Debian with compilers,
# headers, git, python3), the whole folder copied in, `npm install` with the development
# dependencies, and root as the user.
# Saves: nothing, but it works, and it is the yardstick the other variants are measured against.
# Costs: the image carries the toolchain, the tests, supertest and its dependencies and npm's cache;
#   `COPY . .` comes before `npm install`, so a one-line change in src/ reinstalls every dependency;
#   a compromised app runs as root. `npm start` puts npm (PID 1) and a shell between docker stop and
#   node: npm 10 passes SIGTERM to `sh -c "node src/server.js"`, the shell dies of it without
#   passing it on, npm logs "npm error signal SIGTERM" and exits 1, and node, which never saw the
#   signal, is killed with the container: the app's shutdown code never runs, and a clean stop
#   looks like a crash. (Older courses say npm ignores SIGTERM, so `docker stop` waits out its grace
#   period and kills, exit 137; with npm 10 the stop is quick: tests/test_lessons_signals.py.)
#   `docker run --init` does not help: the init passes SIGTERM to npm, and npm to the shell.
#   CMD ["node", ...] in exec form, as the other variants do, or a shell entrypoint that ends in
#   `exec node ...`, makes node the process that gets the signal.
# Look at: the size (every other variant is a share of it) and the rebuild time after a source edit.
# Needs: Docker Engine 20.10 (BuildKit 0.8): nothing here needs a newer one.
ARG NODE_IMAGE=node:26-trixie
FROM ${NODE_IMAGE}

WORKDIR /app
COPY . .
RUN npm install

EXPOSE 3000
CMD ["npm", "start"]
