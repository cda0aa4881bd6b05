"""Reading and maintaining the catalog."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from dcatalog.catalog.models import Virtue


def list_virtues(session: Session) -> Sequence[Virtue]:
    return session.scalars(select(Virtue).order_by(Virtue.position, Virtue.code)).all()
