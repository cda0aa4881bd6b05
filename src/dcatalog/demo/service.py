"""Loading the demo data: idempotent, so `dcatalog demo` can run again to refresh.

Everything goes through the real services (as the operator's CLI), so the demo
obeys the same rules and leaves the same audit trail as real use.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from dcatalog.accounts import service as accounts
from dcatalog.accounts.models import StaffAccount
from dcatalog.accounts.permissions import Role
from dcatalog.actors import SYSTEM
from dcatalog.agencies.models import Agency
from dcatalog.agencies.service import get_agency
from dcatalog.catalog import service as catalog
from dcatalog.catalog.models import DeedType
from dcatalog.catalog.schemas import DeedTypeFields, NewDeedType
from dcatalog.db import transactional
from dcatalog.demo.data import AGENCIES, DEED_TYPES, DEMO_ACCOUNTS, DEMO_PASSWORD


@dataclass
class DemoSummary:
    agencies_created: int = 0
    agencies_updated: int = 0
    deed_types_created: int = 0
    deed_types_updated: int = 0
    accounts: list[str] = field(default_factory=list)


@transactional
def load_demo(session: Session, *, with_accounts: bool = False) -> DemoSummary:
    summary = DemoSummary()
    _load_agencies(session, summary)
    _load_deed_types(session, summary)
    if with_accounts:
        _load_accounts(session, summary)
    return summary


def _load_agencies(session: Session, summary: DemoSummary) -> None:
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


def _load_deed_types(session: Session, summary: DemoSummary) -> None:
    for spec in DEED_TYPES:
        data = {k: v for k, v in spec.items() if k != "owner"}
        owner = get_agency(session, spec["owner"])
        code = f"{owner.code}.{spec['name']}"
        entry = session.get(DeedType, code)
        if entry is None:
            entry = catalog.create_deed_type(session, SYSTEM, owner, NewDeedType(**data))
            summary.deed_types_created += 1
        else:
            wanted = DeedTypeFields(**{k: v for k, v in data.items() if k != "name"})
            in_force = entry.in_force
            if in_force is not None and not catalog.diff_fields(in_force, wanted):
                continue
            catalog.save_draft(session, SYSTEM, entry, wanted)
            summary.deed_types_updated += 1
        draft = catalog.submit(session, SYSTEM, entry)
        catalog.approve(session, SYSTEM, entry, draft.version, note="demo data")


def _load_accounts(session: Session, summary: DemoSummary) -> None:
    for spec in DEMO_ACCOUNTS:
        exists = session.scalar(select(StaffAccount.id).where(StaffAccount.email == spec["email"]))
        if not exists:
            accounts.create_account(
                session,
                SYSTEM,
                email=spec["email"],
                display_name=spec["display_name"],
                role=Role(spec["role"]),
                password=DEMO_PASSWORD,
                agency=get_agency(session, spec["agency"]) if spec["agency"] else None,
            )
        summary.accounts.append(spec["email"])
