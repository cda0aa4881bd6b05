"""Test data made through the real services (so the rules apply to it too)."""

from __future__ import annotations

import re
from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from dcatalog.accounts import service as accounts
from dcatalog.accounts.models import StaffAccount
from dcatalog.accounts.permissions import AGENCY_ROLES, Role
from dcatalog.actors import SYSTEM
from dcatalog.agencies import service as agencies
from dcatalog.agencies.models import Agency
from dcatalog.identity import sessions as citizen_sessions
from dcatalog.identity.citizen_key import CitizenKeyer
from dcatalog.identity.national_id import with_check_digit
from dcatalog.identity.sessions import CitizenPrincipal

PASSWORD = "a long enough password"


def nid(n: int, series: str = "1") -> str:
    """The ``n``-th valid national ID of a series. A test file keeps to its own
    series (its first digits), so its citizens never meet another file's."""
    return with_check_digit(f"{series}{n:0{12 - len(series)}d}")


_CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def make_agency(session: Session, code: str = "kys", kind: str = "government") -> Agency:
    return agencies.create_agency(
        session, SYSTEM, code=code, name_th=f"หน่วยงาน {code}", name_en=f"Agency {code}", kind=kind
    )


def make_account(
    session: Session, role: Role, agency: Agency | None = None, email: str | None = None
) -> StaffAccount:
    if role in AGENCY_ROLES and agency is None:
        raise ValueError("agency roles need an agency")
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
    from tests.conftest import TEST_PEPPER

    token = citizen_sessions.start_session(
        session,
        CitizenKeyer(TEST_PEPPER.encode()),
        national_id=national_id,
        born_on=born_on,
        method="test",
        hours=1,
    )
    client.cookies.set(citizen_sessions.CITIZEN_COOKIE, token)
    principal = citizen_sessions.principal_for(session, token)
    assert principal is not None
    return principal
