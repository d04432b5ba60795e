# check=skip=InvalidDefaultArgInFrom
# InvalidDefaultArgInFrom: PYTHON_IMAGE has no default on purpose: it must be a local python stand-in
# (Debian's Python under /usr), which the callers always pass; on an official image there is nothing to move.
#
# A local stand-in laid out like the official python image, not the official image: Debian's Python,
# moved from /usr to /usr/local, where python:3.X and python:3.X-slim compile theirs. Interpreter,
# standard library, libpython, headers and pip go to /usr/local, and no interpreter or standard library
# stays under /usr, so that no path resolves there by accident. Debian's other Python packages (wheel,
# packaging; mercurial's in the full image) stay in /usr/lib/python3/dist-packages, on no sys.path now:
# they are Debian's, and the official images keep no such thing under /usr/local.
# Built FROM the python stand-in and FROM the python-slim one: tests/test_lessons_layout.py builds
# microblog's minimal and distroless variants on it, benchmarks/course_recipe.py the course's recipe and
# multistage. Its files are still Debian's build of Python (an interpreter with libpython linked in,
# tkinter and ensurepip's wheels packaged apart), not the official build's.
# Needs: Docker Engine 20.10 (BuildKit 0.8).
ARG PYTHON_IMAGE
FROM ${PYTHON_IMAGE}
LABEL org.imagelab.test-stand-in="a local stand-in laid out like the official python image, not the official \
image: Debian's Python moved to /usr/local (interpreter, standard library, libpython, headers), nothing \
of it under /usr (benchmarks/course/usr-local-python.Dockerfile, a fixture of tests/test_lessons_layout.py \
and a base of benchmarks/course_recipe.py)"
# Outside a venv, Debian's Python installs by its "posix_local" scheme, <prefix>/local/lib/... and
# <prefix>/local/bin: with the prefix now /usr/local, /usr/local/local/bin, on no PATH. Debian's own
# switch, read by its sysconfig, picks the scheme of its packages instead: <prefix>/lib/python3/dist-packages
# (on sys.path, where pip is) and <prefix>/bin, so `pip install` puts packages and console scripts under
# /usr/local/lib and /usr/local/bin as the official image does (there in python3.X/site-packages).
ENV DEB_PYTHON_INSTALL_LAYOUT=deb_system
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# The slim stand-in has no headers and no libpython (Debian's python3.X has it linked in): those moves
# are skipped there. The static libpython stays in config-*/ (moved with the standard library); only
# its link in /usr/lib goes. pip's first line names its interpreter, so it is rewritten. The last lines
# prove the move (the interpreter's own view of its paths is /usr/local, no interpreter, standard library
# or pip is left under /usr) and write no bytecode: the stand-ins have none, as the official images.
RUN set -eu \
 && export PYTHONDONTWRITEBYTECODE=1 \
 && version=$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])') \
 && rm -rf /usr/local/bin/python* /usr/local/bin/pip* /usr/local/lib/python3* \
 && mv "/usr/bin/python${version}" /usr/local/bin/ \
 && mv "/usr/lib/python${version}" /usr/local/lib/ \
 && mkdir -p /usr/local/lib/python3/dist-packages \
 && mv /usr/lib/python3/dist-packages/pip /usr/lib/python3/dist-packages/pip-*.dist-info \
       /usr/local/lib/python3/dist-packages/ \
 && if [ -d "/usr/include/python${version}" ]; then \
        mv "/usr/include/python${version}" /usr/local/include/; \
    fi \
 && for library in /usr/lib/*/libpython"${version}".so*; do \
        if [ -e "${library}" ] || [ -L "${library}" ]; then mv "${library}" /usr/local/lib/; fi; \
    done \
 && rm -f /usr/lib/*/libpython"${version}".a \
 && ldconfig \
 && sed '1s|.*|#!/usr/local/bin/python3|' /usr/bin/pip3 > /usr/local/bin/pip \
 && chmod 755 /usr/local/bin/pip \
 && rm -f /usr/bin/python* /usr/bin/pip* \
 && ln -s "python${version}" /usr/local/bin/python3 \
 && ln -s "python${version}" /usr/local/bin/python \
 && ln -s pip /usr/local/bin/pip3 \
 && python3 -c 'import sys, sysconfig; \
paths = [sys.executable, sysconfig.get_path("stdlib"), sysconfig.get_path("include")]; \
paths += [sysconfig.get_path("purelib"), sysconfig.get_path("scripts")]; \
assert all(p.startswith("/usr/local/") and "/local/local/" not in p for p in paths), paths' \
 && pip --version \
 && ! compgen -G '/usr/bin/python*' && ! compgen -G "/usr/lib/python${version}" \
 && ! compgen -G '/usr/lib/python3/dist-packages/pip*' && ! compgen -G '/usr/lib/*/libpython*'
