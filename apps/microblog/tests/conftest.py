from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade

from microblog import create_app
from microblog.extensions import db

TRANSLATIONS = Path(__file__).parents[1] / "microblog" / "translations"


@pytest.fixture(scope="session")
def compiled_translations(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What `pybabel compile` makes at build time, made here so the tests need no build step."""
    out = tmp_path_factory.mktemp("translations")
    for po in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        mo = out / po.relative_to(TRANSLATIONS).with_suffix(".mo")
        mo.parent.mkdir(parents=True)
        with po.open("rb") as source, mo.open("wb") as target:
            write_mo(target, read_po(source))
    return out


@pytest.fixture
def app(compiled_translations: Path) -> Iterator[Flask]:
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            # Flask-SQLAlchemy keeps one connection for an in-memory SQLite URL, so the schema survives.
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "WTF_CSRF_ENABLED": False,
            "BABEL_TRANSLATION_DIRECTORIES": str(compiled_translations),
            "POSTS_PER_PAGE": 3,
        }
    )
    with app.app_context():
        upgrade()  # the real migrations, not create_all(): they must match the models
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def register(client: FlaskClient, username: str, password: str = "correct horse") -> None:
    response = client.post(
        "/auth/register",
        data={
            "username": username,
            "email": f"{username}@example.com",
            "password": password,
            "password2": password,
        },
    )
    assert response.status_code == 302, response.text


def sign_in(client: FlaskClient, username: str, password: str = "correct horse") -> None:
    response = client.post("/auth/login", data={"username": username, "password": password})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
