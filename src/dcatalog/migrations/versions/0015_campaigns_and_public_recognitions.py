"""campaigns and public recognitions

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-26 22:34:24.622728
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "campaign",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("agency_id", sa.Uuid(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "submitted",
                "approved",
                "retired",
                name="campaignstatus",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("title_th", sa.String(length=200), nullable=False),
        sa.Column("title_en", sa.String(length=200), nullable=False),
        sa.Column("description_th", sa.Text(), nullable=False),
        sa.Column("description_en", sa.Text(), nullable=False),
        sa.Column("deed_types", sa.JSON(), nullable=False),
        sa.Column("provinces", sa.JSON(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column(
            "goal_measure",
            sa.Enum(
                "count",
                "quantity",
                "citizens",
                name="goalmeasure",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("goal", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=300), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=False),
        sa.CheckConstraint("code = lower(code)", name=op.f("ck_campaign_code_lowercase")),
        sa.CheckConstraint("ends_on >= starts_on", name=op.f("ck_campaign_ends_after_start")),
        sa.CheckConstraint("goal > 0", name=op.f("ck_campaign_goal_positive")),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agency.id"], name=op.f("fk_campaign_agency_id_agency")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign")),
        sa.UniqueConstraint("code", name=op.f("uq_campaign_code")),
    )
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_campaign_agency_id"), ["agency_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_campaign_status"), ["status"], unique=False)

    with op.batch_alter_table("award", schema=None) as batch_op:
        batch_op.add_column(sa.Column("public_name", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("public_since", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            "ix_award_public",
            ["public_since"],
            unique=False,
            sqlite_where=sa.text("public_name IS NOT NULL"),
            postgresql_where=sa.text("public_name IS NOT NULL"),
        )

    # Campaign progress and the public national counters read verified deeds "of
    # these types, in this period"; the deed table's indexes all start with the
    # citizen. Partial: only verified deeds count, so pending and revoked ones stay
    # out of it. A plain CREATE INDEX (no batch: the deed table is never copied).
    # On a large PostgreSQL database build it first with CREATE INDEX CONCURRENTLY
    # under the same name and predicate; see docs/campaigns.md.
    op.create_index(
        "ix_deed_verified_type_day",
        "deed",
        ["deed_type_code", "occurred_on"],
        unique=False,
        sqlite_where=sa.text("status = 'verified'"),
        postgresql_where=sa.text("status = 'verified'"),
        if_not_exists=True,
    )


def downgrade() -> None:
    op.drop_index("ix_deed_verified_type_day", table_name="deed")

    with op.batch_alter_table("award", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_award_public",
            sqlite_where=sa.text("public_name IS NOT NULL"),
            postgresql_where=sa.text("public_name IS NOT NULL"),
        )
        batch_op.drop_column("public_since")
        batch_op.drop_column("public_name")

    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_campaign_status"))
        batch_op.drop_index(batch_op.f("ix_campaign_agency_id"))

    op.drop_table("campaign")
