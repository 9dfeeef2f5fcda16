"""API keys of teachers, and each class's spotlight (the program on the projector).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("teacher_id", sa.Integer,
                  sa.ForeignKey("teachers.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("class_id", sa.Integer,
                  sa.ForeignKey("classes.id", ondelete="CASCADE"), nullable=True, index=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False, unique=True),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("rate_limit_per_minute", sa.Integer, nullable=False),
        sa.Column("max_runs", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "spotlights",
        sa.Column("class_id", sa.Integer,
                  sa.ForeignKey("classes.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("attempt_id", sa.Integer,
                  sa.ForeignKey("attempts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
    )


def downgrade() -> None:
    op.drop_table("spotlights")
    op.drop_table("api_keys")
