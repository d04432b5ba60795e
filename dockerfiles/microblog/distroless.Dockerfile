# distroless: build on the full python image, run on gcr.io/distroless/python3-debian13:nonroot:
# Debian's python3 (3.13 on Debian 13) and the libraries it needs, no shell, no package manager,
# UID 65532.
# Saves: apt, pip, the shell and most of Debian's userland; nothing in the image can install or run
#   anything but Python. The app starts without a shell: `python -m microblog.serve` applies the
#   migrations and runs gunicorn in-process, in exec form.
# Costs: no shell to debug with. What is there: the Python REPL, through the entrypoint
#   (`docker run -it --rm --entrypoint /usr/bin/python3 IMAGE` gives a `>>>` prompt with the app on
#   its path), and the `debug` target below (`docker buildx build --target debug`), the same image
#   plus a static busybox shell in /busybox, like distroless's own :debug tags. `docker debug`
#   (Docker Desktop) and `kubectl debug --image=busybox --target=CONTAINER` attach a shell from
#   another image to the running container instead, leaving the image as it is.
#   The runtime's python is Debian's /usr/bin/python3 while the official builder's is in
#   /usr/local/bin, so a venv from the builder would point at an interpreter that is not there.
#   Instead pip installs the packages into a plain folder (--target) that PYTHONPATH names: it needs
#   no interpreter link, so the same file works on every base set. The compiled modules only need the
#   same CPython minor version and a glibc at least as new as the builder's: the builder's tag names
#   the Debian release (trixie) the runtime is built from, so both hold by construction.
#   Debian compiles its standard library's bytecode in a maintainer script, which a distroless image
#   never runs: without the step below Python compiles every module it imports at every start. That
#   step ships .pyc for the files the app loads (standard library included), in place of the .pyc
#   pip would write for every module of every dependency (--no-compile). What it costs is its layer
#   (results/compare.md, largest layers); what it buys, the first answer against slim's
#   (docs/lessons.md, section 5).
# Look at: size against multistage; it runs read-only as UID 65532; `docker inspect` shows its
#   health (the HEALTHCHECK below).
# Needs: Docker Engine 23.0 (BuildKit 0.10), for COPY --link and a heredoc (RUN --mount: 20.10).
ARG PYTHON_IMAGE=python:3.13-trixie
ARG PYTHON_DISTROLESS_IMAGE=gcr.io/distroless/python3-debian13:nonroot
ARG DEBIAN_SLIM_IMAGE=debian:trixie-slim

FROM ${PYTHON_IMAGE} AS build
WORKDIR /app
COPY requirements.txt ./
# pip's cache (downloads, and the Argon2 wheel it compiles) lives in a BuildKit cache mount: the
# next build with a changed requirements.txt reuses it, and no layer ever holds it.
# bin/ holds console scripts whose first line names the builder's python: useless at run time.
# --no-compile: the runtime's own python compiles what the app loads (below), nothing more.
RUN --mount=type=cache,target=/root/.cache/pip \
    pip install --no-compile --target /app/packages -r requirements.txt \
 && rm -rf /app/packages/bin
# Translations before the rest of the source: compiling them is a build step of its own, redone
# only when a catalogue changes, not at every code change. -B: running babel here would otherwise
# leave .pyc files in /app/packages/babel, dated by the build's clock, that the runtime stage copies
# (nox -s repro found 24, the only difference between two builds of this image).
COPY microblog/translations/ microblog/translations/
RUN PYTHONPATH=/app/packages python3 -B -m babel.messages.frontend compile -d microblog/translations
COPY microblog/ microblog/

# The bytecode step's script (below) as plain Python: a heredoc writes it to a file in a stage of its
# own ('EOF' quoted: nothing in it is expanded), and the step mounts that file. `RUN <<EOF` would hand
# it to /bin/sh, which the runtime does not have; without heredocs it would be one `python3 -c` string.
FROM scratch AS bytecode-script
COPY <<'EOF' /compile-bytecode.py
import glob, os, sys, py_compile, logging.config, logging.handlers, urllib.request

