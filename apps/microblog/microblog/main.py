"""The pages a signed-in user sees: timeline, explore, profiles, follow and unfollow."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import _
from flask_login import current_user, login_required
from flask_sqlalchemy.pagination import Pagination

from .extensions import db
from .forms import EmptyForm, PostForm
from .models import Post, User

bp = Blueprint("main", __name__)


@bp.route("/healthz")
def healthz() -> ResponseReturnValue:
    """For probes: answers only when the database does."""
    db.session.execute(sa.text("SELECT 1"))
    return {"status": "ok"}


@bp.route("/", methods=["GET", "POST"])
def index() -> ResponseReturnValue:
    if not current_user.is_authenticated:
        return render_template("main/welcome.html", title=_("Welcome"))
    form = PostForm()
    if form.validate_on_submit():
        db.session.add(Post(body=form.post.data, author=current_user))
        db.session.commit()
        flash(_("Your post is now live!"))
        # Post/Redirect/Get: a reload does not post twice.
        return redirect(url_for("main.index"))
    posts = _page(current_user.timeline())
    return render_template("main/index.html", title=_("Home"), form=form, posts=posts, endpoint="main.index")


@bp.route("/explore")
@login_required
def explore() -> ResponseReturnValue:
    posts = _page(sa.select(Post).order_by(Post.timestamp.desc(), Post.id.desc()))
    return render_template("main/index.html", title=_("Explore"), posts=posts, endpoint="main.explore")


@bp.route("/user/<username>")
@login_required
def user(username: str) -> ResponseReturnValue:
    shown = db.first_or_404(sa.select(User).where(User.username == username))
    posts = _page(shown.posts.select().order_by(Post.timestamp.desc(), Post.id.desc()))
    return render_template("main/user.html", user=shown, posts=posts, form=EmptyForm())


@bp.route("/follow/<username>", methods=["POST"])
@login_required
def follow(username: str) -> ResponseReturnValue:
    return _change_following(username, follow=True)


@bp.route("/unfollow/<username>", methods=["POST"])
@login_required
def unfollow(username: str) -> ResponseReturnValue:
    return _change_following(username, follow=False)


def _change_following(username: str, *, follow: bool) -> ResponseReturnValue:
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("main.index"))
    other = db.first_or_404(sa.select(User).where(User.username == username))
    if other == current_user:
        flash(_("You cannot follow yourself!"))
    elif follow:
        current_user.follow(other)
        db.session.commit()
        flash(_("You are following %(username)s!", username=username))
    else:
        current_user.unfollow(other)
        db.session.commit()
        flash(_("You are not following %(username)s.", username=username))
    return redirect(url_for("main.user", username=username))


def _page(query: sa.Select) -> Pagination:
    page = request.args.get("page", 1, type=int)
    return db.paginate(query, page=page, per_page=current_app.config["POSTS_PER_PAGE"], error_out=False)
