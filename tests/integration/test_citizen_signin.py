"""Citizen sign-in: OpenID Connect against a real provider, and the demo sign-in.

The OpenID Connect tests serve D-Catalog for real (``dcatalog serve``, two
workers, so the redirect and the callback may land on different processes) and
the provider of tests/oidc_provider.py (Authlib's server side) on another port; a
real HTTP client follows the redirects between the two as a browser would.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx2 as httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from dcatalog.app import create_app
from dcatalog.citizens import oidc
from dcatalog.config import Settings
from dcatalog.db import Database, create_db_engine
from dcatalog.identity.citizen_key import CitizenKeyer
from dcatalog.identity.models import Citizen, CitizenSession
from dcatalog.identity.national_id import with_check_digit
from dcatalog.identity.sessions import CITIZEN_COOKIE, principal_for
from tests.conftest import TEST_PEPPER, TEST_SECRET_KEY, PostgresDatabases, _new_database_url
from tests.factories import csrf_from
from tests.helpers import dump_all_rows, free_port, run_cli, serving
from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, TestProvider, running_provider

KEYER = CitizenKeyer(TEST_PEPPER.encode())
_CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


@dataclass
class Site:
    base: str
    engine: Engine
    log: Path

    def citizens_with(self, national_id: str) -> int:
        with Session(self.engine) as session:
            key = KEYER.key(national_id)
            return (
                session.scalar(
                    select(func.count()).select_from(Citizen).where(Citizen.citizen_key == key)
                )
                or 0
            )


@pytest.fixture(scope="module")
def provider() -> Iterator[TestProvider]:
    with running_provider() as running:
        yield running


@pytest.fixture(scope="module")
def site(
    backend: str,
    provider: TestProvider,
    tmp_path_factory: pytest.TempPathFactory,
    postgres_databases: PostgresDatabases,
) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp(f"signin-{backend}")
    url = _new_database_url(backend, folder, postgres_databases)
    env = {
        "DCATALOG_DATABASE_URL": url,
        "DCATALOG_INSTANCE_DIR": str(folder / "var"),
        "DCATALOG_PEPPER": TEST_PEPPER,
        "DCATALOG_SECRET_KEY": TEST_SECRET_KEY,
        "DCATALOG_OIDC_ISSUER": provider.issuer,
        "DCATALOG_OIDC_CLIENT_ID": CLIENT_ID,
        "DCATALOG_OIDC_CLIENT_SECRET": CLIENT_SECRET,
    }
    migrated = run_cli("migrate", env=env)
    assert migrated.returncode == 0, migrated.stderr
    log = folder / "server.log"
    with serving(env, log, "--workers", "2") as base:
        provider.client.redirect_uris.append(f"{base}/me/sign-in/callback")
        engine = create_db_engine(url)
        try:
            yield Site(base, engine, log)
        finally:
            engine.dispose()


@pytest.fixture
def browser(site: Site, provider: TestProvider) -> Iterator[httpx.Client]:
    """A fresh browser (its own cookies) reading English, and a provider reset."""
    provider.reset()
    with httpx.Client(base_url=site.base, follow_redirects=True, timeout=30) as client:
        client.cookies.set("lang", "en")
        yield client


def _hop(client: httpx.Client, url: str) -> httpx.Response:
    return client.get(url, follow_redirects=False)


def _callback(
    client: httpx.Client, next_url: str | None = None, tamper: Callable[[str], str] | None = None
) -> httpx.Response:
    """Walk the flow one redirect at a time; answer what the callback answers."""
    start = _hop(
        client, "/me/sign-in/oidc" + (f"?{urlencode({'next': next_url})}" if next_url else "")
    )
    assert start.status_code == 303, start.text
    at_provider = _hop(client, start.headers["location"])
    assert at_provider.status_code == 302, at_provider.text
    back = at_provider.headers["location"]
    return _hop(client, tamper(back) if tamper else back)


def _with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode(query)))


def _csrf(page: httpx.Response) -> str:
    match = _CSRF.search(page.text)
    assert match, "no CSRF token on the page"
    return match.group(1)


# The whole flow ------------------------------------------------------------------


def test_sign_in_with_the_provider_then_sign_out(
    site: Site, provider: TestProvider, browser: httpx.Client
) -> None:
    national_id = with_check_digit("110170020345")
    provider.sign_in_as(national_id, birthdate="2004-03-15")

    page = browser.get("/me/sign-in/oidc", params={"next": "/me/sign-in"})

    assert page.status_code == 200, page.text
    assert page.url.path == "/me/sign-in"
    assert "You are signed in." in page.text
    # The request the provider saw: PKCE with S256, a nonce, a state, our scopes.
    sent = provider.authorize_requests[-1]
    assert sent["code_challenge_method"] == "S256"
    assert len(sent["code_challenge"]) >= 43
    assert sent["nonce"]
    assert sent["state"]
    assert sent["scope"] == "openid pid birthdate"
    assert sent["redirect_uri"] == f"{site.base}/me/sign-in/callback"
    # The citizen exists under the key, with the birth date; the ID is nowhere.
    key = KEYER.key(national_id)
    with Session(site.engine) as session:
        citizen = session.get(Citizen, key)
        assert citizen is not None
        assert citizen.born_on == date(2004, 3, 15)
        token = browser.cookies[CITIZEN_COOKIE]
        principal = principal_for(session, token)
        assert principal is not None
        assert principal.citizen_key == key
        assert principal.method == "oidc:thaid"
    assert national_id not in dump_all_rows(site.engine)
    assert national_id not in site.log.read_text()
    assert oidc.FLOW_COOKIE not in {c.name for c in browser.cookies.jar}  # used up

    signed_out = browser.post("/me/sign-out", data={"csrf_token": _csrf(page)})

    assert signed_out.status_code == 200
    assert signed_out.url.path == "/"
    assert CITIZEN_COOKIE not in browser.cookies
    with Session(site.engine) as session:
        assert principal_for(session, token) is None
    again = browser.get("/me/sign-in")
    assert "You are signed in." not in again.text
    assert "Sign in with ThaiD" in again.text


def test_the_callback_goes_to_me_with_safe_cookies(
    site: Site, provider: TestProvider, browser: httpx.Client
) -> None:
    provider.sign_in_as(with_check_digit("310170020346"))

    start = _hop(browser, "/me/sign-in/oidc")
    flow_cookie = next(
        c for c in start.headers.get_list("set-cookie") if c.startswith(oidc.FLOW_COOKIE)
    )
    assert "HttpOnly" in flow_cookie
    assert "samesite=lax" in flow_cookie.lower()
    assert "Path=/me/sign-in/callback" in flow_cookie
    at_provider = _hop(browser, start.headers["location"])
    done = _hop(browser, at_provider.headers["location"])

    assert done.status_code == 303
    assert done.headers["location"] == "/me"
    session_cookie = next(
        c for c in done.headers.get_list("set-cookie") if c.startswith(CITIZEN_COOKIE)
    )
    assert "HttpOnly" in session_cookie
    assert "samesite=lax" in session_cookie.lower()


def test_only_a_local_next_is_followed(
    site: Site, provider: TestProvider, browser: httpx.Client
) -> None:
    provider.sign_in_as(with_check_digit("310170020347"))
    done = _callback(browser, next_url="https://evil.example/steal")
    assert done.status_code == 303
    assert done.headers["location"] == "/"


def test_a_tampered_state_is_refused(
    site: Site, provider: TestProvider, browser: httpx.Client
) -> None:
    national_id = with_check_digit("310170020348")
    provider.sign_in_as(national_id)

    refused = _callback(browser, tamper=lambda url: _with_query(url, state="forged-state"))

    assert refused.status_code == 400
    assert "does not belong to the sign-in started in this browser" in refused.text
    assert CITIZEN_COOKIE not in browser.cookies
    assert provider.token_requests == 0  # the code was never traded
    assert site.citizens_with(national_id) == 0


def test_a_callback_in_another_browser_is_refused(
    site: Site, provider: TestProvider, browser: httpx.Client
) -> None:
    national_id = with_check_digit("310170020349")
    provider.sign_in_as(national_id)
    start = _hop(browser, "/me/sign-in/oidc")
    back = _hop(browser, start.headers["location"]).headers["location"]

    with httpx.Client(cookies={"lang": "en"}) as other:
        refused = other.get(back)

    assert refused.status_code == 400
    assert "started in another browser" in refused.text
    assert site.citizens_with(national_id) == 0


def test_an_id_token_signed_by_another_key_is_refused(
    site: Site, provider: TestProvider, browser: httpx.Client
) -> None:
    national_id = with_check_digit("310170020350")
    provider.sign_in_as(national_id)
    provider.sign_with_unpublished_key = True

    refused = _callback(browser)

    assert refused.status_code == 502
    assert "could not be verified" in refused.text
    assert provider.token_requests == 1  # the token came, and was not believed
    assert CITIZEN_COOKIE not in browser.cookies
    assert site.citizens_with(national_id) == 0
    assert national_id not in site.log.read_text()


def test_an_id_token_without_the_national_id_is_refused(
    site: Site, provider: TestProvider, browser: httpx.Client
) -> None:
    provider.sign_in_as(None)
    with Session(site.engine) as session:
        before = session.scalar(select(func.count()).select_from(Citizen))

    refused = _callback(browser)

    assert refused.status_code == 502
    assert "did not share your national ID number" in refused.text
    with Session(site.engine) as session:
        assert session.scalar(select(func.count()).select_from(Citizen)) == before


def test_an_invalid_national_id_is_refused_without_repeating_it(
    site: Site, provider: TestProvider, browser: httpx.Client
) -> None:
    valid = with_check_digit("310170020355")
    bad = valid[:-1] + str((int(valid[-1]) + 1) % 10)  # wrong check digit
    provider.sign_in_as(bad)

    refused = _callback(browser)

    assert refused.status_code == 502
    assert "not valid" in refused.text
    assert bad not in refused.text
    assert bad not in site.log.read_text()


def test_cancelling_at_the_provider_says_so(
    site: Site, provider: TestProvider, browser: httpx.Client
) -> None:
    provider.sign_in_as(with_check_digit("310170020351"))
    provider.deny = True

    page = browser.get("/me/sign-in/oidc")

    assert page.status_code == 400
    assert page.url.path == "/me/sign-in/callback"
    assert "You cancelled signing in with ThaiD" in page.text
    assert provider.token_requests == 0


def test_the_sign_in_page_is_thai_first(site: Site) -> None:
    page = httpx.get(f"{site.base}/me/sign-in")
    assert page.status_code == 200
    assert "ลงชื่อเข้าใช้ด้วย ThaiD" in page.text
    assert 'href="/me/sign-in/oidc?next=/me"' in page.text


# Without a provider, and the demo sign-in (in process) ------------------------------


def _client(app: FastAPI) -> TestClient:
    client = TestClient(app, raise_server_exceptions=False)
    client.cookies.set("lang", "en")
    return client


def test_without_an_issuer_the_page_says_sign_in_is_not_set_up(client: TestClient) -> None:
    client.cookies.set("lang", "en")
    page = client.get("/me/sign-in")
    assert page.status_code == 200
    assert "Sign-in for citizens is not set up on this server yet." in page.text
    assert "/me/sign-in/oidc" not in page.text
    assert "/me/sign-in/demo" not in page.text  # no demo form outside demo mode

    start = client.get("/me/sign-in/oidc", follow_redirects=False)
    assert start.status_code == 404
    assert "not set up" in start.text
    callback = client.get("/me/sign-in/callback?code=x&state=y", follow_redirects=False)
    assert callback.status_code == 404


def test_the_demo_sign_in_is_refused_outside_demo_mode(
    client: TestClient, session: Session
) -> None:
    national_id = with_check_digit("310170020352")
    token = csrf_from(client, "/login")
    response = client.post(
        "/me/sign-in/demo",
        data={"national_id": national_id, "born_on": "2000-01-01", "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 404
    assert session.get(Citizen, KEYER.key(national_id)) is None


def test_the_demo_sign_in_in_demo_mode(
    settings: Settings, database: Database, session: Session
) -> None:
    client = _client(create_app(settings.model_copy(update={"demo": True}), database=database))
    national_id = with_check_digit("310170020353")
    page = client.get("/me/sign-in?next=/me/deeds")
    assert 'action="/me/sign-in/demo"' in page.text
    token = _csrf_in(page.text)

    wrong = client.post(
        "/me/sign-in/demo",
        data={"national_id": national_id[:-1] + "0", "born_on": "2006-02-01", "csrf_token": token},
        follow_redirects=False,
    )
    assert wrong.status_code == 400
    assert "check digit does not match" in wrong.text
    no_date = client.post(
        "/me/sign-in/demo",
        data={"national_id": national_id, "born_on": "", "csrf_token": token},
        follow_redirects=False,
    )
    assert no_date.status_code == 400
    assert session.get(Citizen, KEYER.key(national_id)) is None

    done = client.post(
        "/me/sign-in/demo",
        data={
            "national_id": national_id,
            "born_on": "2006-02-01",
            "next": "/me/deeds",
            "csrf_token": token,
        },
        follow_redirects=False,
    )

    assert done.status_code == 303
    assert done.headers["location"] == "/me/deeds"
    principal = principal_for(session, client.cookies[CITIZEN_COOKIE])
    assert principal is not None
    assert principal.method == "demo"
    assert principal.born_on == date(2006, 2, 1)
    citizen_session = session.scalar(
        select(CitizenSession).where(CitizenSession.citizen_key == principal.citizen_key)
    )
    assert citizen_session is not None
    assert "You are signed in." in client.get("/me/sign-in").text

    # Signing in again (here as someone else) ends the session the browser had.
    first = client.cookies[CITIZEN_COOKIE]
    other = with_check_digit("310170020356")
    client.post(
        "/me/sign-in/demo",
        data={"national_id": other, "born_on": "1990-05-05", "csrf_token": token},
        follow_redirects=False,
    )
    session.expire_all()
    assert principal_for(session, first) is None
    second = principal_for(session, client.cookies[CITIZEN_COOKIE])
    assert second is not None
    assert second.citizen_key == KEYER.key(other)


def _csrf_in(text: str) -> str:
    match = _CSRF.search(text)
    assert match
    return match.group(1)


def test_an_unreachable_provider_gives_a_readable_page(
    settings: Settings, database: Database
) -> None:
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    configured = settings.model_copy(update={"oidc_issuer": closed, "oidc_client_id": CLIENT_ID})
    client = _client(create_app(configured, database=database))

    page = client.get("/me/sign-in")
    assert "Sign in with ThaiD" in page.text
    refused = client.get("/me/sign-in/oidc", follow_redirects=False)

    assert refused.status_code == 503
    assert "ThaiD did not answer. Please try again in a few minutes." in refused.text
    assert "Traceback" not in refused.text


# The pieces ---------------------------------------------------------------------------


def test_the_flow_cookie_is_signed_and_short_lived() -> None:
    secret = b"s" * 32
    flow = oidc.Flow("state", "nonce", "verifier", "/me")
    sealed = oidc.seal_flow(flow, secret, now=1_000_000)

    assert oidc.open_flow(sealed, secret, now=1_000_000 + 60) == flow
    with pytest.raises(oidc.SignInFailed) as late:
        oidc.open_flow(sealed, secret, now=1_000_000 + oidc.FLOW_SECONDS + 1)
    assert late.value.reason == "expired"
    payload, mac = sealed.split(".")
    forged = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + mac
    with pytest.raises(oidc.SignInFailed):
        oidc.open_flow(forged, secret, now=1_000_000)
    with pytest.raises(oidc.SignInFailed):
        oidc.open_flow(sealed, b"t" * 32, now=1_000_000)


@pytest.mark.parametrize(
    ("sent", "expected"),
    [
        ("2004-03-15", date(2004, 3, 15)),
        ("2547-03-15", date(2004, 3, 15)),  # a Buddhist Era year
        ("20040315", date(2004, 3, 15)),
        ("0000-03-15", None),  # year withheld
        ("2004-02-30", None),
        ("2999-01-01", None),  # in the future
        ("15/03/2004", None),
        (None, None),
    ],
)
def test_birth_dates_as_providers_send_them(sent: object, expected: date | None) -> None:
    assert oidc.parse_birthdate(sent, today=date(2026, 1, 1)) == expected


def test_an_identity_never_prints_the_id() -> None:
    national_id = with_check_digit("310170020354")
    identity = oidc.identity_from_claims({"pid": national_id}, "pid", "birthdate")
    assert identity.national_id == national_id
    assert national_id not in repr(identity)
