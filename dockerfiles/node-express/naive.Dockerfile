# naive: what most people write first. One stage on the full node:22 image (Debian with compilers,
# headers, git, python3: about 1.1 GB), the whole folder copied in, `npm install` with the
# development dependencies, and root as the user.
# Saves: nothing, but it works, and it is the yardstick the other variants are measured against.
# Costs: the image carries the toolchain, the tests, supertest and its dependencies and npm's cache;
#   `COPY . .` comes before `npm install`, so a one-line change in src/ reinstalls every dependency;
#   a compromised app runs as root. `npm start` puts npm between docker stop and node: npm passes
#   SIGTERM on, then logs "npm error signal SIGTERM" and exits 1, so a clean stop looks like a crash.
# Look at: the size (every other variant is a share of it) and the rebuild time after a source edit.
ARG NODE_IMAGE=node:22
FROM ${NODE_IMAGE}

WORKDIR /app
COPY . .
RUN npm install

EXPOSE 3000
CMD ["npm", "start"]
