"""The authorisation matrix: every route, tried by every role and by an
anonymous caller. Expectations come from the scope each route requires and
the roles' scopes; agencies never reach each other's staff or keys."""

import re
from collections.abc import Iterator

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from dcatalog.accounts import service
from dcatalog.accounts.permissions import AGENCY_ROLES, API_KEY_SCOPES, ROLE_SCOPES, Role
from dcatalog.actors import SYSTEM
from dcatalog.agencies.service import get_agency
from dcatalog.demo.service import load_demo
from dcatalog.identity.national_id import with_check_digit
from dcatalog.web.csrf import CSRF_COOKIE
from tests.factories import (
    csrf_from,
    make_account,
    make_agency,
    post_form,
    sign_in,
    sign_in_citizen,
)
from tests.integration.test_route_access import _calls

SAMPLE_PATH_VALUES = {
    "code": "kys",
    "prefix": "nope",
    "slug": "not-found",
    "lang": "en",
    "number": "1",
    "deed_id": "0197d9a0-5ba9-74f7-af76-efea6e9ab611",
    "proposal_id": "0197d9a0-5ba9-74f7-af76-efea6e9ab610",
    "job_id": "0197d9a0-5ba9-74f7-af76-efea6e9ab612",
    "consent_id": "0197d9a0-5ba9-74f7-af76-efea6e9ab613",
    "dispute_id": "0197d9a0-5ba9-74f7-af76-efea6e9ab614",
    "request_id": "0197d9a0-5ba9-74f7-af76-efea6e9ab615",
    "claim_id": "0197d9a0-5ba9-74f7-af76-efea6e9ab616",
    "credential_id": "0197d9a0-5ba9-74f7-af76-efea6e9ab616",
    "short_id": "nosuchcred23",
    "report_id": "0197d9a0-5ba9-74f7-af76-efea6e9ab617",
    "award_id": "0197d9a0-5ba9-74f7-af76-efea6e9ab617",
    "fmt": "pdf",
}
# Routes that change who the client is; their own tests cover them.
SESSION_ROUTES = {
    ("POST", "/logout"),
    ("POST", "/login"),
    ("POST", "/me/sign-in/demo"),
    ("POST", "/me/sign-out"),
}


def _scopes_of(route: APIRoute) -> frozenset | None:
    for call in _calls(route.dependant):
        scopes = getattr(call, "__dcatalog_scopes__", None)
        if scopes is not None:
            return frozenset(scopes)
    return None


def _needs_sign_in(route: APIRoute) -> bool:
    return any(getattr(c, "__name__", "") == "_any_staff" for c in _calls(route.dependant))


def _for_citizens(route: APIRoute) -> bool:
    return any(getattr(c, "__name__", "") == "_citizen" for c in _calls(route.dependant))


def _for_the_operator(route: APIRoute) -> bool:
    return any(getattr(c, "__name__", "") == "metrics_reader" for c in _calls(route.dependant))


def _routes(app: FastAPI) -> Iterator[tuple[str, str, APIRoute]]:
    for route in (context.original_route for context in iter_route_contexts(app.routes)):
        if not isinstance(route, APIRoute) or "{rest:path}" in route.path:
            continue
        values = dict(SAMPLE_PATH_VALUES)
        if "catalog" in route.path or "deed-types" in route.path:
            values["code"] = "kys.volunteer_activity"
        elif route.path.startswith(("/staff/benefits/", "/admin/benefits/")):
            values["code"] = "kys.loan_renewal"  # a real one: its pages run, not only the guard
        elif route.path.startswith(("/staff/campaigns/", "/admin/campaigns/")):
            values["code"] = "redcross.blood_drive"  # a demo campaign: its pages run too
        path = re.sub(r"\{(\w+)(:\w+)?\}", lambda m, v=values: v[m.group(1)], route.path)
        for method in sorted(route.methods - {"HEAD"}):
            if (method, path) not in SESSION_ROUTES:
                yield method, path, route


