from __future__ import annotations

from flask.testing import FlaskClient

from .conftest import register, sign_in


def post(client: FlaskClient, body: str) -> None:
    response = client.post("/", data={"post": body})
    assert response.status_code == 302


def test_post_appears_on_own_timeline(client: FlaskClient) -> None:
    register(client, "ana")
    sign_in(client, "ana")
    post(client, "first post")
    page = client.get("/").text
    assert "first post" in page


def test_follow_brings_posts_into_the_timeline(client: FlaskClient, app) -> None:
    for name in ("ana", "ben"):
        register(client, name)
    sign_in(client, "ben")
    post(client, "hello from ben")
    client.get("/auth/logout")

    sign_in(client, "ana")
    assert "hello from ben" not in client.get("/").text
    response = client.post("/follow/ben", follow_redirects=True)
    assert "You are following ben!" in response.text
    assert "1 followers" in response.text
    assert "hello from ben" in client.get("/").text

    response = client.post("/unfollow/ben", follow_redirects=True)
    assert "You are not following ben." in response.text
    assert "hello from ben" not in client.get("/").text


def test_cannot_follow_yourself(client: FlaskClient) -> None:
    register(client, "ana")
    sign_in(client, "ana")
    response = client.post("/follow/ana", follow_redirects=True)
    assert "You cannot follow yourself!" in response.text


def test_timeline_is_paged_newest_first(client: FlaskClient) -> None:
    register(client, "ana")
    sign_in(client, "ana")
    for n in range(4):  # POSTS_PER_PAGE is 3 in the tests
        post(client, f"post number {n}")
    first = client.get("/").text
    assert "post number 3" in first
    assert "post number 0" not in first
    assert "Older posts" in first
    assert "post number 0" in client.get("/?page=2").text


def test_explore_and_profile(client: FlaskClient) -> None:
    register(client, "ana")
    register(client, "ben")
    sign_in(client, "ben")
    post(client, "seen by everyone")
    client.get("/auth/logout")
    sign_in(client, "ana")
    assert "seen by everyone" in client.get("/explore").text
    profile = client.get("/user/ben").text
    assert "seen by everyone" in profile
    assert "Follow" in profile
