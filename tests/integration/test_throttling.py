"""Throttling, on both databases: guessed API keys, staff passwords and claim codes
get 429 past their limits, and so do floods of citizens' sign-ins, consent changes
and credential checks. Every 429 is a problem document (a readable page on pages)
with Retry-After and the RateLimit fields; the staff sign-in says nothing about
which e-mails have accounts and lets no client lock anyone else out."""

from __future__ import annotations

import os
import re
import socket
import uuid
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy.orm import Session

from dcatalog.accounts import service as accounts
from dcatalog.accounts.permissions import Role
from dcatalog.actors import SYSTEM
from dcatalog.app import create_app
from dcatalog.config import Settings
from dcatalog.db import Database
from dcatalog.identity.national_id import with_check_digit
from tests.factories import (
    PASSWORD,
    csrf_from,
    make_account,
    make_agency,
    post_form,
    sign_in,
    sign_in_citizen,
)

CITIZEN = with_check_digit("110370012345")
REDIS_URL = os.environ.get("DCATALOG_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def app_with(settings: Settings, database: Database, **changes: object) -> FastAPI:
    return create_app(settings.model_copy(update=changes), database=database)


@pytest.fixture
def clients(app: FastAPI) -> Iterator[dict[str, TestClient]]:
    """Two browsers or systems at different addresses, on the same app."""
    with (
        TestClient(app, raise_server_exceptions=False, client=("10.0.0.1", 1234)) as one,
        TestClient(app, raise_server_exceptions=False, client=("10.0.0.2", 1234)) as two,
    ):
        yield {"one": one, "two": two}


def assert_throttled(response: Response, problem: bool = True) -> None:
    assert response.status_code == 429, response.text[:300]
    assert int(response.headers["retry-after"]) >= 1
    assert re.fullmatch(r'"[a-z-]+";q=\d+;w=\d+', response.headers["ratelimit-policy"])
    assert re.fullmatch(r'"[a-z-]+";r=0;t=\d+', response.headers["ratelimit"])
    if problem:
        assert response.headers["content-type"].startswith("application/problem+json")
        body = response.json()
        assert body["type"] == "/problems/too-many-attempts"
        assert body["status"] == 429
    else:
        assert response.headers["content-type"].startswith("text/html")
        assert "พยายามหลายครั้งเกินไป" in response.text


# --- API keys ---------------------------------------------------------------------


def test_guessed_api_keys_are_throttled_per_client(
    clients: dict[str, TestClient], session: Session
) -> None:
    _key, good = accounts.create_api_key(
        session, SYSTEM, make_agency(session), "recording", ["deeds:write"]
    )
    guesser, agency = clients["one"], clients["two"]
    for number in range(10):
        wrong = guesser.get(
            "/api/v1/deeds", headers={"Authorization": f"Bearer dck_guess{number}_nope"}
        )
        assert wrong.status_code == 401
    eleventh = guesser.get("/api/v1/deeds", headers={"Authorization": "Bearer dck_x_nope"})
    assert_throttled(eleventh)
    assert eleventh.headers["ratelimit-policy"] == '"api-key-failures";q=10;w=900'
    # Past the limit the key is not even looked at: a right one is refused too …
    right = guesser.get("/api/v1/deeds", headers={"Authorization": f"Bearer {good}"})
    assert right.status_code == 429
    # … but only from that address: the agency's own system goes on working.
    assert agency.get("/api/v1/deeds", headers={"Authorization": f"Bearer {good}"}).status_code == (
        200
    )


# --- staff sign-in ----------------------------------------------------------------


WRONG = "not the password!"  # a wrong password, on purpose


def _attempt(client: TestClient, email: str, password: str = WRONG) -> Response:
    token = csrf_from(client)
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token, "next": "/staff"},
        follow_redirects=False,
    )


