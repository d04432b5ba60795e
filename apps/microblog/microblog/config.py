"""Settings, read once from the environment (twelve-factor: the image is the same everywhere)."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field


def _env(name: str, default: str) -> str:
    return os.environ.get(name) or default


@dataclass
class Config:
    """Flask reads the upper-case attributes of this object (app.config.from_object)."""

    # Without SECRET_KEY every start makes a new key, so sessions and tokens die with the process:
    # fine for a demo, never for a deployment (serve.py warns about it).
    SECRET_KEY: str = field(default_factory=lambda: _env("SECRET_KEY", secrets.token_hex(32)))
    # /tmp is writable even in a --read-only container with a tmpfs there.
    SQLALCHEMY_DATABASE_URI: str = field(
        default_factory=lambda: _env("DATABASE_URL", "sqlite:////tmp/microblog.db")
    )
    LOG_LEVEL: str = field(default_factory=lambda: _env("LOG_LEVEL", "INFO").upper())
    POSTS_PER_PAGE: int = field(default_factory=lambda: int(_env("POSTS_PER_PAGE", "20")))
    TOKEN_LIFETIME_SECONDS: int = field(default_factory=lambda: int(_env("TOKEN_LIFETIME_SECONDS", "3600")))
    LANGUAGES: tuple[str, ...] = ("en", "es")
    # Compiled catalogues (.mo) live beside their sources (.po): `pybabel compile -d microblog/translations`.
    BABEL_TRANSLATION_DIRECTORIES: str = "translations"
    SESSION_COOKIE_HTTPONLY: bool = True
    SESSION_COOKIE_SAMESITE: str = "Lax"
