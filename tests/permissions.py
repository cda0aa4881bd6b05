"""One staff action tried by everyone who must not do it, then by someone who may
(as netbox's view-permission tests do).

``check_permission`` sends the same request (a page's form with its CSRF token,
or an API call) as

1. nobody signed in: a page sends them to ``/login``, the API answers 401 with a
   problem document;
2. each ``refused`` caller (a role without the permission, another agency's
   staff or key): 403 by default (a problem document on the API, a readable page
   on pages), or the status given with the caller (another agency's record is
   "not found", 404, by design);
3. the ``allowed`` caller: it succeeds.

After 1 and 2 no row of any table may have changed. After 3 the audit trail has
exactly the ``audit`` events named, by the allowed caller, for the agencies
given, and each table of ``writes`` exactly that many rows more::

    check_permission(
        app, session, Action.page("/staff/keys", {"name": "KYS system", "scopes": "deeds:write"}),
        allowed=staff(session, Role.AGENCY_ADMIN, kys),
        refused=[staff(session, Role.VERIFIER, kys)],
        audit=[("api_key.create", kys.id)],
        writes={ApiKey: 1},
    )
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import httpx2 as httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dcatalog.accounts.permissions import Role, Scope
from dcatalog.agencies.models import Agency
from dcatalog.audit.models import AuditEvent
from dcatalog.db import Base
from dcatalog.problems import FORBIDDEN, NOT_FOUND, PROBLEM_JSON
from tests.factories import csrf_from, make_account, make_api_key_secret, sign_in, unique
from tests.helpers import dump_all_rows

Response = httpx.Response


@dataclass(frozen=True)
class Action:
    """A request to try: a page's form (sent with the client's CSRF token) or an API
    call. ``files``: name -> (file name, content, media type)."""

    method: str
    path: str
    form: dict[str, Any] | None = None
    json: Any = None
    files: dict[str, tuple[str, bytes, str]] | None = None

    @classmethod
    def page(
        cls,
        path: str,
        form: dict[str, Any] | None = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
    ) -> Action:
        """A page's form, posted."""
        return cls("POST", path, form=form or {}, files=files)

    @classmethod
    def api(cls, path: str, body: Any = None, method: str = "POST") -> Action:
        """An API call with a JSON body."""
        return cls(method, path, json=body)

    @property
    def on_api(self) -> bool:
        return self.path.startswith("/api/")


@dataclass(frozen=True)
class Caller:
    """Who sends it: a staff member (signed in with the page cookie) or an API key.
    ``label`` is how the audit trail names them; ``status`` what a refusal of them
    answers."""

    name: str
    label: str
    agency_id: uuid.UUID | None
    email: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    status: int = 403

    def refused_with(self, status: int) -> Caller:
        """The same caller, refused with another status (404: another agency's)."""
        return replace(self, status=status)


def staff(session: Session, role: Role, agency: Agency | None = None) -> Caller:
    """A new staff member of ``role`` (of ``agency``; an agency role without one
    gets an agency of its own)."""
    account = make_account(session, role, agency, email=unique(role.value) + "@example.org")
    where = account.agency.code if account.agency else "the programme office"
    return Caller(
        f"{role.value} of {where}", f"staff:{account.email}", account.agency_id, account.email
    )


def key(session: Session, agency: Agency, *scopes: Scope) -> Caller:
    """A new API key of ``agency`` with ``scopes``."""
    made, secret = make_api_key_secret(session, agency, scopes)
    names = ", ".join(sorted(s.value for s in scopes))
    return Caller(
        f"key ({names}) of {agency.code}",
        f"key:{made.prefix}",
        agency.id,
        headers={"Authorization": f"Bearer {secret}"},
    )


def _client(app: FastAPI, caller: Caller | None) -> TestClient:
    """A browser or an API client of the caller, signed in. A key is used once first
    (its first use notes the time on its row): an attempt then changes nothing but
    what it asks."""
    client = TestClient(app, raise_server_exceptions=False)
    if caller is not None and caller.email is not None:
        sign_in(client, caller.email)
    if caller is not None and caller.headers:
        used = client.get("/api/v1/deeds", headers=caller.headers)
        assert used.status_code in (200, 403), f"{caller.name}: {used.text[:300]}"
    return client


