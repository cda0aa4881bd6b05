"""The authorisation matrix: every route, tried by every role and by an
anonymous caller. Expectations come from the scope each route requires and
the roles' scopes; agencies never reach each other's staff or keys."""

import re
from collections.abc import Iterator

from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from dcatalog.accounts import service
from dcatalog.accounts.permissions import ROLE_SCOPES, Role
from dcatalog.actors import SYSTEM
from tests.factories import csrf_from, make_account, make_agency, post_form, sign_in
from tests.integration.test_route_access import _calls, _flatten

SAMPLE_PATH_VALUES = {"code": "kys", "prefix": "nope", "slug": "not-found", "lang": "en"}
ROLES = [None, *Role]
# Routes that change who the client is; their own tests cover them.
SESSION_ROUTES = {("POST", "/logout"), ("POST", "/login")}


def _scope_of(route: APIRoute) -> object | None:
    for call in _calls(route.dependant):
        scope = getattr(call, "__dcatalog_scope__", None)
        if scope is not None:
            return scope
    return None


def _needs_sign_in(route: APIRoute) -> bool:
    return any(getattr(c, "__name__", "") == "_any_staff" for c in _calls(route.dependant))


def _routes(app: FastAPI) -> Iterator[tuple[str, str, APIRoute]]:
    for route in _flatten(app.routes):
        if not isinstance(route, APIRoute) or "{rest:path}" in route.path:
            continue
        path = re.sub(r"\{(\w+)(:\w+)?\}", lambda m: SAMPLE_PATH_VALUES[m.group(1)], route.path)
        for method in sorted(route.methods - {"HEAD"}):
            if (method, path) not in SESSION_ROUTES:
                yield method, path, route


def test_every_route_against_every_role(app: FastAPI, session: Session) -> None:
    kys = make_agency(session, "kys")
    clients: dict[Role | None, TestClient] = {}
    for role in ROLES:
        client = TestClient(app, raise_server_exceptions=False)
        if role is not None:
            account = make_account(
                session,
                role,
                kys if role.value in {"agency_admin", "recorder", "verifier"} else None,
            )
            sign_in(client, account.email)
        clients[role] = client
    tried = 0
    for method, path, route in _routes(app):
        scope = _scope_of(route)
        for role, client in clients.items():
            data = {"csrf_token": csrf_from(client, "/login")} if method != "GET" else None
            response = client.request(method, path, data=data, follow_redirects=False)
            tried += 1
            if scope is None and not _needs_sign_in(route):
                assert response.status_code not in (401, 403), (method, path, role)
                continue
            signed_in = role is not None
            allowed = signed_in and (scope is None or scope in ROLE_SCOPES[role])
            where = f"{method} {path} as {role}"
            if not signed_in:
                if path.startswith("/api/"):
                    assert response.status_code == 401, where
                else:
                    assert response.status_code == 303, where
                    assert response.headers["location"].startswith("/login"), where
            elif allowed:
                assert response.status_code not in (401, 403), where
            else:
                assert response.status_code == 403, where
    assert tried > 50


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
