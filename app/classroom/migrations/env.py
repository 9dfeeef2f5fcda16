"""Alembic's entry point. Run by ``app.classroom.db.migrate()`` at start-up, with the
connection to migrate passed in ``config.attributes["connection"]``."""

from __future__ import annotations

from alembic import context

from app.classroom.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
