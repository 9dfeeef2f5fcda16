"""Teachers' own exercises, and the variant each attempt was checked with.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "teacher_exercises",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("teacher_id", sa.Integer,
                  sa.ForeignKey("teachers.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("prompt_en", sa.Text, nullable=False),
        sa.Column("prompt_ja", sa.Text, nullable=False),
        sa.Column("starter", sa.Text, nullable=False),
        sa.Column("solution", sa.Text, nullable=False),
        sa.Column("checks", sa.Text, nullable=False),
        sa.Column("params", sa.Text, nullable=False),
        sa.Column("seed", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
    )
    # A plain ADD COLUMN with a constant default: SQLite and PostgreSQL both fill the rows
    # already there, without rebuilding the table.
    op.add_column("attempts", sa.Column("variant", sa.Text, nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("attempts") as batch:  # SQLite drops a column by a rebuild
        batch.drop_column("variant")
    op.drop_table("teacher_exercises")