os.environ.update(SECRET_KEY="build-only", DATABASE_URL="sqlite://")
from microblog import serve
import gunicorn.arbiter, gunicorn.glogging, gunicorn.workers.sync

app = serve.create_app()
serve.migrate_database(app)
serve.Gunicorn(app, serve.gunicorn_options(os.environ))
web = app.test_client()
for path in ("/healthz", "/auth/login", "/nope"):
    web.get(path)

mine = os.path.dirname(serve.__file__) + os.sep
mode = py_compile.PycInvalidationMode
# __main__ is this script, on a read-only mount: not the app's.
loaded = {
    module.__file__
    for name, module in list(sys.modules.items())
    if name != "__main__" and (getattr(module, "__file__", None) or "").endswith(".py")
}
files = sorted(loaded | set(glob.glob(mine + "**/*.py", recursive=True)))
for file in files:
    kind = mode.CHECKED_HASH if file.startswith(mine) else mode.UNCHECKED_HASH
    py_compile.compile(file, doraise=True, invalidation_mode=kind)
print(len(files), "modules compiled")
EOF

FROM ${PYTHON_DISTROLESS_IMAGE} AS runtime
# COPY --link makes its layer apart from the layers under it: after a base move, BuildKit can put the
# same layer on the new base instead of copying again (the containerd image store does; the classic
# store copies again: docs/lessons.md, "COPY --link and base moves").
WORKDIR /app
COPY --link --from=build /app/packages packages/
COPY --link --from=build /app/microblog microblog/
ENV PYTHONPATH=/app/packages:/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
# Bytecode for what the app loads, compiled at build time by the image's own python: a read-only
# container cannot write any, and without it Python compiles every module it imports, at every
# start. The script (stage bytecode-script) starts the app as serve.py does, short of serving (app
# factory, migrations on an in-memory database, gunicorn's settings, logging and sync worker, three
# requests, and urllib for the HEALTHCHECK), then compiles each module that got loaded, and every file
# of the app (Alembic runs the migrations from their paths, not as imported modules). Standard library
# and dependencies: unchecked-hash .pyc, never compared with their source again (nothing changes them
# in an image); the app: checked-hash, so that a source mounted over /app/microblog is run, not a stale
# .pyc. Neither kind records a file time: the check, where there is one, is a hash of the source.
# The image's user is nonroot: writing into the standard library takes root, for this step only.
USER 0:0
# The script comes from the stage above, mounted for this step only: it is in no layer. (In /app, which
# the step writes anyway: a mount point elsewhere, say /tmp, would put that folder in the layer.)
RUN --mount=type=bind,from=bytecode-script,source=/compile-bytecode.py,target=/app/compile-bytecode.py \
    ["/usr/bin/python3", "-B", "/app/compile-bytecode.py"]
USER 65532:65532
EXPOSE 5000
# Without curl: the runtime's own HTTP client, in exec form (there is no shell for the shell form).
# Docker and Compose act on it (`docker ps` shows "healthy"; Swarm replaces an unhealthy task);
# Kubernetes ignores it and uses the pod's probes. Each check starts a python and imports urllib,
# from the bytecode above rather than compiling it again at every check.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["/usr/bin/python3", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '5000') + '/healthz', timeout=2)"]
# /usr/bin/python3, not python3.13: the distroless images link it to their Python, whatever the
# version (3.11 on Debian 12).
ENTRYPOINT ["/usr/bin/python3", "-m", "microblog.serve"]

# A static busybox, for the debug target only: BuildKit builds a stage only when the target asks.
FROM ${DEBIAN_SLIM_IMAGE} AS busybox
# Unpinned: the base's Debian release fixes busybox's version closely enough for a debugging aid.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends busybox-static \
 && mkdir /busybox \
 && cp /bin/busybox /busybox/busybox \
 && /busybox/busybox --install -s /busybox \
 && rm -rf /var/lib/apt/lists/*

# docker buildx build --target debug: the image above plus a shell at /busybox/sh (on PATH), e.g.
#   docker run -it --rm --entrypoint sh IMAGE
FROM runtime AS debug
COPY --from=busybox /busybox /busybox
ENV PATH=/busybox:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# The image itself: the last stage is what a build without --target makes.
FROM runtime
