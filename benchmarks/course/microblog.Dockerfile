# The course's recipe for the microblog, kept beside the compare table, not in it: benchmarks/course_recipe.py
# builds it next to dockerfiles/microblog/multistage.Dockerfile and measures both.
# The recipe: pip installs the dependencies as root into the full python image's own Python, then the
# runtime stage, on the slim image, takes all of the builder's /usr/local (`COPY --from=builder
# /usr/local/ /usr/local/`).
# Saves: the compiler, the headers and pip's cache stay in the builder, as in multistage; no venv, so no
#   interpreter path to keep in step between the stages.
# Costs: the COPY takes whatever the builder has under /usr/local, not only the packages. In the official
#   images that is the builder's whole Python: interpreter, standard library, libpython, headers and
#   pip, copied over the slim image's own Python, which stays in its layers, hidden. The runtime then
#   runs the full image's build of Python, whose extension modules may link libraries the slim image
#   does not install. The local stand-ins run Debian's Python from /usr, and their /usr/local holds
#   only links to it, the extra CA certificate and what pip installed: there the same COPY carries
#   much less (benchmarks/results.md measures both: on the stand-ins, and on them laid out as the
#   official images are, by benchmarks/course/usr-local-python.Dockerfile).
# Look at: the size of the COPY's layer and what it holds by folder, against multistage's venv layer.
# Needs: Docker Engine 20.10 (BuildKit 0.8): nothing here needs a newer one.
ARG PYTHON_IMAGE=python:3.13-trixie
ARG PYTHON_SLIM_IMAGE=python:3.13-slim-trixie

FROM ${PYTHON_IMAGE} AS builder
WORKDIR /app
COPY requirements.txt ./
# As the course writes it: as root, into the image's own Python. pip's cache stays in this layer, in
# /root: the runtime takes /usr/local only, so it never reaches the image.
# hadolint ignore=DL3042
RUN pip install -r requirements.txt
# Not the course's step but this app's (its translations), done as multistage does it, so that the two
# images differ only by how the dependencies travel.
COPY microblog/translations/ microblog/translations/
RUN pybabel compile -d microblog/translations
COPY microblog/ microblog/

FROM ${PYTHON_SLIM_IMAGE}
RUN useradd --system --uid 65532 --user-group --no-create-home nonroot
# Everything under the builder's /usr/local: packages, console scripts (pybabel, gunicorn, flask), and
# whatever else the image or a step put there.
COPY --from=builder /usr/local/ /usr/local/
WORKDIR /app
COPY --from=builder /app/microblog microblog/
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
# By number: Kubernetes' runAsNonRoot can only check a numeric user.
USER 65532:65532
EXPOSE 5000
# No HEALTHCHECK, as in multistage: Kubernetes ignores it and asks /healthz itself.
CMD ["python", "-m", "microblog.serve"]
