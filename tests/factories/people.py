"""Citizens and what they decide about their record: sign-ins, consents, a
guardian's consent, disputes, erasure requests, and the access log that every
read of their record by an agency writes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from dcatalog.accounts.permissions import Scope
from dcatalog.actors import SYSTEM
from dcatalog.agencies.models import Agency
from dcatalog.calendars.buddhist_era import today_in_thailand
from dcatalog.citizens import consent as consents
from dcatalog.citizens import rights
from dcatalog.citizens.disclosure import read_record
from dcatalog.citizens.models import AccessLog, Consent, Dispute, ErasureRequest, GuardianConsent
from dcatalog.deeds.models import Deed
from dcatalog.identity import sessions as citizen_sessions
from dcatalog.identity.models import Citizen, CitizenSession
from dcatalog.identity.sessions import CitizenPrincipal
from dcatalog.tokens import digest
from tests.factories.common import keyer, new_national_id
from tests.factories.records import make_deed
from tests.factories.staff import key_actor, make_api_key, new_agency

ADULT = date(1990, 1, 1)


def make_citizen_session(
    session: Session, national_id: str | None = None, born_on: date | None = ADULT
) -> CitizenSession:
    """A citizen's sign-in, as ``identity.sessions.start_session`` starts one (the
    OIDC and demo sign-ins both end there); see ``sign_in_citizen`` for a client."""
    token = citizen_sessions.start_session(
        session,
        keyer(),
        national_id=national_id or new_national_id(),
        born_on=born_on,
        method="test",
        hours=1,
    )
    found = session.scalar(select(CitizenSession).where(CitizenSession.token_hash == digest(token)))
    assert found is not None
    return found


def make_principal(
    session: Session, national_id: str | None = None, born_on: date | None = ADULT
) -> CitizenPrincipal:
    """A signed-in citizen as routes and services see them."""
    signed_in = make_citizen_session(session, national_id, born_on)
    return CitizenPrincipal(
        signed_in.citizen_key, signed_in.citizen.born_on, signed_in.method, signed_in.citizen.alias
    )


def make_citizen(
    session: Session, national_id: str | None = None, born_on: date | None = ADULT
) -> Citizen:
    """A citizen's row is written by their first sign-in: this signs them in."""
    return make_citizen_session(session, national_id, born_on).citizen


def make_consent(
    session: Session,
    citizen: CitizenPrincipal | None = None,
    *,
    agency: Agency | None = None,
    scope: Iterable[str] = ("virtue:volunteering",),
    purpose_code: str = "eligibility",
    includes_health: bool = False,
) -> Consent:
    """The citizen lets ``agency`` read part of their record (``consent.grant``)."""
    return consents.grant(
        session,
        citizen or make_principal(session),
        agency_code=(agency or new_agency(session)).code,
        purpose_code=purpose_code,
        scope=list(scope),
        includes_health=includes_health,
    )


def make_guardian_consent(
    session: Session,
    minor_national_id: str | None = None,
    guardian_national_id: str | None = None,
    relation: str = "mother",
) -> GuardianConsent:
    """A guardian's consent for a 15-year-old who signed in, recorded by the
    programme office (``consent.record_guardian_consent``)."""
    today = today_in_thailand()
    minor = minor_national_id or new_national_id()
    make_principal(session, minor, born_on=today.replace(year=today.year - 15, day=1))
    return consents.record_guardian_consent(
        session,
        SYSTEM,
        keyer(),
        minor_national_id=minor,
        guardian_national_id=guardian_national_id or new_national_id(),
        relation=relation,
        today=today,
    )


def make_access_log(
    session: Session,
    national_id: str | None = None,
    *,
    agency: Agency | None = None,
    purpose: str = "test kit",
) -> AccessLog:
    """The access log is only written by reading a citizen's record: this reads it
    (``disclosure.read_record``) with a ``citizens:read`` key of ``agency``."""
    national_id = national_id or new_national_id()
    key = make_api_key(session, agency, [Scope.CITIZENS_READ])
    read_record(
        session,
        key_actor(key),
        keyer(),
        national_id=national_id,
        purpose=purpose,
        today=today_in_thailand(),
    )
    found = session.scalars(
        select(AccessLog)
        .where(AccessLog.citizen_key == keyer().key(national_id))
        .order_by(AccessLog.at.desc(), AccessLog.id.desc())
        .limit(1)
    ).first()
    assert found is not None
    return found


def make_dispute(
    session: Session,
    citizen: CitizenPrincipal | None = None,
    *,
    deed: Deed | None = None,
    message: str = "I was not there that day.",
) -> Dispute:
    """The citizen disputes a deed of theirs (a new verified one by default)."""
    if deed is None:
        national_id = new_national_id()
        citizen = citizen or make_principal(session, national_id)
        deed = make_deed(session, national_id=national_id)
    assert citizen is not None, "a dispute of a given deed needs its citizen"
    return rights.dispute(session, citizen, deed.id, message)


def make_erasure_request(
    session: Session, citizen: CitizenPrincipal | None = None
) -> ErasureRequest:
    """The citizen asks to be forgotten (``rights.request_erasure``); nothing is erased yet."""
    return rights.request_erasure(session, citizen or make_principal(session))
