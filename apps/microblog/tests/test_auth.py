from __future__ import annotations

from flask.testing import FlaskClient

from .conftest import register, sign_in


def test_welcome_page_for_visitors(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert "Welcome to Microblog" in response.text


def test_register_then_sign_in_and_out(client: FlaskClient) -> None:
    register(client, "ana")
    sign_in(client, "ana")
    assert "Hi, ana!" in client.get("/").text
    client.get("/auth/logout")
    assert "Welcome to Microblog" in client.get("/").text


def test_wrong_password_is_refused(client: FlaskClient) -> None:
    register(client, "ana")
    response = client.post(
        "/auth/login", data={"username": "ana", "password": "wrong"}, follow_redirects=True
    )
    assert "Invalid username or password" in response.text
    assert "Hi, ana!" not in client.get("/").text


def test_taken_username_and_mismatched_passwords(client: FlaskClient) -> None:
    register(client, "ana")
    response = client.post(
        "/auth/register",
        data={
            "username": "ana",
            "email": "other@example.com",
            "password": "12345678",
            "password2": "87654321",
        },
    )
    assert response.status_code == 200
    assert "That username is taken." in response.text
    assert "Field must be equal to password." in response.text


def test_pages_need_a_session(client: FlaskClient) -> None:
    response = client.get("/explore")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login?next=")


def test_next_only_goes_to_this_site(client: FlaskClient) -> None:
    register(client, "ana")
    response = client.post(
        "/auth/login?next=https://elsewhere.example/", data={"username": "ana", "password": "correct horse"}
    )
    assert response.headers["Location"] == "/"
