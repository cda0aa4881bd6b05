"""cell-key perturbation: the dashboard's cells keep their cell keys

The snapshot now publishes perturbed figures instead of hiding the complements
of small cells (``stats.perturbation``). Each cell keeps the cell keys its
figures were perturbed with, so a check can recompute them. The refreshes'
change counters are cleared: the next refresh recomputes every fiscal year
under the new method (until then the old cells, hidden the old way, stay).

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-08 00:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("stats_cell", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("cell_key", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("claims_key", sa.BigInteger(), nullable=False, server_default="0")
        )
    op.execute("UPDATE stats_refresh SET changes = '{}'")


def downgrade() -> None:
    with op.batch_alter_table("stats_cell", schema=None) as batch_op:
        batch_op.drop_column("claims_key")
        batch_op.drop_column("cell_key")
