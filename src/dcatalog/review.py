"""The one review lifecycle: what an agency proposes and the programme office
decides — a version of a deed type, a benefit, a campaign.

::

    draft ──submit──▶ submitted ──approve──▶ approved ──retire──▶ retired
      ▲                   │                     │
      └────send_back──────┘                     └──supersede──▶ superseded

"Submitted" is a status, stored like every other (with ``submitted_at``);
sending back returns the item to draft with the office's note, which the agency
reads until it submits again. Every step is checked against this table and
written to the audit trail in the same transaction. The domains add their own
rules around a step (who may take it, what else changes), never a step of
their own.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, Session, mapped_column

from dcatalog.actors import Actor
from dcatalog.audit import service as audit
from dcatalog.db import Base, UTCDateTime, str_enum, utcnow
from dcatalog.problems import Conflict, required_text
from dcatalog.web.i18n import gettext as _


class ReviewStatus(StrEnum):
    DRAFT = "draft"  # the agency writes it (a sent-back one is a draft with a note)
    SUBMITTED = "submitted"  # waiting for the programme office
    APPROVED = "approved"  # in force: offered, shown, counted
    SUPERSEDED = "superseded"  # a newer approved version took its place (deed types)
    RETIRED = "retired"  # no longer in force, with the reason in the audit trail


# step -> (the statuses it may start from, the status it leads to)
STEPS: dict[str, tuple[frozenset[ReviewStatus], ReviewStatus]] = {
    "submit": (frozenset({ReviewStatus.DRAFT}), ReviewStatus.SUBMITTED),
    "send_back": (frozenset({ReviewStatus.SUBMITTED}), ReviewStatus.DRAFT),
    "approve": (frozenset({ReviewStatus.SUBMITTED}), ReviewStatus.APPROVED),
    "supersede": (frozenset({ReviewStatus.APPROVED}), ReviewStatus.SUPERSEDED),
    "retire": (frozenset({ReviewStatus.APPROVED}), ReviewStatus.RETIRED),
}


class Reviewed:
    """The review columns of a table whose rows go through the lifecycle."""

    status: Mapped[ReviewStatus] = mapped_column(str_enum(ReviewStatus), index=True)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(300))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str] = mapped_column(Text, default="")  # the office's last word

    @property
    def waiting(self) -> bool:
        """Submitted, and no decision yet."""
        return self.status is ReviewStatus.SUBMITTED

    @property
    def sent_back(self) -> bool:
        return self.status is ReviewStatus.DRAFT and bool(self.decision_note)


def move(
    session: Session,
    actor: Actor,
    item: Base,
    step: str,
    *,
    name: str,
    action: str,
    agency_id: uuid.UUID | None,
    note: str = "",
) -> None:
    """Take ``step`` (a key of ``STEPS``) on ``item``, or raise ``Conflict``
    saying where it stands; audited as ``action`` (with ``note`` as the reason).
    Sending back needs a note: the agency must learn what to change."""
    if not isinstance(item, Reviewed):
        raise TypeError(f"{type(item).__name__} has no review columns")
    if step == "send_back":
        required_text(note, "note", "Say what the agency should change.")
    starts, target = STEPS[step]
    if item.status not in starts:
        raise Conflict(f"{name} is {item.status.value}: it cannot be {_done(step)}.")
    before: dict[str, Any] = audit.snapshot(item)
    item.status = target
    now = utcnow()
    if step == "submit":
        item.submitted_at = now
    elif step in ("approve", "send_back"):
        item.decided_by, item.decided_at, item.decision_note = actor.label, now, note.strip()
    audit.record(
        session, actor, action, item, before=before, reason=note.strip(), agency_id=agency_id
    )


def status_labels() -> dict[str, str]:
    """How each status reads on a page, in the reader's language (one set of words
    for deed types, benefits and campaigns)."""
    return {
        ReviewStatus.DRAFT.value: _("Draft"),
        ReviewStatus.SUBMITTED.value: _("Waiting for approval"),
        ReviewStatus.APPROVED.value: _("Approved, in force"),
        ReviewStatus.SUPERSEDED.value: _("Superseded"),
        ReviewStatus.RETIRED.value: _("Retired"),
    }


def _done(step: str) -> str:
    return {
        "submit": "submitted",
        "send_back": "sent back",
        "approve": "approved",
        "supersede": "superseded",
        "retire": "retired",
    }[step]
