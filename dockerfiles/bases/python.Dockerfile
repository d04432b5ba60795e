# Stand-in for python:3.X (PARENT = buildpack-deps) and python:3.X-slim (PARENT = debian-slim), made
# from Debian's python3.X instead of a Python compiled into /usr/local: 3.13 on Debian 13, 3.11 on 12.
ARG PARENT
FROM ${PARENT}
ARG PACKAGES
ARG PYTHON_VERSION=3.13
# Debian marks its Python "externally managed" (PEP 668), so `pip install` outside a venv would refuse;
# the official images let it install into the system, so removing the marker keeps their interface.
# The links put python, python3 and pip where the official images have them, /usr/local/bin.
# No bytecode, as in the official images: their Dockerfile deletes every .pyc of the Python it compiled
# into /usr/local, so a process that may not write there (a non-root user, a read-only root) compiles
# the standard library's modules at every start. Debian's maintainer scripts compiled them (py3compile);
# deleting them under /usr/lib/python3* makes the start-up the report measures the official one's.
# Versions are not pinned: `nox -s bases --rebuild` is how Debian's updates get in, and the image's
# labels record the versions that went in.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ${PACKAGES} \
 && rm -rf /var/lib/apt/lists/* \
 && rm -f "/usr/lib/python${PYTHON_VERSION}/EXTERNALLY-MANAGED" \
 && find /usr/lib/python3* /usr/local -depth -type d -name __pycache__ -exec rm -rf '{}' + \
 && for name in python python3 "python${PYTHON_VERSION}" pip pip3 "pip${PYTHON_VERSION}"; do \
        ln -s "$(readlink -f "/usr/bin/${name}")" "/usr/local/bin/${name}"; \
    done
# pip in a venv (and a pip upgraded from PyPI) trusts certifi's bundle, not the system one: point it, and
# requests, at the system bundle, which holds the extra CA certificates (e.g. a TLS-intercepting proxy).
ENV LANG=C.UTF-8 \
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
CMD ["python3"]
