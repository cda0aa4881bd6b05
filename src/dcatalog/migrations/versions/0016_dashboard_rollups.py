"""dashboard rollups

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-26 22:35:26.104656
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stats_cell",
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("virtue_code", sa.String(length=32), nullable=False),
        sa.Column("deed_type_code", sa.String(length=64), nullable=False),
        sa.Column("agency", sa.String(length=32), nullable=False),
        sa.Column("province", sa.String(length=5), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("deeds", sa.BigInteger(), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("hours", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("donations", sa.BigInteger(), nullable=False),
        sa.Column("credits", sa.BigInteger(), nullable=False),
        sa.Column("citizens", sa.BigInteger(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "shown",
                "small",
                "complementary",
                name="cellstatus",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("claims", sa.BigInteger(), nullable=False),
        sa.Column("claimants", sa.BigInteger(), nullable=False),
        sa.Column(
            "claims_status",
            sa.Enum(
                "shown",
                "small",
                "complementary",
                name="claims_cellstatus",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint(
            "period",
            "virtue_code",
            "deed_type_code",
            "agency",
            "province",
            name=op.f("pk_stats_cell"),
        ),
    )
    with op.batch_alter_table("stats_cell", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_stats_cell_fiscal_year"), ["fiscal_year"], unique=False
        )

    op.create_table(
        "stats_refresh",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "running",
                "done",
                "failed",
                name="refreshstatus",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("started_by", sa.String(length=300), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fiscal_years", sa.Text(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("cells", sa.Integer(), nullable=False),
        sa.Column("milliseconds", sa.Integer(), nullable=False),
        sa.Column("failure", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stats_refresh")),
    )
    with op.batch_alter_table("stats_refresh", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_stats_refresh_started_at"), ["started_at"], unique=False
        )

    op.create_table(
        "stats_rollup",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("province", sa.String(length=5), nullable=False),
        sa.Column("virtue_code", sa.String(length=32), nullable=False),
        sa.Column("deed_type_code", sa.String(length=64), nullable=False),
        sa.Column("agency_id", sa.Uuid(), nullable=False),
        sa.Column("deeds", sa.BigInteger(), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("credits", sa.BigInteger(), nullable=False),
        sa.Column("changes", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "month",
            "province",
            "virtue_code",
            "deed_type_code",
            "agency_id",
            name=op.f("pk_stats_rollup"),
        ),
    )


def downgrade() -> None:
    op.drop_table("stats_rollup")
    with op.batch_alter_table("stats_refresh", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stats_refresh_started_at"))

    op.drop_table("stats_refresh")
    with op.batch_alter_table("stats_cell", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stats_cell_fiscal_year"))

    op.drop_table("stats_cell")