def _send(client: TestClient, action: Action, caller: Caller | None) -> Response:
    headers = dict(caller.headers) if caller else {}
    if action.on_api:
        return client.request(
            action.method, action.path, json=action.json, headers=headers, follow_redirects=False
        )
    data = {**(action.form or {}), "csrf_token": csrf_from(client, "/login")}
    return client.request(
        action.method,
        action.path,
        data=data,
        files=action.files,
        headers=headers,
        follow_redirects=False,
    )


def _counts(session: Session, tables: Sequence[type[Base]]) -> dict[str, int]:
    return {
        table.__tablename__: session.scalar(select(func.count()).select_from(table)) or 0
        for table in tables
    }


def _audit_ids(session: Session) -> set[uuid.UUID]:
    return set(session.scalars(select(AuditEvent.id)))


def _assert_signed_out_refused(action: Action, response: Response) -> None:
    where = f"{action.method} {action.path} signed out"
    if action.on_api:
        assert response.status_code == 401, f"{where}: {response.status_code} {response.text[:300]}"
        assert response.headers["content-type"].startswith(PROBLEM_JSON), where
        assert response.json()["status"] == 401, where
    else:
        assert response.status_code == 303, f"{where}: {response.status_code} {response.text[:300]}"
        assert response.headers["location"].startswith("/login"), where


def _assert_refused(action: Action, caller: Caller, response: Response) -> None:
    where = f"{action.method} {action.path} as {caller.name}"
    status = caller.status
    assert response.status_code == status, (
        f"{where}: {response.status_code}, not {status}: {response.text[:300]}"
    )
    kind = {403: FORBIDDEN, 404: NOT_FOUND}.get(status)
    if action.on_api:
        assert response.headers["content-type"].startswith(PROBLEM_JSON), where
        document = response.json()
        assert document["status"] == status, where
        assert kind is None or document["type"].endswith(kind.uri), where
        return
    assert response.headers["content-type"].startswith("text/html"), where
    page = response.text
    assert "<html" in page, where
    says = 'role="alert"' in page or (
        kind is not None and (kind.title in page or kind.title_th in page)
    )
    assert says, f"{where}: the page does not say what went wrong"


def check_permission(
    app: FastAPI,
    session: Session,
    action: Action,
    *,
    allowed: Caller,
    refused: Sequence[Caller],
    audit: Sequence[tuple[str, uuid.UUID | None]],
    writes: Mapping[type[Base], int] | None = None,
    succeeds: Sequence[int] = (200, 201, 202, 303),
) -> Response:
    """Try ``action`` signed out, as each ``refused`` caller, then as ``allowed``
    (see the module's docstring); returns the allowed caller's response."""
    writes = dict(writes or {})
    attempts: list[Caller | None] = [None, *refused]
    clients = [_client(app, caller) for caller in attempts]  # signed in before we look
    for caller, client in zip(attempts, clients, strict=True):
        before = dump_all_rows(session)
        response = _send(client, action, caller)
        if caller is None:
            _assert_signed_out_refused(action, response)
        else:
            _assert_refused(action, caller, response)
        who = caller.name if caller else "nobody signed in"
        assert dump_all_rows(session) == before, (
            f"{action.method} {action.path} was refused to {who}, but rows changed"
        )

    client = _client(app, allowed)
    seen, counted = _audit_ids(session), _counts(session, list(writes))
    response = _send(client, action, allowed)
    where = f"{action.method} {action.path} as {allowed.name}"
    assert response.status_code in succeeds, (
        f"{where}: {response.status_code} {response.text[:500]}"
    )
    new = session.scalars(
        select(AuditEvent).where(AuditEvent.id.not_in(seen)).order_by(AuditEvent.id)
    ).all()
    written = [(e.action, e.actor, e.agency_id) for e in new]
    expected = [(name, allowed.label, agency_id) for name, agency_id in audit]
    assert written == expected, f"{where}: audit trail {written}, expected {expected}"
    grown = {name: count - counted[name] for name, count in _counts(session, list(writes)).items()}
    assert grown == {table.__tablename__: n for table, n in writes.items()}, (
        f"{where}: rows added {grown}"
    )
    return response