def _comparable(response: Response, email: str) -> tuple[int, str, dict[str, str]]:
    body = response.text.replace(email, "EMAIL")
    body = re.sub(r"\b[0-9a-f]{64}\b", "CSRF-TOKEN", body)  # each browser has its own
    headers = {
        name: re.sub(r"\d+", "N", value) if name in ("retry-after", "ratelimit") else value
        for name, value in response.headers.items()
        if name not in ("date", "x-request-id", "set-cookie", "content-length")
    }
    return response.status_code, body, headers


def test_unknown_and_known_emails_get_the_same_answers(
    clients: dict[str, TestClient], session: Session
) -> None:
    known = make_account(session, Role.PROGRAM_ADMIN).email
    unknown = "nobody.here@example.org"
    statuses = []
    for _ in range(7):
        for_known = _comparable(_attempt(clients["one"], known), known)
        for_unknown = _comparable(_attempt(clients["two"], unknown), unknown)
        assert for_known == for_unknown
        statuses.append(for_known[0])
    assert statuses == [400] * 5 + [429] * 2


def test_a_throttled_client_locks_out_no_one_else(
    clients: dict[str, TestClient], session: Session
) -> None:
    email = make_account(session, Role.PROGRAM_ADMIN).email
    guesser, owner = clients["one"], clients["two"]
    for _ in range(5):
        assert _attempt(guesser, email).status_code == 400
    refused = _attempt(guesser, email, PASSWORD)  # even the right password, from there
    assert_throttled(refused, problem=False)
    assert refused.headers["ratelimit-policy"] == '"sign-in-account-client";q=5;w=900'
    assert "Too many" in refused.text or "พยายามหลายครั้งเกินไป" in refused.text
    # The account's owner, elsewhere, signs in as usual.
    assert _attempt(owner, email, PASSWORD).status_code == 303


def test_one_client_trying_many_accounts_is_throttled(
    clients: dict[str, TestClient], session: Session
) -> None:
    sprayer = clients["one"]
    for number in range(20):
        assert _attempt(sprayer, f"someone{number}@example.org").status_code == 400
    assert _attempt(sprayer, "someone.else@example.org").status_code == 429
    assert _attempt(clients["two"], "someone.else@example.org").status_code == 400


def test_guessing_one_account_from_many_addresses_is_throttled(
    settings: Settings, database: Database, session: Session
) -> None:
    app = app_with(settings, database, rate_limit_sign_in_account="3/hour")
    email = make_account(session, Role.PROGRAM_ADMIN).email
    for number in range(3):
        with TestClient(app, client=(f"10.0.1.{number}", 1)) as guesser:
            assert _attempt(guesser, email).status_code == 400
    with TestClient(app, client=("10.0.2.1", 1)) as next_one:
        refused = _attempt(next_one, email, PASSWORD)
    assert refused.status_code == 429
    assert refused.headers["ratelimit-policy"] == '"sign-in-account";q=3;w=3600'


# --- claim codes ------------------------------------------------------------------


def test_guessed_claim_codes_are_throttled_per_client_and_per_key(
    settings: Settings, database: Database, session: Session
) -> None:
    app = app_with(settings, database, rate_limit_claim_codes="3/15minutes")
    agency = make_agency(session, "redcross", "ngo")
    _key, plain = accounts.create_api_key(session, SYSTEM, agency, "counter", ["benefits:redeem"])
    headers = {"Authorization": f"Bearer {plain}"}
    with (
        TestClient(app, client=("10.0.0.1", 1)) as one,
        TestClient(app, client=("10.0.0.2", 1)) as two,
    ):
        for code in ("AAAAAAAAAA", "BBBBBBBBBB", "short"):
            answer = one.post("/api/v1/claims/redeem", json={"code": code}, headers=headers)
            assert answer.status_code in (200, 422)
        assert_throttled(
            one.post("/api/v1/claims/redeem", json={"code": "CCCCCCCCCC"}, headers=headers)
        )
        # The same key from another address: the key's own count is spent too.
        assert_throttled(
            two.post("/api/v1/claims/redeem", json={"code": "DDDDDDDDDD"}, headers=headers)
        )


