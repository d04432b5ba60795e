#!/bin/sh
# Like the official node images: `docker run IMAGE -e "1+1"` or `docker run IMAGE app.js` runs node;
# anything else (`docker run IMAGE npm test`, `bash`) runs as given.
set -e
case "${1:-}" in
    -*) set -- node "$@" ;;
    *) if [ -n "${1:-}" ] && ! command -v -- "$1" >/dev/null 2>&1; then set -- node "$@"; fi ;;
esac
exec "$@"
