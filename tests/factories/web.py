"""The browser's side of the test kit: national IDs of a file's own series, CSRF
tokens, forms, signing staff and citizens in on a test client."""

from __future__ import annotations

import re
from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from dcatalog.access import SESSION_COOKIE
from dcatalog.accounts import service as accounts
from dcatalog.accounts.models import StaffAccount
from dcatalog.identity import sessions as citizen_sessions
from dcatalog.identity.national_id import with_check_digit
from dcatalog.identity.sessions import CitizenPrincipal
from tests.factories.common import keyer

PASSWORD = "a long enough password"


def nid(n: int, series: str = "1") -> str:
    """The ``n``-th valid national ID of a series. A test file keeps to its own
    series (its first digits), so its citizens never meet another file's."""
    return with_check_digit(f"{series}{n:0{12 - len(series)}d}")


_CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def csrf_from(client: TestClient, path: str = "/login") -> str:
    match = _CSRF.search(client.get(path).text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> None:
    token = csrf_from(client)
    response = client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token, "next": "/staff"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def sign_in_as(client: TestClient, session: Session, account: StaffAccount) -> None:
    """Sign a staff member in on this client without the sign-in form (a session
    started by the real service, its cookie set): for tests that sign in many
    people and are not about signing in. ``sign_in`` goes through the form."""
    token = accounts.start_session(session, account, hours=1)
    client.cookies.set(SESSION_COOKIE, token)


def post_form(client: TestClient, path: str, data: dict[str, object], page: str | None = None):  # type: ignore[no-untyped-def]
    """Submit a form as a browser would: with the CSRF token from a page."""
    token = csrf_from(client, page or "/login")
    return client.post(path, data={**data, "csrf_token": token}, follow_redirects=False)


def deed_type_fields(**overrides: object) -> dict[str, object]:
    """A valid deed type body (API) / form (pages), with overrides."""
    fields: dict[str, object] = {
        "name": "tree_planting",
        "virtue": "sufficiency",
        "unit": "activity",
        "credits_per_unit": 5,
        "verification_policy": "verifier",
        "evidence_required": True,
        "max_per_day": "2",
        "recorders": ["kind:school"],
        "name_th": "ปลูกต้นไม้",
        "name_en": "Tree planting",
        "description_th": "ปลูกและดูแลต้นไม้ในชุมชน",
        "description_en": "Planting and caring for trees in the community",
    }
    fields.update(overrides)
    return fields


def sign_in_citizen(
    client: TestClient,
    session: Session,
    national_id: str,
    born_on: date | None = date(2004, 3, 1),
) -> CitizenPrincipal:
    """Sign a citizen in on this client as the demo sign-in would (the OIDC flow has
    its own tests); returns who they are."""
    token = citizen_sessions.start_session(
        session,
        keyer(),
        national_id=national_id,
        born_on=born_on,
        method="test",
        hours=1,
    )
    client.cookies.set(citizen_sessions.CITIZEN_COOKIE, token)
    principal = citizen_sessions.principal_for(session, token)
    assert principal is not None
    return principal
