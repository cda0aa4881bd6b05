"""Citizen sign-in sessions, whatever the way in (OpenID Connect, or the demo
sign-in). The national ID is keyed here and forgotten: only the citizen key,
and the birth date for the minors rule, are kept."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from dcatalog.db import transactional, utcnow
from dcatalog.identity.citizen_key import CitizenKeyer
from dcatalog.identity.models import Citizen, CitizenSession
from dcatalog.tokens import digest, new_token

CITIZEN_COOKIE = "dcatalog_citizen"
AGE_OF_MAJORITY = 20  # Thai Civil and Commercial Code s.19


@dataclass(frozen=True, slots=True)
class CitizenPrincipal:
    """The signed-in citizen, as routes and services see them."""

    citizen_key: str
    born_on: date | None
    method: str
    alias: str

    def is_minor(self, today: date) -> bool:
        return is_minor(self.born_on, today)

    @property
    def label(self) -> str:
        """How the audit trail and proposals name a citizen: a random alias kept
        on the citizen's row, never the ID nor anything derived from the key."""
        return f"citizen:{self.alias}"


def is_minor(born_on: date | None, today: date) -> bool:
    """Under 20 today. Unknown birth date: treated as an adult (the identity
    providers we accept always give it; the demo sign-in asks for it)."""
    if born_on is None:
        return False
    try:
        majority = born_on.replace(year=born_on.year + AGE_OF_MAJORITY)
    except ValueError:  # born on 29 February
        majority = date(born_on.year + AGE_OF_MAJORITY, 3, 1)
    return today < majority


@transactional
def start_session(
    session: Session,
    keyer: CitizenKeyer,
    *,
    national_id: str,
    born_on: date | None,
    method: str,
    hours: int,
) -> str:
    """Sign a citizen in; returns the cookie value (only its digest is stored).
    Raises ``InvalidNationalId`` when the provider sent no valid ID."""
    citizen_key = keyer.key(national_id)
    citizen = session.get(Citizen, citizen_key)
    now = utcnow()
    if citizen is None:
        citizen = Citizen(citizen_key=citizen_key, born_on=born_on, first_seen_at=now)
        session.add(citizen)
    elif born_on is not None:
        citizen.born_on = born_on
    citizen.last_seen_at = now
    token = new_token()
    session.add(
        CitizenSession(
            token_hash=digest(token),
            citizen_key=citizen_key,
            method=method,
            expires_at=now + timedelta(hours=hours),
        )
    )
    return token


def principal_for(session: Session, token: str) -> CitizenPrincipal | None:
    found = session.scalar(select(CitizenSession).where(CitizenSession.token_hash == digest(token)))
    if found is None or found.ended_at or found.expires_at <= utcnow():
        return None
    return CitizenPrincipal(
        found.citizen_key, found.citizen.born_on, found.method, found.citizen.alias
    )


@transactional
def end_session(session: Session, token: str) -> None:
    found = session.scalar(select(CitizenSession).where(CitizenSession.token_hash == digest(token)))
    if found and not found.ended_at:
        found.ended_at = utcnow()
