"""microblog: a small Flask blog with users, posts, followers, a JSON API and translations."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask, current_app, request
from flask_babel import get_locale

from .config import Config
from .extensions import babel, db, login, migrate

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """The app factory: one app per call, so tests can each have their own database."""
    app = Flask(__name__)
    app.config.from_object(Config())
    app.config.from_mapping(overrides or {})
    app.logger.setLevel(app.config["LOG_LEVEL"])

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS), render_as_batch=True)
    login.init_app(app)
    login.login_view = "auth.login"
    babel.init_app(app, locale_selector=_pick_locale)
    app.jinja_env.globals["get_locale"] = get_locale

    from . import api, auth, errors, main

    app.register_blueprint(main.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(api.bp)
    errors.register_error_pages(app)
    _warn_if_untranslated(app)
    return app


def _pick_locale() -> str | None:
    return request.accept_languages.best_match(current_app.config["LANGUAGES"])


def _warn_if_untranslated(app: Flask) -> None:
    """The .mo files are built, not committed: say so when the build step was skipped."""
    translations = Path(app.root_path) / app.config["BABEL_TRANSLATION_DIRECTORIES"]
    if not any(translations.glob("*/LC_MESSAGES/messages.mo")):
        logging.getLogger(__name__).warning(
            "no compiled translations in %s: run `pybabel compile -d %s`", translations, translations
        )
