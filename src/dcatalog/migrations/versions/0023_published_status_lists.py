"""published status lists: one signed document per list and address

Status lists are signed once per change and kept (``published_status_list``),
so every app host serves the same document; they now carry ``validUntil`` and
the workers republish them (``credentials.status_lists``).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-04 19:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "published_status_list",
        sa.Column("base_url", sa.String(length=300), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("bits_sha256", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=300), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("base_url", "number", name=op.f("pk_published_status_list")),
    )


def downgrade() -> None:
    op.drop_table("published_status_list")
