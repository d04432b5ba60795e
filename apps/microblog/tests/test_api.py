from __future__ import annotations

from base64 import b64encode

from flask.testing import FlaskClient

ANA = {"username": "ana", "email": "ana@example.com", "password": "correct horse"}


def basic(username: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + b64encode(f"{username}:{password}".encode()).decode()}


def test_create_user(client: FlaskClient) -> None:
    response = client.post("/api/users", json=ANA)
    assert response.status_code == 201
    assert response.json == {
        "id": 1,
        "username": "ana",
        "about_me": None,
        "post_count": 0,
        "follower_count": 0,
        "following_count": 0,
    }
    assert response.headers["Location"] == "/api/users/1"


def test_create_user_rejects_bad_input(client: FlaskClient) -> None:
    assert client.post("/api/users", data="not json").status_code == 400
    response = client.post("/api/users", json={**ANA, "password": "short"})
    assert response.status_code == 400
    assert response.json == {"error": "Bad Request", "message": "password: at least 8 characters"}
    client.post("/api/users", json=ANA)
    response = client.post("/api/users", json=ANA)
    assert response.status_code == 400
    assert "already registered" in response.json["message"]


def test_token_flow(client: FlaskClient) -> None:
    client.post("/api/users", json=ANA)
    assert client.get("/api/users/1").status_code == 401

    assert client.post("/api/tokens", headers=basic("ana", "wrong")).status_code == 401
    response = client.post("/api/tokens", headers=basic("ana", "correct horse"))
    assert response.status_code == 200
    token = response.json["token"]
    bearer = {"Authorization": f"Bearer {token}"}

    response = client.get("/api/users/1", headers=bearer)
    assert response.status_code == 200
    assert response.json["username"] == "ana"
    assert client.get("/api/users/99", headers=bearer).json == {"error": "Not Found"}

    assert client.delete("/api/tokens", headers=bearer).status_code == 204
    assert client.get("/api/users/1", headers=bearer).status_code == 401


def test_expired_token_is_refused(client: FlaskClient, app) -> None:
    app.config["TOKEN_LIFETIME_SECONDS"] = -1
    client.post("/api/users", json=ANA)
    token = client.post("/api/tokens", headers=basic("ana", "correct horse")).json["token"]
    response = client.get("/api/users/1", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json == {"error": "Unauthorized"}
