"""a random alias names the citizen in the audit trail and proposals

Until now they named a citizen ``citizen:<first 12 hex of the key>``, which
stays linkable to the person after erasure (anyone holding the pepper and the ID
can recompute it). The alias is random and lives on the citizen's row, which
erasure deletes. Existing mentions are rewritten to the new alias here, once.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 13:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column) that hold a citizen's label.
_MENTIONS = (
    ("audit_event", "actor"),
    ("proposal", "proposer_ref"),
    ("proposal_support", "supporter_ref"),
    ("proposal_comment", "author_ref"),
)


def upgrade() -> None:
    with op.batch_alter_table("citizen", schema=None) as batch_op:
        batch_op.add_column(sa.Column("alias", sa.String(length=32), nullable=True))
    # Set-based, so that millions of citizens take a few statements: 16 random hex
    # characters from each database's own CSPRNG.
    sqlite = op.get_bind().dialect.name == "sqlite"
    random_hex = (
        "lower(hex(randomblob(8)))"
        if sqlite
        else "substr(replace(gen_random_uuid()::text, '-', ''), 1, 16)"
    )
    op.execute(f"UPDATE citizen SET alias = {random_hex}")  # noqa: S608 (no input)
    prefix = "substr(citizen.citizen_key, 1, 12)"
    for table, column in _MENTIONS:
        op.execute(
            f"UPDATE {table} SET {column} = 'citizen:' || citizen.alias FROM citizen"  # noqa: S608
            f" WHERE {table}.{column} = 'citizen:' || {prefix}"
        )
    with op.batch_alter_table("citizen", schema=None) as batch_op:
        batch_op.alter_column("alias", existing_type=sa.String(length=32), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_citizen_alias"), ["alias"])


def downgrade() -> None:
    with op.batch_alter_table("citizen", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_citizen_alias"), type_="unique")
        batch_op.drop_column("alias")
