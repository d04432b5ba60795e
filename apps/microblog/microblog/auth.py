"""Register, sign in and sign out (browser sessions via Flask-Login)."""

from __future__ import annotations

from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import _
from flask_login import current_user, login_user, logout_user

from .extensions import db
from .forms import LoginForm, RegistrationForm
from .models import User

bp = Blueprint("auth", __name__, url_prefix="/auth")


@bp.route("/register", methods=["GET", "POST"])
def register() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = RegistrationForm()
    if form.validate_on_submit():
        user = User(username=form.username.data, email=form.email.data)
        user.set_password(form.password.data)
        db.session.add(user)
        db.session.commit()
        flash(_("Welcome, %(username)s! Please sign in.", username=user.username))
        return redirect(url_for("auth.login"))
    return render_template("auth/register.html", title=_("Register"), form=form)


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.scalar(sa.select(User).where(User.username == form.username.data))
        if user is None or not user.check_password(form.password.data):
            flash(_("Invalid username or password"))
            return redirect(url_for("auth.login"))
        login_user(user, remember=form.remember_me.data)
        return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", title=_("Sign in"), form=form)


@bp.route("/logout")
def logout() -> ResponseReturnValue:
    logout_user()
    return redirect(url_for("main.index"))


def _safe_next(target: str | None) -> str:
    """Only follow ?next= to a path on this site: anything else would be an open redirect."""
    if not target or urlsplit(target).netloc or urlsplit(target).scheme or not target.startswith("/"):
        return url_for("main.index")
    return target
