"""one review lifecycle for deed type versions, benefits and campaigns

Each table had its own status enum, and "submitted" was modelled three ways: a
version's ``proposed``, a campaign's ``submitted``, and for a benefit a draft
whose last review event in the audit trail was a submission. Now all three use
``dcatalog.review.ReviewStatus`` (one CHECK of the same values), with
``submitted_at`` and ``decision_note`` columns: proposed versions become
submitted, and benefits waiting for the programme office (read once from the
audit trail, here) become submitted with the time they were submitted and the
office's last note.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 17:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = ("draft", "submitted", "approved", "superseded", "retired")
# table -> (its old CHECK's name, the values it allowed, the old column length)
_OLD = {
    "deed_type_version": (
        "versionstatus",
        ("draft", "proposed", "approved", "superseded", "retired"),
        10,
    ),
    "benefit": ("benefitstatus", ("draft", "approved", "retired"), 8),
    "campaign": ("campaignstatus", ("draft", "submitted", "approved", "retired"), 9),
}


def _check(values: Sequence[str]) -> str:
    return "status IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade() -> None:
    for table, (old, _values, length) in _OLD.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f"ck_{table}_{old}"), type_="check")
            batch_op.alter_column(
                "status", existing_type=sa.String(length=length), type_=sa.String(length=10)
            )
    op.execute("UPDATE deed_type_version SET status = 'submitted' WHERE status = 'proposed'")
    with op.batch_alter_table("benefit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("decision_note", sa.Text(), nullable=False, server_default="")
        )
    _benefits_from_the_audit_trail()
    for table in _OLD:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_check_constraint(
                batch_op.f(f"ck_{table}_reviewstatus"), _check(STATUSES)
            )
            if table == "benefit":
                batch_op.alter_column("decision_note", existing_type=sa.Text(), server_default=None)
            if table != "campaign":  # the campaign's status had its index already
                batch_op.create_index(batch_op.f(f"ix_{table}_status"), ["status"], unique=False)


def _benefits_from_the_audit_trail() -> None:
    """A draft whose last review event is a submission waits for the office; the
    last send-back's reason is the office's note. Benefits are few (hundreds), so
    this reads them one by one, with the database's own types doing the work."""
    benefit = sa.table(
        "benefit",
        sa.column("id", sa.Uuid()),
        sa.column("status", sa.String()),
        sa.column("submitted_at", sa.DateTime(timezone=True)),
        sa.column("decision_note", sa.Text()),
    )
    event = sa.table(
        "audit_event",
        sa.column("id", sa.Uuid()),
        sa.column("at", sa.DateTime(timezone=True)),
        sa.column("action", sa.String()),
        sa.column("entity_type", sa.String()),
        sa.column("entity_id", sa.String()),
        sa.column("reason", sa.Text()),
    )
    bind = op.get_bind()
    drafts = bind.execute(sa.select(benefit.c.id).where(benefit.c.status == "draft")).scalars()
    for benefit_id in list(drafts):
        events = bind.execute(
            sa.select(event.c.id, event.c.action, event.c.reason)
            .where(
                event.c.entity_type == "benefit",
                event.c.entity_id == str(benefit_id),
                event.c.action.in_(("benefit.submit", "benefit.send_back")),
            )
            .order_by(event.c.at.desc(), event.c.id.desc())
        ).all()
        if not events:
            continue
        values: dict[str, object] = {}
        note = next((e.reason for e in events if e.action == "benefit.send_back"), None)
        if note:
            values["decision_note"] = note
        if events[0].action == "benefit.submit":
            values["status"] = "submitted"
            values["submitted_at"] = (
                sa.select(event.c.at).where(event.c.id == events[0].id).scalar_subquery()
            )
        if values:
            bind.execute(sa.update(benefit).where(benefit.c.id == benefit_id).values(**values))


def downgrade() -> None:
    for table in _OLD:
        with op.batch_alter_table(table, schema=None) as batch_op:
            if table != "campaign":
                batch_op.drop_index(batch_op.f(f"ix_{table}_status"))
            batch_op.drop_constraint(batch_op.f(f"ck_{table}_reviewstatus"), type_="check")
    op.execute("UPDATE deed_type_version SET status = 'proposed' WHERE status = 'submitted'")
    # A submitted benefit was a draft with a submission in the audit trail.
    op.execute("UPDATE benefit SET status = 'draft' WHERE status = 'submitted'")
    with op.batch_alter_table("benefit", schema=None) as batch_op:
        batch_op.drop_column("decision_note")
        batch_op.drop_column("submitted_at")
    for table, (old, values, length) in _OLD.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                "status", existing_type=sa.String(length=10), type_=sa.String(length=length)
            )
            batch_op.create_check_constraint(batch_op.f(f"ck_{table}_{old}"), _check(values))
