"""Alembic's entry point, run by Flask-Migrate inside the app context.

Logging is left to the app (serve.py sends it to stdout), so there is no fileConfig here.
"""

from __future__ import annotations

import logging

from alembic import context
from flask import current_app

log = logging.getLogger("alembic.env")
migrate_ext = current_app.extensions["migrate"]
metadata = migrate_ext.db.metadata


def skip_empty_revisions(context_, revision, directives) -> None:
    """`flask db migrate` with no model change should not write an empty revision."""
    if getattr(context.config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
        directives[:] = []
        log.info("no changes in schema detected")


def run_online() -> None:
    options = {"process_revision_directives": skip_empty_revisions, **migrate_ext.configure_args}
    with migrate_ext.db.engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata, **options)
        with context.begin_transaction():
            context.run_migrations()


def run_offline() -> None:
    """`flask db upgrade --sql`: print the SQL instead of running it."""
    context.configure(url=str(migrate_ext.db.engine.url), target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
