"""Partner agencies: onboarded and managed by the programme office."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dcatalog import snapshots
from dcatalog.accounts.permissions import Scope
from dcatalog.actors import Actor
from dcatalog.agencies.models import Agency, AgencyKind, AgencyStatus
from dcatalog.audit import service as audit
from dcatalog.db import transactional
from dcatalog.problems import Conflict, FieldError, Forbidden, NotFound, ValidationProblem
from dcatalog.web.i18n import N_

CODE = re.compile(r"^[a-z][a-z0-9_]{1,31}$")
EDITABLE = ("name_th", "name_en", "kind", "website", "contact", "status")


def list_active_agencies(session: Session) -> Sequence[Agency]:
    query = select(Agency).where(Agency.status == AgencyStatus.ACTIVE)
    return session.scalars(query.order_by(Agency.kind, Agency.code)).all()


def list_agencies(session: Session) -> Sequence[Agency]:
    return session.scalars(select(Agency).order_by(Agency.kind, Agency.code)).all()


@dataclass(frozen=True, slots=True)
class AgencyRef:
    """What the hot path needs of an agency (a snapshot: see dcatalog.snapshots)."""

    id: uuid.UUID
    code: str
    kind: AgencyKind
    active: bool


def agency_ref(session: Session, agency_id: uuid.UUID) -> AgencyRef | None:
    def load() -> AgencyRef | None:
        agency = session.get(Agency, agency_id)
        if agency is None:
            return None
        return AgencyRef(agency.id, agency.code, agency.kind, agency.status is AgencyStatus.ACTIVE)

    return snapshots.of(session).get(("agency", agency_id), load)


def get_agency(session: Session, code: str) -> Agency:
    agency = session.scalar(select(Agency).where(Agency.code == code))
    if agency is None:
        raise NotFound(f"There is no agency {code!r}.")
    return agency


def _require_program_office(actor: Actor) -> None:
    if not actor.can(Scope.AGENCIES_MANAGE):
        raise Forbidden("Only the programme office onboards and manages agencies.")


def _checked(fields: dict[str, Any]) -> dict[str, Any]:
    errors = []
    for name in ("name_th", "name_en"):
        if name in fields and not str(fields[name]).strip():
            errors.append(FieldError("a name is needed", pointer=f"#/{name}"))
    if "kind" in fields and fields["kind"] not in {k.value for k in AgencyKind}:
        errors.append(FieldError("government, school, ngo or business", pointer="#/kind"))
    if "status" in fields and fields["status"] not in {s.value for s in AgencyStatus}:
        errors.append(FieldError("active or suspended", pointer="#/status"))
    if errors:
        raise ValidationProblem(N_("Some fields are not valid; see errors."), errors=errors)
    cleaned = {k: (v.strip() if isinstance(v, str) else v) for k, v in fields.items()}
    if "kind" in cleaned:
        cleaned["kind"] = AgencyKind(cleaned["kind"])
    if "status" in cleaned:
        cleaned["status"] = AgencyStatus(cleaned["status"])
    return cleaned


@transactional
def create_agency(session: Session, actor: Actor, *, code: str, **fields: Any) -> Agency:
    _require_program_office(actor)
    code = code.strip().lower()
    if not CODE.match(code):
        raise ValidationProblem(
            "An agency code is 2-32 lowercase letters, digits or _, starting with a letter.",
            errors=[FieldError("not a valid code", pointer="#/code")],
        )
    fields = _checked({name: fields.get(name, "") for name in EDITABLE if name != "status"})
    if session.scalar(select(Agency.id).where(Agency.code == code)):
        raise Conflict(f"The agency code {code!r} is taken.")
    agency = Agency(code=code, **fields)
    session.add(agency)
    audit.record(session, actor, "agency.create", agency, agency_id=None)
    return agency


@transactional
def update_agency(
    session: Session, actor: Actor, agency: Agency, reason: str = "", **fields: Any
) -> Agency:
    _require_program_office(actor)
    changes = _checked({k: v for k, v in fields.items() if k in EDITABLE})
    before = audit.snapshot(agency)
    for name, value in changes.items():
        setattr(agency, name, value)
    audit.record(session, actor, "agency.update", agency, before=before, reason=reason)
    return agency


def agency_of(session: Session, actor: Actor) -> Agency:
    """The agency an agency actor works for."""
    agency = session.get(Agency, actor.agency_id) if actor.agency_id else None
    if agency is None:
        raise Forbidden("This is done by an agency's staff or keys.")
    return agency
