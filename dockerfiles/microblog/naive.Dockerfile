# naive: what most people write first. One stage on the full python:3.13 image, the whole folder
# copied in, dependencies installed on top, running as root.
# Saves: nothing; it is the "before" picture. It works, and it is easy to read.
# Costs: the full image (compilers, headers, git, a second Python toolchain's worth of -dev
#   packages) ships with the app; pip's cache stays in a layer (below); `COPY . .` before
#   `pip install` means any source change reinstalls every dependency (and recompiles the C one);
#   the tests and the README ride along; root in the container.
# Look at: size (every other variant is measured against this one) and the rebuild time after a
#   one-line source change.
# Needs: Docker Engine 20.10 (BuildKit 0.8): nothing here needs a newer one.
ARG PYTHON_IMAGE=python:3.13-trixie
FROM ${PYTHON_IMAGE}

WORKDIR /app
COPY . .
# requirements.txt builds argon2-cffi-bindings from source: the full image has gcc and Python.h.
# Realistic, not tidy: pip's cache (/root/.cache/pip) stays in the layer; the later variants keep it in
# a cache mount. What it holds: the wheels pip built (Argon2's) and the downloads the index let it
# cache; an index that sends no caching headers leaves only the built wheels (the report's caches).
# hadolint ignore=DL3042
RUN pip install -r requirements.txt \
 && pybabel compile -d microblog/translations

EXPOSE 5000
CMD ["python", "-m", "microblog.serve"]
