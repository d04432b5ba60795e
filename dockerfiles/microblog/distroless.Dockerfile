# distroless: build on the full python:3.13 image, run on gcr.io/distroless/python3-debian13:nonroot:
# Debian's python3.13 and the libraries it needs, no shell, no package manager, UID 65532.
# Saves: apt, pip, the shell and most of Debian's userland; nothing in the image can install or run
#   anything but Python. The app starts without a shell: `python -m microblog.serve` applies the
#   migrations and runs gunicorn in-process, in exec form.
# Costs: no shell to debug with (`docker run --entrypoint` has nothing to enter). The runtime's
#   python is Debian's /usr/bin/python3.13 while the official builder's is /usr/local/bin/python3.13,
#   so a venv from the builder would point at an interpreter that is not there. Instead pip installs
#   the packages into a plain folder (--target) that PYTHONPATH names: it needs no interpreter link,
#   so the same file works on both base sets. The compiled modules only need the same CPython
#   version (3.13) and a glibc at least as new as the builder's.
# Look at: size against multistage; it runs read-only as UID 65532.
ARG PYTHON_IMAGE=python:3.13
ARG PYTHON_DISTROLESS_IMAGE=gcr.io/distroless/python3-debian13:nonroot

FROM ${PYTHON_IMAGE} AS build
WORKDIR /app
COPY requirements.txt ./
# bin/ holds console scripts whose first line names the builder's python: useless at run time.
RUN pip install --no-cache-dir --target /app/packages -r requirements.txt \
 && rm -rf /app/packages/bin
# Translations before the rest of the source: compiling them is a build step of its own, redone
# only when a catalogue changes, not at every code change.
COPY microblog/translations/ microblog/translations/
RUN PYTHONPATH=/app/packages python3 -m babel.messages.frontend compile -d microblog/translations
COPY microblog/ microblog/

FROM ${PYTHON_DISTROLESS_IMAGE}
WORKDIR /app
COPY --from=build /app/packages packages/
COPY --from=build /app/microblog microblog/
ENV PYTHONPATH=/app/packages:/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER 65532:65532
EXPOSE 5000
ENTRYPOINT ["/usr/bin/python3.13", "-m", "microblog.serve"]
