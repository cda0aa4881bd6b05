"""Agencies, their staff and keys, and what binds the instance: made through
``agencies``, ``accounts`` and ``identity`` as the programme office's CLI would."""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from dcatalog.accounts import service as accounts
from dcatalog.accounts.models import ApiKey, StaffAccount, WebSession
from dcatalog.accounts.permissions import AGENCY_ROLES, Role, Scope
from dcatalog.actors import SYSTEM, Actor
from dcatalog.agencies import service as agencies
from dcatalog.agencies.models import Agency
from dcatalog.audit.models import AuditEvent
from dcatalog.identity.models import InstanceMeta
from dcatalog.identity.service import PEPPER_FINGERPRINT, bind_pepper
from dcatalog.tokens import digest
from tests.factories.common import keyer, unique
from tests.factories.web import PASSWORD, sign_in


def make_agency(session: Session, code: str = "kys", kind: str = "government") -> Agency:
    return agencies.create_agency(
        session, SYSTEM, code=code, name_th=f"หน่วยงาน {code}", name_en=f"Agency {code}", kind=kind
    )


def new_agency(session: Session, kind: str = "government") -> Agency:
    """An agency of its own (a fresh code), for factories that need one."""
    return make_agency(session, unique("agency"), kind)


def make_account(
    session: Session,
    role: Role = Role.AGENCY_ADMIN,
    agency: Agency | None = None,
    email: str | None = None,
) -> StaffAccount:
    """A staff account (password ``PASSWORD``); an agency role without an agency
    gets an agency of its own."""
    if role in AGENCY_ROLES and agency is None:
        agency = new_agency(session)
    email = email or f"{role.value}.{agency.code if agency else 'office'}@example.org"
    return accounts.create_account(
        session,
        SYSTEM,
        email=email,
        display_name=f"Khun {role.value}",
        role=role,
        password=PASSWORD,
        agency=agency if role in AGENCY_ROLES else None,
    )


def make_web_session(session: Session, account: StaffAccount | None = None) -> WebSession:
    """A staff sign-in, as ``accounts.start_session`` starts one (see also
    ``sign_in_as``, which puts its cookie on a test client)."""
    account = account or make_account(session, Role.AUDITOR, email=unique("auditor") + "@x.org")
    token = accounts.start_session(session, account, hours=1)
    found = session.scalar(select(WebSession).where(WebSession.token_hash == digest(token)))
    assert found is not None
    return found


def make_api_key_secret(
    session: Session,
    agency: Agency | None = None,
    scopes: Iterable[Scope | str] = (Scope.DEEDS_WRITE,),
    name: str = "",
) -> tuple[ApiKey, str]:
    """An agency's API key and its plain secret (``Authorization: Bearer <secret>``)."""
    return accounts.create_api_key(
        session,
        SYSTEM,
        agency or new_agency(session),
        name or unique("test key "),
        [str(scope) for scope in scopes],
    )


def make_api_key(
    session: Session,
    agency: Agency | None = None,
    scopes: Iterable[Scope | str] = (Scope.DEEDS_WRITE,),
    name: str = "",
) -> ApiKey:
    return make_api_key_secret(session, agency, scopes, name)[0]


def key_actor(key: ApiKey) -> Actor:
    """Who a service sees when this key calls (as ``dcatalog.access`` makes it)."""
    return Actor.api_key(key.prefix, key.agency_id, frozenset(Scope(s) for s in key.scopes))


def make_audit_event(session: Session) -> AuditEvent:
    """Audit events are only ever written by the change they record: this onboards
    an agency and returns its ``agency.create`` event."""
    agency = new_agency(session)
    found = session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "agency.create", AuditEvent.entity_id == str(agency.id)
        )
    )
    assert found is not None
    return found


def make_instance_meta(session: Session) -> InstanceMeta:
    """Written by ``identity.service.bind_pepper`` when a process first starts on
    the database: the pepper's fingerprint (the test pepper's)."""
    bind_pepper(session, keyer())
    return session.get_one(InstanceMeta, PEPPER_FINGERPRINT)


def staff_browser(
    app: FastAPI, session: Session, role: Role, agency: str | None = "kys"
) -> TestClient:
    """A browser signed in (through the form) as a staff member of the agency with
    this code, or of the programme office (``None``), reading the English pages."""
    client = TestClient(app, raise_server_exceptions=False)
    found = agencies.get_agency(session, agency) if agency else None
    email = f"{role.value}.{agency or 'office'}@example.org"
    sign_in(client, make_account(session, role, found, email=email).email)
    client.get("/lang/en")
    return client
