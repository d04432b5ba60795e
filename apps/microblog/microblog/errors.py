"""Error pages: HTML for people, JSON for API clients (anything under /api/)."""

from __future__ import annotations

from flask import Flask, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.http import HTTP_STATUS_CODES

from .extensions import db


def json_error(status: int, message: str | None = None) -> ResponseReturnValue:
    body: dict[str, object] = {"error": HTTP_STATUS_CODES.get(status, "Unknown error")}
    if message:
        body["message"] = message
    return body, status


def register_error_pages(app: Flask) -> None:
    @app.errorhandler(404)
    def not_found(error: HTTPException) -> ResponseReturnValue:
        if request.path.startswith("/api/"):
            return json_error(404)
        return render_template("errors/404.html"), 404

    @app.errorhandler(InternalServerError)
    def internal_error(error: InternalServerError) -> ResponseReturnValue:
        # The failed request may have left the session mid-transaction.
        db.session.rollback()
        if request.path.startswith("/api/"):
            return json_error(500)
        return render_template("errors/500.html"), 500
