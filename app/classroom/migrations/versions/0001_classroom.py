"""The classroom: teachers, classes, assignments, students, attempts.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _created_at() -> sa.Column[object]:
    return sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                     server_default=sa.func.now())


def upgrade() -> None:
    op.create_table(
        "teachers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("session_generation", sa.Integer, nullable=False),
        _created_at(),
    )
    op.create_table(
        "classes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("teacher_id", sa.Integer,
                  sa.ForeignKey("teachers.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("join_code", sa.String(16), nullable=False, unique=True),
        sa.Column("joining_open", sa.Boolean, nullable=False),
        sa.Column("archived", sa.Boolean, nullable=False),
        _created_at(),
    )
    op.create_table(
        "assignments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("class_id", sa.Integer,
                  sa.ForeignKey("classes.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("lesson_id", sa.String(100), nullable=False),
        sa.Column("exercise_id", sa.String(100), nullable=False),
        sa.UniqueConstraint("class_id", "lesson_id", "exercise_id"),
    )
    op.create_table(
        "students",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("class_id", sa.Integer,
                  sa.ForeignKey("classes.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("recovery_hash", sa.String(64), nullable=False, unique=True),
        _created_at(),
    )
    op.create_table(
        "attempts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("student_id", sa.Integer,
                  sa.ForeignKey("students.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("lesson_id", sa.String(100), nullable=False),
        sa.Column("exercise_id", sa.String(100), nullable=False),
        sa.Column("passed", sa.Boolean, nullable=False),
        sa.Column("error_type", sa.String(100), nullable=False),
        sa.Column("code", sa.Text, nullable=False),
        _created_at(),
    )


def downgrade() -> None:
    for table in ("attempts", "students", "assignments", "classes", "teachers"):
        op.drop_table(table)
