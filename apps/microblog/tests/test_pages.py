"""Health, error pages and translations."""

from __future__ import annotations

import pytest
from flask import Flask, abort
from flask.testing import FlaskClient


def test_healthz(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_404_is_html_for_people(client: FlaskClient) -> None:
    response = client.get("/nope")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "There is no page at this address." in response.text


def test_404_is_json_under_api(client: FlaskClient) -> None:
    response = client.get("/api/nope")
    assert response.status_code == 404
    assert response.json == {"error": "Not Found"}


@pytest.fixture
def failing_app(app: Flask) -> Flask:
    app.config["TESTING"] = False  # let the error handler answer instead of re-raising

    @app.route("/boom")
    @app.route("/api/boom")
    def boom() -> None:
        abort(500)

    return app


def test_500_pages(failing_app: Flask) -> None:
    client = failing_app.test_client()
    html = client.get("/boom")
    assert html.status_code == 500
    assert "Something went wrong" in html.text
    api = client.get("/api/boom")
    assert api.status_code == 500
    assert api.json == {"error": "Internal Server Error"}


def test_spanish_for_a_spanish_browser(client: FlaskClient) -> None:
    response = client.get("/", headers={"Accept-Language": "es-ES,es;q=0.9"})
    assert "Bienvenido a Microblog" in response.text
    assert '<html lang="es">' in response.text
