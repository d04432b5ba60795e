"""The Flask extensions, created unbound so that every app the factory makes can init them."""

from __future__ import annotations

from flask_babel import Babel
from flask_httpauth import HTTPBasicAuth, HTTPTokenAuth
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login = LoginManager()
babel = Babel()
basic_auth = HTTPBasicAuth()  # POST /api/tokens: username and password
token_auth = HTTPTokenAuth(scheme="Bearer")  # every other API call
