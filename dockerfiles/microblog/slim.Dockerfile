# slim: one stage on python:3.13-slim, written with care: dependency files before the source (a
# source change reuses the dependency layer), pip's cache in a cache mount (never in a layer), a
# non-root user.
# Saves: most of naive's size: the slim image has no compilers, headers or -dev libraries.
# Costs: argon2-cffi-bindings is built from C (see requirements.in), and slim has no compiler. So
#   the same RUN installs gcc and the Python headers, builds, and purges them again: a layer only
#   keeps what is left at the end of its RUN. That RUN is slow and repeats whenever requirements.txt
#   changes, and apt, pip and a shell stay in the image.
# Look at: size against naive, and the rebuild time after a source-only change (dependencies reused).
# Needs: Docker Engine 20.10 (BuildKit 0.8), for RUN --mount.
ARG PYTHON_SLIM_IMAGE=python:3.13-slim-trixie
FROM ${PYTHON_SLIM_IMAGE}

# pipefail: a failing step in the middle of a pipe fails the build.
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
WORKDIR /app

COPY requirements.txt ./
# The official slim image carries Python.h (its Python is built under /usr/local); a Debian python3.13
# needs python3-dev for it. Either way the compiler and headers come and go within this one RUN: it
# notes the installed packages first and purges exactly the ones that were added (purging by name
# with --auto-remove leaves whatever a remaining package merely suggests, e.g. binutils). `apt-get
# clean` drops the downloaded .deb files, which a plain Debian root file system keeps.
# The base image fixes the Debian release, which fixes these packages' versions closely enough for
# tools that are gone when the RUN ends; ${headers} is unquoted on purpose (it may be empty).
# pip's cache (downloads, and the Argon2 wheel it compiles) lives in a BuildKit cache mount: a change
# to requirements.txt reuses it instead of downloading and compiling again, and no layer holds it.
# hadolint ignore=DL3008,SC2086
RUN --mount=type=cache,target=/root/.cache/pip \
    headers=$(python3 -c 'import os, sysconfig; print("" if os.path.exists(sysconfig.get_path("include") + "/Python.h") else "python3-dev")') \
 && dpkg-query -W -f '${Package}\n' | sort > /tmp/packages-before \
 && apt-get update \
 && apt-get install -y --no-install-recommends gcc libc6-dev ${headers} \
 && pip install -r requirements.txt \
 && dpkg-query -W -f '${Package}\n' | sort | comm -13 /tmp/packages-before - | xargs apt-get purge -y \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* /tmp/packages-before

RUN useradd --system --uid 65532 --user-group --no-create-home nonroot

# Translations before the rest of the source: compiling them is a build step of its own, redone
# only when a catalogue changes, not at every code change.
COPY microblog/translations/ microblog/translations/
RUN pybabel compile -d microblog/translations
COPY microblog/ microblog/

# By number: Kubernetes' runAsNonRoot can only check a numeric user.
USER 65532:65532
EXPOSE 5000
# No HEALTHCHECK here, on purpose: Kubernetes ignores it (its probes, in the pod spec, ask /healthz
# themselves); distroless.Dockerfile shows one for Docker and Compose, without curl.
CMD ["python", "-m", "microblog.serve"]
