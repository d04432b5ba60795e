"""Users, their posts and who follows whom."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from flask_login import UserMixin

from .extensions import db, login

# Argon2id with argon2-cffi's defaults (the parameters RFC 9106 recommends for memory-constrained use).
_hasher = PasswordHasher()


def utcnow() -> datetime:
    return datetime.now(UTC)


followers = sa.Table(
    "followers",
    db.metadata,
    sa.Column("follower_id", sa.Integer, sa.ForeignKey("user.id"), primary_key=True),
    sa.Column("followed_id", sa.Integer, sa.ForeignKey("user.id"), primary_key=True),
)


class User(UserMixin, db.Model):
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    username: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True, index=True)
    email: so.Mapped[str] = so.mapped_column(sa.String(120), unique=True, index=True)
    password_hash: so.Mapped[str] = so.mapped_column(sa.String(256))
    about_me: so.Mapped[str | None] = so.mapped_column(sa.String(140))
    # Only a digest of the API token is stored: a leaked database does not leak working tokens.
    token_digest: so.Mapped[str | None] = so.mapped_column(sa.String(64), unique=True, index=True)
    token_expires: so.Mapped[datetime | None]

    posts: so.WriteOnlyMapped[Post] = so.relationship(back_populates="author")
    following: so.WriteOnlyMapped[User] = so.relationship(
        secondary=followers,
        primaryjoin=(followers.c.follower_id == id),
        secondaryjoin=(followers.c.followed_id == id),
        back_populates="followers",
    )
    followers: so.WriteOnlyMapped[User] = so.relationship(
        secondary=followers,
        primaryjoin=(followers.c.followed_id == id),
        secondaryjoin=(followers.c.follower_id == id),
        back_populates="following",
    )

    def __repr__(self) -> str:
        return f"<User {self.username}>"

    def set_password(self, password: str) -> None:
        self.password_hash = _hasher.hash(password)

    def check_password(self, password: str) -> bool:
        try:
            return _hasher.verify(self.password_hash, password)
        except VerificationError:
            return False

    def is_following(self, user: User) -> bool:
        query = self.following.select().where(User.id == user.id)
        return db.session.scalar(query) is not None

    def follow(self, user: User) -> None:
        if user is not self and not self.is_following(user):
            self.following.add(user)

    def unfollow(self, user: User) -> None:
        if self.is_following(user):
            self.following.remove(user)

    def count(self, relation: so.WriteOnlyMapped) -> int:
        query = sa.select(sa.func.count()).select_from(relation.select().subquery())
        return db.session.scalar(query) or 0

    def timeline(self) -> sa.Select:
        """Own posts and those of followed users, newest first."""
        followed = sa.select(followers.c.followed_id).where(followers.c.follower_id == self.id)
        return (
            sa.select(Post)
            .where(sa.or_(Post.user_id == self.id, Post.user_id.in_(followed)))
            .order_by(Post.timestamp.desc(), Post.id.desc())
        )

    def new_token(self, lifetime: timedelta) -> str:
        token = secrets.token_urlsafe(32)
        self.token_digest = _digest(token)
        self.token_expires = utcnow() + lifetime
        return token

    def revoke_token(self) -> None:
        self.token_digest = None
        self.token_expires = None

    @staticmethod
    def from_token(token: str) -> User | None:
        user = db.session.scalar(sa.select(User).where(User.token_digest == _digest(token)))
        if user is None or user.token_expires is None:
            return None
        # SQLite hands datetimes back without a zone; they were written in UTC.
        if user.token_expires.replace(tzinfo=UTC) < utcnow():
            return None
        return user

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "username": self.username,
            "about_me": self.about_me,
            "post_count": self.count(self.posts),
            "follower_count": self.count(self.followers),
            "following_count": self.count(self.following),
        }


class Post(db.Model):
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    body: so.Mapped[str] = so.mapped_column(sa.String(140))
    timestamp: so.Mapped[datetime] = so.mapped_column(index=True, default=utcnow)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey(User.id), index=True)

    author: so.Mapped[User] = so.relationship(back_populates="posts")

    def __repr__(self) -> str:
        return f"<Post {self.id} by {self.user_id}>"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@login.user_loader
def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id))
