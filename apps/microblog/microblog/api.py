"""The JSON API: create users, trade basic auth for a bearer token, read users with that token."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa
from flask import Blueprint, current_app, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from .errors import json_error
from .extensions import basic_auth, db, token_auth
from .forms import EMAIL_SHAPE, USERNAME_SHAPE
from .models import User

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.route("/users", methods=["POST"])
def create_user() -> ResponseReturnValue:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return json_error(400, "send a JSON object with username, email and password")
    problem = _user_problem(data)
    if problem:
        return json_error(400, problem)
    user = User(username=data["username"], email=data["email"], about_me=data.get("about_me"))
    user.set_password(data["password"])
    db.session.add(user)
    db.session.commit()
    return user.to_dict(), 201, {"Location": url_for("api.get_user", user_id=user.id)}


@bp.route("/users/<int:user_id>")
@token_auth.login_required
def get_user(user_id: int) -> ResponseReturnValue:
    return db.get_or_404(User, user_id).to_dict()


@bp.route("/tokens", methods=["POST"])
@basic_auth.login_required
def create_token() -> ResponseReturnValue:
    user: User = basic_auth.current_user()
    lifetime = timedelta(seconds=current_app.config["TOKEN_LIFETIME_SECONDS"])
    token = user.new_token(lifetime)
    db.session.commit()
    return {"token": token, "expires_in": int(lifetime.total_seconds())}


@bp.route("/tokens", methods=["DELETE"])
@token_auth.login_required
def revoke_token() -> ResponseReturnValue:
    token_auth.current_user().revoke_token()
    db.session.commit()
    return "", 204


@bp.errorhandler(HTTPException)
def api_http_error(error: HTTPException) -> ResponseReturnValue:
    return json_error(error.code or 500)


@basic_auth.verify_password
def verify_password(username: str, password: str) -> User | None:
    user = db.session.scalar(sa.select(User).where(User.username == username))
    return user if user is not None and user.check_password(password) else None


@token_auth.verify_token
def verify_token(token: str) -> User | None:
    return User.from_token(token) if token else None


@basic_auth.error_handler
@token_auth.error_handler
def auth_error(status: int) -> ResponseReturnValue:
    return json_error(status)


def _user_problem(data: dict) -> str | None:
    for name in ("username", "email", "password"):
        if not isinstance(data.get(name), str) or not data[name]:
            return f"{name} is required"
    if not re.fullmatch(USERNAME_SHAPE, data["username"]) or len(data["username"]) > 64:
        return "username: up to 64 letters, digits, _ . -"
    if not re.fullmatch(EMAIL_SHAPE, data["email"]) or len(data["email"]) > 120:
        return "email: not an address"
    if len(data["password"]) < 8:
        return "password: at least 8 characters"
    taken = db.session.scalar(
        sa.select(User).where(sa.or_(User.username == data["username"], User.email == data["email"]))
    )
    if taken:
        return "username or email already registered"
    return None
