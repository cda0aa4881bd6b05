"""Accounts, sign-in and API keys: the rules of who is who."""

from __future__ import annotations

import hmac
import re
import secrets
import uuid
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from dcatalog.accounts.models import AccountStatus, ApiKey, StaffAccount, WebSession
from dcatalog.accounts.passwords import hash_password, policy_problem, verify_password
from dcatalog.accounts.permissions import AGENCY_ROLES, API_KEY_SCOPES, Role, Scope
from dcatalog.actors import Actor
from dcatalog.agencies.models import Agency, AgencyStatus
from dcatalog.audit import service as audit
from dcatalog.db import transactional, utcnow
from dcatalog.problems import (
    Conflict,
    FieldError,
    Forbidden,
    NotFound,
    ValidationProblem,
    missing_permission,
)
from dcatalog.tokens import digest, new_token
from dcatalog.web.throttle import Attempts

KEY_PREFIX = "dck"
_LAST_USED_EVERY = timedelta(minutes=1)  # don't write on every API call
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class SignInRefused(Exception):
    """Sign-in failed; never says which part (``reason`` is "invalid")."""

    def __init__(self, reason: str = "invalid") -> None:
        super().__init__(reason)
        self.reason = reason


def normalise_email(email: str) -> str:
    cleaned = email.strip().lower()
    if not _EMAIL.match(cleaned):
        raise ValidationProblem(
            "The email address is not valid.",
            errors=[FieldError("not an email address", pointer="#/email")],
        )
    return cleaned


def require(actor: Actor, scope: Scope) -> None:
    if not actor.can(scope):
        raise missing_permission(scope.value)


def _require_manages(actor: Actor, agency_id: uuid.UUID | None) -> None:
    require(actor, Scope.STAFF_MANAGE)
    if not actor.is_program_office and not actor.acts_for(agency_id):
        raise Forbidden("You can manage only your own agency's staff and keys.")


# --- staff accounts -------------------------------------------------------------


@transactional
def create_account(
    session: Session,
    actor: Actor,
    *,
    email: str,
    display_name: str,
    role: Role,
    password: str,
    agency: Agency | None = None,
) -> StaffAccount:
    email = normalise_email(email)
    if (role in AGENCY_ROLES) != (agency is not None):
        raise ValidationProblem(
            "Agency roles need an agency; programme roles must have none.",
            errors=[FieldError("does not fit the role", pointer="#/agency")],
        )
    _require_manages(actor, agency.id if agency else None)
    if role not in AGENCY_ROLES and not actor.is_program_office:
        raise Forbidden("Only the programme office creates programme accounts.")
    problem = policy_problem(password)
    if problem:
        raise ValidationProblem(
            f"The password is not acceptable: {problem}.",
            errors=[FieldError(problem, pointer="#/password")],
        )
    if not display_name.strip():
        raise ValidationProblem(
            "A name is needed.", errors=[FieldError("empty", pointer="#/display_name")]
        )
    if session.scalar(select(StaffAccount.id).where(StaffAccount.email == email)):
        raise Conflict(f"An account with the email {email} exists already.")
    account = StaffAccount(
        email=email,
        display_name=display_name.strip(),
        role=role,
        agency_id=agency.id if agency else None,
        password_hash=hash_password(password),
    )
    session.add(account)
    audit.record(session, actor, "account.create", account, agency_id=account.agency_id)
    return account


def list_accounts(session: Session, actor: Actor) -> Sequence[StaffAccount]:
    require(actor, Scope.STAFF_MANAGE)
    query = select(StaffAccount).order_by(StaffAccount.email)
    if not actor.is_program_office:
        query = query.where(StaffAccount.agency_id == actor.agency_id)
    return session.scalars(query).all()


def authenticate(
    session: Session, email: str, password: str, attempts: Attempts | None = None
) -> StaffAccount:
    """The account for these credentials, or ``SignInRefused``.

    ``attempts`` (the web sign-in's throttle) is checked before anything is read, and
    every failure counts, whatever made it fail: an unknown e-mail is throttled exactly
    like a known one (same answer after the same number of failures), so the 429 says
    nothing about which addresses have accounts, and a throttled guesser learns nothing
    from a right password."""
    if attempts is not None:
        attempts.check()
    account = session.scalar(
        select(StaffAccount).where(StaffAccount.email == email.strip().lower())
    )
    if account is None:
        verify_password(None, password)  # same time as a real check
        refused = True
    else:
        refused = not verify_password(account.password_hash, password) or (
            account.status is not AccountStatus.ACTIVE
            or (account.agency is not None and account.agency.status is not AgencyStatus.ACTIVE)
        )
    if refused or account is None:
        if attempts is not None:
            attempts.failed()
        raise SignInRefused("invalid")
    if attempts is not None:
        attempts.succeeded("sign_in_account_client")
    account.last_sign_in_at = utcnow()
    session.commit()
    return account


