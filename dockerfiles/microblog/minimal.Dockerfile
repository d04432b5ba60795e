# minimal: the runtime closure and nothing else. FROM scratch, then the python3 interpreter, exactly
# the shared libraries it and the extension modules load (listed by ldd in the builder), the standard
# library without its tests, GUI and docs tools, the app, its production dependencies, and the
# bytecode of the modules the app loads. No shell, no pip, no /etc/passwd (UID 65532 by number), no CA
# bundle, no tzdata.
# Saves: what distroless still carries for every program (Debian's package metadata, tzdata, libgomp,
#   libstdc++, the unused parts of the standard library), the .pyc of modules nothing loads, and
#   Babel's locale data for every locale the app does not speak (it speaks en and es).
# Costs: it is hand-made. A new dependency with a new shared library is picked up by ldd, but a module
#   imported only at run time from a dropped part of the standard library fails at that moment;
#   nothing a scanner recognises as a Debian package; times are UTC only (Python reads zones from
#   tzdata files, and there are none).
#   The bytecode (last RUN: the standard library's, the dependencies' and the app's modules that the
#   app loads) is a layer of its own (its size: results/compare.md, largest layers). Without it,
#   Python compiles all of them at every start (a read-only container cannot even keep them); the
#   first answer against slim's is in docs/lessons.md, section 5.
# Look at: distance to the runtime closure, size against distroless, and the time to first answer.
# Needs: Docker Engine 23.0 (BuildKit 0.10), for a heredoc (RUN --mount: 20.10).
ARG PYTHON_IMAGE=python:3.13-trixie

# The production dependencies, in a plain folder (as in distroless.Dockerfile) and without .pyc files;
# pip's cache in a BuildKit cache mount, never in a layer.
FROM ${PYTHON_IMAGE} AS deps
WORKDIR /app
COPY requirements.txt ./
RUN --mount=type=cache,target=/root/.cache/pip \
    pip install --no-compile --target /app/packages -r requirements.txt \
 && rm -rf /app/packages/bin \
 && find /app/packages/babel/locale-data -type f ! -name root.dat ! -name en.dat ! -name es.dat -delete

# The app with its compiled translations (the .po sources stay behind). The only stage a source
# change reaches, besides the last COPY: the closure below depends on the dependencies alone.
FROM deps AS app
COPY microblog/ microblog/
RUN PYTHONPATH=/app/packages python3 -m babel.messages.frontend compile -d microblog/translations \
 && rm microblog/translations/*/LC_MESSAGES/*.po

# The interpreter, its standard library and every shared library that it or an extension module
# links, under /closure with their paths kept. Nothing here names a Python version, a directory or
# an architecture: the official image's python sits in /usr/local/bin (and loads
# /usr/local/lib/libpython3.X.so through its RUNPATH, $ORIGIN/../lib), Debian's in /usr/bin; ldd
# prints "libz.so.1 => /lib/<triplet>/libz.so.1 (0x...)", with an x86-64 or an arm64 triplet, and
# the dynamic loader on a line that starts with "/". Libraries bundled in wheels (cffi.libs/...) are
# already in place and are skipped. A "not found" from ldd stops the build.
# One library ldd cannot see: glibc dlopen()s libgcc_s.so.1 when a thread exits, and Argon2 hashes
# with threads (without it a worker aborts at the first password: "libgcc_s.so.1 must be installed
# for pthread_exit to work"). The dynamic loader says where it is: python loads it and reads the
# path back from /proc/self/maps; a missing libgcc_s fails that load, and the build.
# The link /usr/bin/python3 gives the image one entrypoint whatever the version and the layout.
FROM ${PYTHON_IMAGE} AS closure
# pipefail: a failing ldd or tar in the middle of a pipe fails the build.
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
COPY --from=deps /app/packages /closure/app/packages
RUN set -eu \
 && python=$(python3 -c 'import os, sys; print(os.path.realpath(sys.executable))') \
 && stdlib=$(python3 -c 'import sysconfig; print(sysconfig.get_path("stdlib"))') \
 && mkdir -p "/closure$(dirname "${python}")" /closure/usr/bin \
 && cp "${python}" "/closure${python}" \
 && if [ ! -e /closure/usr/bin/python3 ]; then ln -s "${python}" /closure/usr/bin/python3; fi \
 && tar -C / -cf - \
        --exclude=__pycache__ --exclude=test --exclude=tests --exclude=idlelib --exclude=tkinter \
        --exclude=turtledemo --exclude=ensurepip --exclude=pydoc_data --exclude='config-3.*' \
        --exclude=site-packages --exclude=dist-packages --exclude='_tkinter*' --exclude='_test*' \
        --exclude='xx*' --exclude='_ctypes_test*' --exclude='_xx*' --exclude='readline*' \
        --exclude='_curses*' --exclude='_dbm*' --exclude='_gdbm*' \
        "${stdlib#/}" \
    | tar -C /closure -xf - \
 && find /closure -type f \( -name '*.so*' -o -path '*/bin/*' \) -exec ldd {} + > /tmp/ldd.txt \
 && if grep 'not found' /tmp/ldd.txt; then echo 'a shared library above is missing' >&2; exit 1; fi \
 && libgcc_s=$(python3 -c 'import ctypes; ctypes.CDLL("libgcc_s.so.1"); print(next(line.split()[-1] for line in open("/proc/self/maps") if line.rstrip().endswith("/libgcc_s.so.1")))') \
 && { awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// && $1 !~ /:$/ { print $1 }' /tmp/ldd.txt; \
      echo "${libgcc_s}"; } \
    | xargs realpath --no-symlinks | grep -v '^/closure/' | sort -u \
    | xargs cp -L --parents --target-directory=/closure \
 && mkdir -m 1777 /closure/tmp \
 && rm /tmp/ldd.txt \
 && du -sh /closure

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

FROM scratch
COPY --from=closure /closure/ /
WORKDIR /app
COPY --from=app /app/microblog microblog/
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
# The script comes from the stage above, mounted for this step only: it is in no layer. (In /app, which
# the step writes anyway: a mount point elsewhere, say /tmp, would put that folder in the layer.)
RUN --mount=type=bind,from=bytecode-script,source=/compile-bytecode.py,target=/app/compile-bytecode.py \
    ["/usr/bin/python3", "-B", "/app/compile-bytecode.py"]
USER 65532:65532
EXPOSE 5000
# No HEALTHCHECK here, on purpose: Kubernetes ignores it (its probes, in the pod spec, ask /healthz
# themselves); distroless.Dockerfile shows one for Docker and Compose, without curl.
ENTRYPOINT ["/usr/bin/python3", "-m", "microblog.serve"]
