"""Start-up in Python, not in a shell script (distroless images have no shell):
apply the database migrations, then serve the app with gunicorn on 0.0.0.0:$PORT.

    python -m microblog.serve
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

from flask import Flask
from flask_migrate import upgrade
from gunicorn.app.base import BaseApplication

from . import create_app
from .extensions import db

log = logging.getLogger("microblog.serve")


class Gunicorn(BaseApplication):
    """gunicorn run in-process with settings from a dict instead of a command line or config file."""

    def __init__(self, app: Flask, options: dict[str, Any]) -> None:
        self.app = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.app


def gunicorn_options(environ: os._Environ[str] | dict[str, str]) -> dict[str, Any]:
    level = environ.get("LOG_LEVEL", "info").lower()
    return {
        "bind": f"0.0.0.0:{environ.get('PORT', '5000')}",
        "workers": int(environ.get("WEB_CONCURRENCY", "2")),
        "loglevel": level,
        "accesslog": "-",
        # Containers collect stdout; gunicorn's "-" error log would be stderr, so route both to stdout.
        "logconfig_dict": _stdout_logging(level),
        # The container engine manages the process; no control socket under $HOME (read-only there).
        "control_socket_disable": True,
        # gunicorn stops on SIGTERM: workers finish their requests within this many seconds.
        "graceful_timeout": int(environ.get("GRACEFUL_TIMEOUT", "10")),
    }


def _stdout_logging(level: str) -> dict[str, Any]:
    handler = {"class": "logging.StreamHandler", "stream": "ext://sys.stdout", "formatter": "plain"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "plain": {"format": "%(asctime)s [%(process)d] [%(levelname)s] %(name)s: %(message)s"}
        },
        "handlers": {"stdout": handler},
        "root": {"level": level.upper(), "handlers": ["stdout"]},
        "loggers": {
            "gunicorn.error": {"level": level.upper(), "handlers": [], "propagate": True},
            "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": True},
        },
    }


def migrate_database(app: Flask) -> None:
    with app.app_context():
        upgrade()
        # The workers are forked from this process: they must not share its open database connections.
        db.engine.dispose()


def main() -> None:
    options = gunicorn_options(os.environ)
    logging.basicConfig(
        stream=sys.stdout,
        level=options["loglevel"].upper(),
        format="%(asctime)s [%(process)d] [%(levelname)s] %(name)s: %(message)s",
    )
    if not os.environ.get("SECRET_KEY"):
        log.warning("SECRET_KEY is not set: using a random key, sessions and tokens end with this process")
    app = create_app()
    log.info("applying migrations to %s", app.config["SQLALCHEMY_DATABASE_URI"])
    migrate_database(app)
    Gunicorn(app, options).run()


if __name__ == "__main__":
    main()
