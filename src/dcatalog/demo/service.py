"""Loading the demo data: idempotent, so `dcatalog demo` can run again to refresh."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from dcatalog.agencies.models import Agency
from dcatalog.demo.data import AGENCIES


@dataclass
class DemoSummary:
    agencies_created: int = 0
    agencies_updated: int = 0


def load_demo(session: Session) -> DemoSummary:
    summary = DemoSummary()
    existing = {agency.code: agency for agency in session.scalars(select(Agency))}
    for fields in AGENCIES:
        agency = existing.get(str(fields["code"]))
        if agency is None:
            session.add(Agency(**fields))
            summary.agencies_created += 1
            continue
        changed = False
        for name, value in fields.items():
            if getattr(agency, name) != value:
                setattr(agency, name, value)
                changed = True
        summary.agencies_updated += changed
    session.commit()
    return summary
