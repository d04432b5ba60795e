"""Browser forms. Flask-WTF adds a CSRF token to each one."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp, ValidationError

from .extensions import db
from .models import User

# Enough to catch typos; whether the address exists is for a confirmation mail to find out.
EMAIL_SHAPE = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
USERNAME_SHAPE = r"^[A-Za-z0-9_.-]+$"


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    remember_me = BooleanField(_l("Remember me"))
    submit = SubmitField(_l("Sign in"))


class RegistrationForm(FlaskForm):
    username = StringField(
        _l("Username"),
        validators=[
            DataRequired(),
            Length(max=64),
            Regexp(USERNAME_SHAPE, message=_l("Letters, digits, _ . -")),
        ],
    )
    email = StringField(
        _l("Email"),
        validators=[DataRequired(), Length(max=120), Regexp(EMAIL_SHAPE, message=_l("Invalid email"))],
    )
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(min=8)])
    password2 = PasswordField(_l("Repeat password"), validators=[DataRequired(), EqualTo("password")])
    submit = SubmitField(_l("Register"))

    def validate_username(self, field: StringField) -> None:
        if db.session.scalar(sa.select(User).where(User.username == field.data)):
            raise ValidationError(_l("That username is taken."))

    def validate_email(self, field: StringField) -> None:
        if db.session.scalar(sa.select(User).where(User.email == field.data)):
            raise ValidationError(_l("That email is already registered."))


class PostForm(FlaskForm):
    post = TextAreaField(_l("Say something"), validators=[DataRequired(), Length(max=140)])
    submit = SubmitField(_l("Post"))


class EmptyForm(FlaskForm):
    """Follow and unfollow buttons: a POST with nothing but the CSRF token."""

    submit = SubmitField(_l("Submit"))