def test_the_counter_page_throttles_guessed_codes(
    settings: Settings, database: Database, session: Session
) -> None:
    app = app_with(settings, database, rate_limit_claim_codes="2/15minutes")
    agency = make_agency(session, "redcross", "ngo")
    email = make_account(session, Role.AGENCY_ADMIN, agency).email
    with TestClient(app) as staff:
        sign_in(staff, email)
        for code in ("AAAAAAAAAA", "BBBBBBBBBB"):
            assert post_form(staff, "/staff/redeem", {"code": code}, "/staff/redeem").is_success
        refused = post_form(staff, "/staff/redeem", {"code": "CCCCCCCCCC"}, "/staff/redeem")
    assert_throttled(refused, problem=False)


# --- citizens and the public --------------------------------------------------------


def test_demo_sign_ins_are_throttled(
    settings: Settings, database: Database, session: Session
) -> None:
    app = app_with(settings, database, demo=True, rate_limit_citizen_sign_in="3/minute")
    with TestClient(app) as browser:
        for _ in range(3):
            answer = post_form(
                browser,
                "/me/sign-in/demo",
                {"national_id": CITIZEN, "born_on": "2004-03-01"},
                "/me/sign-in",
            )
            assert answer.status_code in (303, 400)
        refused = post_form(
            browser,
            "/me/sign-in/demo",
            {"national_id": CITIZEN, "born_on": "2004-03-01"},
            "/me/sign-in",
        )
        assert_throttled(refused, problem=False)
        assert_throttled(browser.get("/me/sign-in/oidc", follow_redirects=False), problem=False)


def test_consent_changes_are_throttled(
    settings: Settings, database: Database, session: Session
) -> None:
    app = app_with(settings, database, rate_limit_consent="3/minute")
    with TestClient(app, raise_server_exceptions=False) as browser:
        sign_in_citizen(browser, session, CITIZEN)
        for _ in range(3):
            withdrawn = post_form(
                browser, f"/me/consents/{uuid.uuid4()}/withdraw", {}, "/me/consents"
            )
            assert withdrawn.status_code == 404
        granted = post_form(
            browser,
            "/me/consents",
            {"agency": "kys", "purpose": "loan", "scope": ["virtue:volunteering"]},
            "/me/consents",
        )
        assert_throttled(granted, problem=False)


def test_credential_checks_are_throttled(
    settings: Settings, database: Database, session: Session
) -> None:
    app = app_with(settings, database, rate_limit_verify="2/minute")
    with TestClient(app, raise_server_exceptions=False) as anyone:
        assert anyone.post("/api/v1/credentials/verify", json={}).status_code == 200
        assert post_form(anyone, "/verify", {"credential": "{}"}, "/verify").status_code == 200
        assert_throttled(anyone.post("/api/v1/credentials/verify", json={}))
        assert_throttled(post_form(anyone, "/verify", {"credential": "{}"}, "/verify"), False)


# --- shared counts in Redis -----------------------------------------------------------


def _redis_reachable() -> None:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=2).close()
    except OSError as exc:
        message = f"Redis not reachable at {REDIS_URL}: {exc}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)


def test_processes_share_their_counts_in_redis(
    settings: Settings, database: Database, session: Session
) -> None:
    _redis_reachable()
    # Two apps stand for two worker processes; a fresh address keeps runs apart.
    address = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    first, second = (
        app_with(
            settings, database, rate_limit_storage=REDIS_URL, rate_limit_api_key_failures="3/minute"
        )
        for _ in range(2)
    )
    bad = {"Authorization": "Bearer dck_guess_nope"}
    with (
        TestClient(first, client=(address, 1)) as one,
        TestClient(second, client=(address, 1)) as two,
    ):
        assert one.get("/api/v1/deeds", headers=bad).status_code == 401
        assert two.get("/api/v1/deeds", headers=bad).status_code == 401
        assert one.get("/api/v1/deeds", headers=bad).status_code == 401
        assert_throttled(two.get("/api/v1/deeds", headers=bad))