def _callers(app: FastAPI, session: Session) -> list[tuple[str, TestClient, dict, frozenset]]:
    """(name, client, headers, scopes): anonymous, each staff role signed in with
    the cookie, and an API key for each scope an agency can give one."""
    load_demo(session)
    kys = get_agency(session, "kys")
    callers: list[tuple[str, TestClient, dict, frozenset]] = [
        ("anonymous", TestClient(app, raise_server_exceptions=False), {}, frozenset())
    ]
    for role in Role:
        client = TestClient(app, raise_server_exceptions=False)
        agency = kys if role in AGENCY_ROLES else None
        sign_in(client, make_account(session, role, agency).email)
        callers.append((f"staff:{role.value}", client, {}, ROLE_SCOPES[role]))
    for scope in sorted(API_KEY_SCOPES):
        _key, plain = service.create_api_key(session, SYSTEM, kys, f"key {scope}", [scope])
        client = TestClient(app, raise_server_exceptions=False)
        callers.append(
            (f"key:{scope}", client, {"Authorization": f"Bearer {plain}"}, frozenset({scope}))
        )
    citizen = TestClient(app, raise_server_exceptions=False)
    sign_in_citizen(citizen, session, with_check_digit("110370012345"))
    callers.append(("citizen", citizen, {}, frozenset()))
    return callers


def _csrf_token(client: TestClient, tokens: dict[tuple[int, str | None], str]) -> str:
    """The CSRF token the sign-in page gives this client, as a form would send it.
    The token is the signature of the client's CSRF cookie, so the page is read
    again only when that cookie changed (it never does: a visitor keeps it)."""
    key = (id(client), client.cookies.get(CSRF_COOKIE))
    if key not in tokens:
        token = csrf_from(client, "/login")
        tokens[id(client), client.cookies.get(CSRF_COOKIE)] = token
        return token
    return tokens[key]


def test_every_route_against_every_caller(app: FastAPI, session: Session) -> None:
    callers = _callers(app, session)
    tokens: dict[tuple[int, str | None], str] = {}
    tried = 0
    for method, path, route in _routes(app):
        required = _scopes_of(route)
        is_api = path.startswith("/api/")
        for name, client, headers, scopes in callers:
            data = {"csrf_token": _csrf_token(client, tokens)} if method != "GET" else None
            response = client.request(
                method, path, data=data, headers=headers, follow_redirects=False
            )
            tried += 1
            where = f"{method} {path} as {name}"
            assert response.status_code < 500, f"{where}: {response.text[:300]}"
            if _for_citizens(route):  # only the citizen's own sign-in opens these
                if name == "citizen":
                    assert response.status_code not in (401, 403), where
                    assert not response.headers.get("location", "").startswith("/me/sign-in")
                else:
                    assert response.status_code == 303, where
                    assert response.headers["location"].startswith("/me/sign-in"), where
                continue
            if _for_the_operator(route):  # a token, or this machine: never a staff caller
                assert response.status_code in (401, 403), where
                continue
            if required is None and not _needs_sign_in(route):
                assert response.status_code not in (401, 403), where
                continue
            # The API knows only keys, pages only the staff cookie.
            recognised = name.startswith("key:") if is_api else name.startswith("staff:")
            # (a citizen's sign-in opens no staff page and no API)
            if not recognised:
                if is_api:
                    assert response.status_code == 401, where
                else:
                    assert response.status_code == 303, where
                    assert response.headers["location"].startswith("/login"), where
            elif required is None or required & scopes:
                assert response.status_code not in (401, 403), where
            else:
                assert response.status_code == 403, where
    assert tried > 200


def test_one_agency_never_reaches_anothers_keys(client: TestClient, session: Session) -> None:
    kys, redcross = make_agency(session, "kys"), make_agency(session, "redcross", "ngo")
    kys_key, _ = service.create_api_key(session, SYSTEM, kys, "KYS system", ["deeds:write"])
    other = make_account(session, Role.AGENCY_ADMIN, redcross)
    sign_in(client, other.email)
    page = client.get("/staff/keys").text
    assert kys_key.prefix not in page
    revoke = post_form(client, f"/staff/keys/{kys_key.prefix}/revoke", {}, page="/staff/keys")
    assert revoke.status_code == 404
    session.refresh(kys_key)
    assert kys_key.revoked_at is None
    accounts_page = client.get("/staff/accounts").text
    assert "kys" not in accounts_page.split("<tbody>")[1].split("</tbody>")[0]
