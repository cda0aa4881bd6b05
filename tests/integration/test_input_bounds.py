"""Input is bounded and clean before any route runs: body size (also without
Content-Length), JSON nesting, control characters in every place text arrives; the
same clear answer on SQLite and PostgreSQL, and nothing written."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dcatalog.app import create_app
from dcatalog.calendars.buddhist_era import today_in_thailand
from dcatalog.config import Settings
from dcatalog.db import Database
from dcatalog.deeds.models import Deed
from dcatalog.demo.service import load_demo
from dcatalog.problems import PROBLEM_JSON, ValidationProblem
from dcatalog.web.request_guard import json_depth
from tests.integration.test_deeds import SOMSRI, api_deed, deed, key_actor, record

pytestmark = pytest.mark.demo_data  # on the demo's reference data, loaded once

SMALL = 20_000


@pytest.fixture
def small_app(settings: Settings, database: Database) -> FastAPI:
    limited = settings.model_copy(update={"max_body_bytes": SMALL, "max_upload_bytes": 3 * SMALL})
    return create_app(limited, database=database)


@pytest.fixture
def small(small_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(small_app, raise_server_exceptions=False) as client:
        yield client


def deed_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Deed)) or 0)


def assert_problem(response, status: int, slug: str) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert body["type"] == f"/problems/{slug}"
    return dict(body)


@pytest.mark.parametrize("path", ["/api/v1/deeds", "/api/v1/credentials/verify"])
def test_a_large_body_is_refused_before_anyone_is_asked_who_sent_it(
    small: TestClient, path: str
) -> None:
    body = b'{"x": "' + b"a" * (SMALL * 2) + b'"}'
    response = small.post(path, content=body, headers={"content-type": "application/json"})
    problem = assert_problem(response, 413, "payload-too-large")
    assert problem["max_bytes"] == SMALL
    # Answered before authentication: not the 401 a caller without a key would get.
    assert "www-authenticate" not in response.headers


def test_a_large_body_without_content_length_is_cut_off(small: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"deeds": ['
        for _ in range(200):
            yield b'{"evidence": "' + b"x" * 500 + b'"},'
        yield b"{}]}"

    response = small.post(
        "/api/v1/deeds", content=chunks(), headers={"content-type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert_problem(response, 413, "payload-too-large")


def test_uploads_have_their_own_larger_limit(
    small: TestClient, session: Session, demo: None
) -> None:
    _actor, key = key_actor(session, "kys", "deeds:write")
    session.commit()
    auth = {"authorization": f"Bearer {key}"}
    header = "national_id,deed_type,quantity,occurred_on,province,external_id\n"
    row = f"{SOMSRI},kys.volunteer_activity,1,{today_in_thailand() - timedelta(days=3)},TH-10,"
    fits = header + "".join(f"{row}r{i}\n" for i in range(600))  # ≈ 2 × the body limit
    assert SMALL < len(fits) < 3 * SMALL
    accepted = small.post(
        "/api/v1/deeds/import", files={"file": ("a.csv", fits, "text/csv")}, headers=auth
    )
    assert accepted.status_code < 400, accepted.text[:500]
    too_big = header + "".join(f"{row}s{i}\n" for i in range(2000))
    refused = small.post(
        "/api/v1/deeds/import", files={"file": ("b.csv", too_big, "text/csv")}, headers=auth
    )
    assert_problem(refused, 413, "payload-too-large")


def test_a_page_form_that_is_too_large_gets_a_readable_page(small: TestClient) -> None:
    response = small.post(
        "/login",
        data={"email": "a" * (SMALL * 2), "password": "x"},
        headers={"accept": "text/html"},
    )
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")
    assert "คำขอหรือไฟล์มีขนาดใหญ่เกินกำหนด" in response.text


def test_deep_json_is_refused_before_it_is_parsed(client: TestClient) -> None:
    nested = "[" * 5000 + "]" * 5000
    for path in ("/api/v1/credentials/verify", "/api/v1/deeds"):
        response = client.post(path, content=nested, headers={"content-type": "application/json"})
        problem = assert_problem(response, 422, "validation-error")
        assert "nested 5000 levels" in problem["detail"]
    credential = {"credential": {"achievement": {}}}
    inner = credential["credential"]["achievement"]
    for _ in range(300):
        inner["related"] = {}
        inner = inner["related"]
    response = client.post("/api/v1/credentials/verify", json=credential)
    assert_problem(response, 422, "validation-error")


def test_json_depth_ignores_brackets_inside_strings() -> None:
    assert json_depth(b'{"a": "[[[[{{{{", "b": [1, {"c": "]]]"}]}') == 3
    assert json_depth(b'["\\"[[[", [[]]]') == 3


def test_nul_in_a_public_search_is_a_clear_error_on_both_databases(client: TestClient) -> None:
    response = client.get("/api/v1/deed-types?q=a%00b")
    problem = assert_problem(response, 422, "validation-error")
    assert problem["errors"] == [{"detail": problem["errors"][0]["detail"], "parameter": "query"}]
    page = client.get("/catalog?q=a%00b", headers={"accept": "text/html"})
    assert page.status_code == 422
    assert "คำขอไม่ถูกต้อง" in page.text
    assert client.get("/catalog/a%00b").status_code == 422


@pytest.fixture
def demo(session: Session) -> None:
    load_demo(session)
    session.commit()


def test_nul_in_a_deed_is_refused_with_its_pointer_and_nothing_is_written(
    client: TestClient, session: Session, demo: None
) -> None:
    _actor, key = key_actor(session, "kys", "deeds:write")
    session.commit()
    before = deed_count(session)
    for control in ("\u0000", "\u0007", "\u001b"):
        body = {"deeds": [api_deed(external_id="ok-1"), api_deed(evidence=f"a{control}b")]}
        response = client.post(
            "/api/v1/deeds", json=body, headers={"authorization": f"Bearer {key}"}
        )
        problem = assert_problem(response, 422, "validation-error")
        assert problem["errors"][0]["pointer"] == "#/deeds/1/evidence"
    assert deed_count(session) == before
    # Line breaks and tabs are text: accepted.
    fine = client.post(
        "/api/v1/deeds",
        content=json.dumps({"deeds": [api_deed(evidence="line 1\nline\t2")]}),
        headers={"authorization": f"Bearer {key}", "content-type": "application/json"},
    )
    assert fine.status_code < 400, fine.text


def test_nul_in_a_page_form_gets_a_readable_page(client: TestClient) -> None:
    response = client.post(
        "/login", data={"email": "a\x00@b.c", "password": "x"}, headers={"accept": "text/html"}
    )
    assert response.status_code == 422
    assert "คำขอไม่ถูกต้อง" in response.text


def test_the_database_refuses_nul_text_the_same_on_both(session: Session, demo: None) -> None:
    """The last line, for a path that missed the checks at the door (a CLI, a job)."""
    actor, _key = key_actor(session, "kys", "deeds:write")
    session.commit()
    before = deed_count(session)
    with pytest.raises(ValidationProblem, match="NUL"):
        record(session, actor, deed(evidence="nul \x00 here", external_id="nul-1"))
    session.rollback()
    assert deed_count(session) == before