def actor_for(account: StaffAccount) -> Actor:
    return Actor.staff(
        account.id, account.email, account.role, account.agency_id, account.display_name
    )


# --- browser sessions -------------------------------------------------------------


@transactional
def start_session(session: Session, account: StaffAccount, hours: int) -> str:
    """A new sign-in; returns the cookie value (only its hash is stored)."""
    token = new_token()
    session.add(
        WebSession(
            token_hash=digest(token),
            account_id=account.id,
            expires_at=utcnow() + timedelta(hours=hours),
        )
    )
    return token


def account_for_session(session: Session, token: str) -> StaffAccount | None:
    web_session = session.scalar(select(WebSession).where(WebSession.token_hash == digest(token)))
    if web_session is None or web_session.ended_at or web_session.expires_at <= utcnow():
        return None
    account = web_session.account
    if account.status is not AccountStatus.ACTIVE:
        return None
    if account.agency and account.agency.status is not AgencyStatus.ACTIVE:
        return None
    return account


@transactional
def end_session(session: Session, token: str) -> None:
    web_session = session.scalar(select(WebSession).where(WebSession.token_hash == digest(token)))
    if web_session and not web_session.ended_at:
        web_session.ended_at = utcnow()


# --- API keys -----------------------------------------------------------------------


@transactional
def create_api_key(
    session: Session, actor: Actor, agency: Agency, name: str, scopes: Sequence[str]
) -> tuple[ApiKey, str]:
    """Create a key; returns it and the plain key, which is never shown again."""
    _require_manages(actor, agency.id)
    wanted = set(scopes)
    unknown = sorted(wanted - {scope.value for scope in API_KEY_SCOPES})
    if not wanted or unknown:
        allowed = ", ".join(sorted(scope.value for scope in API_KEY_SCOPES))
        raise ValidationProblem(
            f"Choose one or more scopes among: {allowed}."
            + (f" Not allowed: {', '.join(unknown)}." if unknown else ""),
            errors=[FieldError("unknown or missing scope", pointer="#/scopes")],
        )
    if not name.strip():
        raise ValidationProblem(
            "Give the key a name that says which system uses it.",
            errors=[FieldError("empty", pointer="#/name")],
        )
    prefix = secrets.token_hex(5)
    plain = f"{KEY_PREFIX}_{prefix}_{new_token()}"
    key = ApiKey(
        agency_id=agency.id,
        name=name.strip(),
        prefix=prefix,
        key_hash=digest(plain),
        scopes=sorted(wanted),
        created_by=actor.label,
    )
    session.add(key)
    audit.record(session, actor, "api_key.create", key, agency_id=agency.id)
    return key, plain


@transactional
def authenticate_api_key(session: Session, plain: str) -> ApiKey | None:
    parts = plain.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        return None
    key = session.scalar(select(ApiKey).where(ApiKey.prefix == parts[1]))
    if key is None or not hmac.compare_digest(key.key_hash, digest(plain.strip())):
        return None
    if key.revoked_at or key.agency.status is not AgencyStatus.ACTIVE:
        return None
    return key


def key_use_is_stale(key: ApiKey) -> bool:
    """Whether the key's last-used time is old enough to be written again (not on
    every call: that would make every API request a write)."""
    return key.last_used_at is None or utcnow() - key.last_used_at > _LAST_USED_EVERY


@transactional
def note_key_use(session: Session, key_id: uuid.UUID) -> None:
    """Write that the key was used now, in a session meant for writing: on SQLite a
    read session that turns into a writer can fail at once with "database is locked"
    when another writer committed since it began; a write session waits its turn."""
    now = utcnow()
    session.execute(
        update(ApiKey)
        .where(ApiKey.id == key_id)
        .where(or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < now - _LAST_USED_EVERY))
        .values(last_used_at=now)
    )


def list_api_keys(session: Session, actor: Actor, agency: Agency | None = None) -> Sequence[ApiKey]:
    require(actor, Scope.STAFF_MANAGE)
    query = select(ApiKey).order_by(ApiKey.created_at.desc())
    if not actor.is_program_office:
        query = query.where(ApiKey.agency_id == actor.agency_id)
    elif agency is not None:
        query = query.where(ApiKey.agency_id == agency.id)
    return session.scalars(query).all()


@transactional
def revoke_api_key(session: Session, actor: Actor, prefix: str, reason: str = "") -> ApiKey:
    require(actor, Scope.STAFF_MANAGE)
    key = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    # Another agency's key is "not found": its existence is none of our business.
    if key is None or not (actor.is_program_office or actor.acts_for(key.agency_id)):
        raise NotFound(f"Your agency has no API key {prefix}.")
    if key.revoked_at is None:
        before = audit.snapshot(key)
        key.revoked_at = utcnow()
        audit.record(
            session,
            actor,
            "api_key.revoke",
            key,
            before=before,
            reason=reason,
            agency_id=key.agency_id,
        )
    return key
