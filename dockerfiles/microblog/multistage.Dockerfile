# multistage: build on the full python:3.13 image (gcc and Python.h for the C extension, pybabel for
# the translations) into a virtual environment at /opt/venv; then start again from python:3.13-slim
# and copy in only the venv and the app.
# Saves: the compiler, the headers and the build tools never reach the runtime image, and no purge
#   dance is needed. The `test` stage runs the app's own tests on the venv that ships (plus pytest); the
#   harness builds it as the target `microblog-test`.
# Costs: a longer file; the runtime still has apt, pip and a shell. The venv only works where its
#   interpreter link points: `python3 -m venv` records the interpreter's path (/usr/local/bin/python3
#   in both official images, and in the local stand-ins), so build and runtime must agree on it.
# Look at: size against naive, and against slim: about the same, since both end with the same
#   packages on the same base; slim gets there by purging its compiler inside one RUN, multistage by
#   never having one in the runtime. The test stage's log.
# Needs: Docker Engine 23.0 (BuildKit 0.10), for COPY --link (RUN --mount: 20.10).
ARG PYTHON_IMAGE=python:3.13-trixie
ARG PYTHON_SLIM_IMAGE=python:3.13-slim-trixie

FROM ${PYTHON_IMAGE} AS build
# A venv without a pip of its own (pip is no use at run time): the image's pip installs into it from
# outside with --python.
RUN python3 -m venv --without-pip /opt/venv
ENV PATH=/opt/venv/bin:${PATH}
WORKDIR /app
# Dependencies before the source: a source-only change reuses this layer. pip's cache lives in a
# BuildKit cache mount: kept between builds (the compiled Argon2 wheel too), never in a layer.
COPY requirements.txt ./
RUN --mount=type=cache,target=/root/.cache/pip \
    pip --python /opt/venv/bin/python install -r requirements.txt
# Translations before the rest of the source: compiling them is a build step of its own, redone
# only when a catalogue changes, not at every code change.
COPY microblog/translations/ microblog/translations/
RUN pybabel compile -d microblog/translations
COPY microblog/ microblog/

# Built only on request (`docker buildx build --target test`, which `nox -s tests` does): BuildKit
# builds the stages the target needs, and the runtime stage does not need this one. (The legacy builder,
# DOCKER_BUILDKIT=0, ran every stage above the target, tests included, at every build.)
FROM build AS test
COPY requirements-dev.txt pytest.ini ./
RUN --mount=type=cache,target=/root/.cache/pip \
    pip --python /opt/venv/bin/python install -r requirements.txt -r requirements-dev.txt
COPY tests/ tests/
RUN python -m pytest -p no:cacheprovider

FROM ${PYTHON_SLIM_IMAGE} AS runtime
# COPY --link makes its layer apart from the layers under it: after a base move, BuildKit can put the
# same layer on the new base instead of copying again (the containerd image store does; the classic
# store copies again: docs/lessons.md, "COPY --link and base moves").
RUN useradd --system --uid 65532 --user-group --no-create-home nonroot
COPY --link --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --link --from=build /app/microblog microblog/
ENV PATH=/opt/venv/bin:${PATH} \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
# By number: Kubernetes' runAsNonRoot can only check a numeric user.
USER 65532:65532
EXPOSE 5000
# No HEALTHCHECK here, on purpose: Kubernetes ignores it (its probes, in the pod spec, ask /healthz
# themselves); distroless.Dockerfile shows one for Docker and Compose, without curl.
CMD ["python", "-m", "microblog.serve"]
