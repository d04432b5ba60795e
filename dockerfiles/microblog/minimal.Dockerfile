# minimal: the runtime closure and nothing else. FROM scratch, then the python3.13 interpreter, exactly
# the shared libraries it and the extension modules load (listed by ldd in the builder), the standard
# library without its tests, GUI, docs-tools and byte-code caches, the app and its production
# dependencies. No shell, no pip, no /etc/passwd (UID 65532 by number), no CA bundle, no tzdata.
# Saves: what distroless still carries for every program (Debian's package metadata, tzdata, libgomp,
#   libstdc++, the unused parts of the standard library), the .pyc caches, and Babel's locale data for
#   the ~1000 locales the app does not speak (it speaks en and es).
# Costs: it is hand-made. A new dependency with a new shared library is picked up by ldd, but a module
#   imported only at run time from a dropped part of the standard library fails at that moment. No
#   .pyc: Python compiles the app and its dependencies in memory at every start (a slower first
#   answer); nothing a scanner recognises as a Debian package; times are UTC only.
# Look at: distance to the runtime closure, size against distroless, and the time to first answer.
ARG PYTHON_IMAGE=python:3.13

# The production dependencies, in a plain folder (as in distroless.Dockerfile) and without .pyc files.
FROM ${PYTHON_IMAGE} AS deps
WORKDIR /app
COPY requirements.txt ./
RUN pip install --no-cache-dir --no-compile --target /app/packages -r requirements.txt \
 && rm -rf /app/packages/bin \
 && find /app/packages/babel/locale-data -type f ! -name root.dat ! -name en.dat ! -name es.dat -delete

# The app with its compiled translations (the .po sources stay behind). The only stage a source
# change reaches, besides the last COPY: the closure below depends on the dependencies alone.
FROM deps AS app
COPY microblog/ microblog/
RUN PYTHONPATH=/app/packages python3 -m babel.messages.frontend compile -d microblog/translations \
 && rm microblog/translations/*/LC_MESSAGES/*.po

# The interpreter, its standard library and every shared library that it or an extension module
# links, under /closure with their paths kept. ldd prints "libz.so.1 => /lib/x86_64-linux-gnu/libz.so.1
# (0x...)"; the dynamic loader is the line that starts with "/". Libraries bundled in wheels
# (cffi.libs/...) are already in place and are skipped. One library ldd cannot see: glibc dlopen()s
# libgcc_s.so.1 when a thread exits, and Argon2 hashes with threads, so it is added by name (without
# it a worker aborts at the first password: "libgcc_s.so.1 must be installed for pthread_exit to
# work"). The official image's python sits in /usr/local/bin, Debian's in /usr/bin: a link gives
# both the same entrypoint, /usr/bin/python3.13. (The official one loads /usr/local/lib/libpython3.13.so
# through its RUNPATH, $ORIGIN/../lib, so the image needs no ld.so.cache.)
FROM ${PYTHON_IMAGE} AS closure
# pipefail: a failing ldd or tar in the middle of a pipe fails the build.
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
COPY --from=deps /app/packages /closure/app/packages
RUN set -eu \
 && python=$(python3 -c 'import os, sys; print(os.path.realpath(sys.executable))') \
 && stdlib=$(python3 -c 'import sysconfig; print(sysconfig.get_path("stdlib"))') \
 && cp --parents "${python}" /closure \
 && if [ "${python}" != /usr/bin/python3.13 ]; then ln -s "${python}" /closure/usr/bin/python3.13; fi \
 && tar -C / -cf - \
        --exclude=__pycache__ --exclude=test --exclude=tests --exclude=idlelib --exclude=tkinter \
        --exclude=turtledemo --exclude=ensurepip --exclude=pydoc_data --exclude='config-3.13-*' \
        --exclude=site-packages --exclude=dist-packages --exclude='_tkinter*' --exclude='_test*' \
        --exclude='xx*' --exclude='_ctypes_test*' --exclude='_xx*' --exclude='readline*' \
        --exclude='_curses*' --exclude='_dbm*' --exclude='_gdbm*' \
        "${stdlib#/}" \
    | tar -C /closure -xf - \
 && find /closure -type f \( -name '*.so*' -o -path '*/bin/*' \) -exec ldd {} + 2>/dev/null \
    | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// && $1 !~ /:$/ { print $1 }' \
    | cat - <(ldconfig -p | awk '$1 == "libgcc_s.so.1" && /x86-64/ { print $NF; exit }') \
    | grep -v '^/closure/' | sort -u \
    | xargs cp -L --parents --target-directory=/closure \
 && mkdir -m 1777 /closure/tmp \
 && du -sh /closure

FROM scratch
COPY --from=closure /closure/ /
WORKDIR /app
COPY --from=app /app/microblog microblog/
ENV PYTHONPATH=/app/packages:/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER 65532:65532
EXPOSE 5000
ENTRYPOINT ["/usr/bin/python3.13", "-m", "microblog.serve"]
