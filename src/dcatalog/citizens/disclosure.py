"""What an agency may read of a citizen's record, and the log of every read.

An agency always reads the deeds it recorded itself. Beyond them it reads only
what an active consent of the citizen covers: the deed types and virtues in
its scope, health-related types only with the explicit tick, and nothing of a
minor's record until a guardian's consent is on record. Every read is logged
(who, which agency, the purpose, what was shown or refused) in the same
transaction, and the citizen sees the log.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from dcatalog.accounts.permissions import Scope
from dcatalog.actors import Actor
from dcatalog.citizens import consent as consents
from dcatalog.citizens.models import AccessLog, AccessOutcome
from dcatalog.db import transactional
from dcatalog.deeds.models import Deed, DeedStatus
from dcatalog.identity.citizen_key import CitizenKeyer
from dcatalog.identity.national_id import InvalidNationalId
from dcatalog.problems import FieldError, Forbidden, ValidationProblem


@dataclass
class Disclosure:
    outcome: AccessOutcome
    reason: str  # why nothing beyond the agency's own records was shown, if so
    deeds: list[Deed] = field(default_factory=list)
    scope: list[str] = field(default_factory=list)


def _covered(deed: Deed, scope: set[str], health: set[str], includes_health: bool) -> bool:
    if deed.deed_type_code in health and not includes_health:
        return False
    return f"type:{deed.deed_type_code}" in scope or f"virtue:{deed.virtue_code}" in scope


@transactional
def read_record(
    session: Session,
    actor: Actor,
    keyer: CitizenKeyer,
    *,
    national_id: str,
    purpose: str,
    today: date,
) -> Disclosure:
    """The part of a citizen's verified record this agency may see, for a purpose."""
    if not actor.can(Scope.CITIZENS_READ) or actor.agency_id is None:
        raise Forbidden("Reading a citizen's record needs the permission citizens:read.")
    purpose = checked_purpose(purpose)
    citizen_key = key_of(keyer, national_id)

    verified = list(
        session.scalars(
            select(Deed)
            .where(Deed.citizen_key == citizen_key, Deed.status == DeedStatus.VERIFIED)
            .order_by(Deed.occurred_on, Deed.id)
        )
    )
    own = [d for d in verified if d.agency_id == actor.agency_id]
    active = consents.active_for(session, citizen_key, actor.agency_id)
    if not active:
        disclosure = Disclosure(AccessOutcome.REFUSED, "no consent", own)
    elif consents.needs_guardian(session, citizen_key, today):
        disclosure = Disclosure(AccessOutcome.REFUSED, "minor without a guardian's consent", own)
    else:
        scope = {s for c in active for s in c.scope}
        includes_health = any(c.includes_health for c in active)
        health = consents.health_types(session)
        shared = [
            d
            for d in verified
            if d.agency_id == actor.agency_id or _covered(d, scope, health, includes_health)
        ]
        disclosure = Disclosure(AccessOutcome.ALLOWED, "", shared, sorted(scope))
    what = f"{len(disclosure.deeds)} deeds"
    if disclosure.outcome is AccessOutcome.REFUSED:
        what += f" (its own records only: {disclosure.reason})"
    else:
        what += f" ({', '.join(disclosure.scope)})"
    log_access(session, actor, citizen_key, purpose, what, disclosure.outcome)
    return disclosure


def checked_purpose(purpose: str) -> str:
    """Why a partner reads a record: required, since the citizen reads it."""
    purpose = purpose.strip()
    if not purpose or len(purpose) > 200:
        raise ValidationProblem(
            "Say why you read the record (it is shown to the citizen).",
            errors=[FieldError("1 to 200 characters", pointer="#/purpose")],
        )
    return purpose


def key_of(keyer: CitizenKeyer, national_id: str) -> str:
    """The citizen key of an ID a partner sent, or a problem pointing at the ID."""
    try:
        return keyer.key(national_id)
    except InvalidNationalId as exc:
        raise ValidationProblem(
            exc.message_en,
            errors=[FieldError(exc.message_en, pointer="#/national_id", detail_th=exc.message_th)],
        ) from exc


def log_access(
    session: Session,
    actor: Actor,
    citizen_key: str,
    purpose: str,
    what: str,
    outcome: AccessOutcome,
) -> None:
    """One read of a citizen's record by someone else, in the caller's transaction."""
    session.add(
        AccessLog(
            citizen_key=citizen_key,
            agency_id=actor.agency_id,
            actor=actor.label,
            purpose=purpose,
            what=what,
            outcome=outcome,
        )
    )


def access_log(session: Session, citizen_key: str, limit: int = 500) -> list[AccessLog]:
    """Reads of the citizen's record by others, newest first."""
    query = (
        select(AccessLog)
        .where(AccessLog.citizen_key == citizen_key)
        .order_by(AccessLog.at.desc(), AccessLog.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))
