"""Partner agencies."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from dcatalog.agencies.models import Agency, AgencyStatus


def list_active_agencies(session: Session) -> Sequence[Agency]:
    query = (
        select(Agency)
        .where(Agency.status == AgencyStatus.ACTIVE)
        .order_by(Agency.kind, Agency.code)
    )
    return session.scalars(query).all()
