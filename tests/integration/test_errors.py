"""Every API error is an RFC 9457 problem document; pages get readable pages."""

from typing import Annotated

import pytest
from fastapi import FastAPI, Query
from fastapi.testclient import TestClient
from markupsafe import escape
from pydantic import BaseModel, Field

from dcatalog.access import public
from dcatalog.problems import PROBLEM_JSON, PROBLEM_TYPES

SECRET_ID = "1234545678781"


class ProbeBody(BaseModel):
    national_id: str = Field(pattern=r"^\d{13}$")
    quantity: int = Field(gt=0)


@pytest.fixture
def probed(app: FastAPI) -> FastAPI:
    """The real application plus two routes that fail on purpose."""

    @app.post("/api/v1/_probe", dependencies=[public])
    def probe(body: ProbeBody, limit: Annotated[int, Query(le=100)] = 10) -> dict[str, int]:
        return {"quantity": body.quantity, "limit": limit}

    @app.get("/api/v1/_crash", dependencies=[public])
    def crash() -> None:
        raise RuntimeError(f"database password is hunter2 for {SECRET_ID}")

    # Move the probes in front of the /api catch-all.
    app.router.routes.sort(
        key=lambda route: (
            "_probe" not in getattr(route, "path", "")
            and "_crash" not in getattr(route, "path", "")
        )
    )
    return app


@pytest.fixture
def probe_client(probed: FastAPI) -> TestClient:
    with TestClient(probed, raise_server_exceptions=False) as client:
        yield client  # type: ignore[misc]


def assert_problem(response, status: int, slug: str) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert body["type"] == f"/problems/{slug}"
    assert body["status"] == status
    assert body["title"] == PROBLEM_TYPES[slug].title
    assert body["detail"]
    return body


def test_unknown_api_routes_are_problem_documents(client: TestClient) -> None:
    body = assert_problem(client.get("/api/v1/no-such-thing"), 404, "not-found")
    assert body["instance"] == "/api/v1/no-such-thing"
    assert_problem(client.delete("/api/elsewhere"), 404, "not-found")


def test_validation_errors_point_at_each_field_and_never_echo_input(
    probe_client: TestClient,
) -> None:
    response = probe_client.post(
        "/api/v1/_probe?limit=1000", json={"national_id": f"{SECRET_ID}x", "quantity": -3}
    )
    body = assert_problem(response, 422, "validation-error")
    where = {e.get("pointer") or e.get("parameter") for e in body["errors"]}
    assert where == {"#/national_id", "#/quantity", "limit"}
    assert all(e["detail"] for e in body["errors"])
    assert SECRET_ID not in response.text


def test_a_body_that_is_not_json_is_a_bad_request(probe_client: TestClient) -> None:
    response = probe_client.post(
        "/api/v1/_probe", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert_problem(response, 400, "bad-request")


def test_a_crash_reveals_nothing_but_a_request_id(probe_client: TestClient) -> None:
    response = probe_client.get("/api/v1/_crash")
    body = assert_problem(response, 500, "server-error")
    assert "hunter2" not in response.text
    assert SECRET_ID not in response.text
    assert "Traceback" not in response.text
    assert "X-Request-ID" in body["detail"]


def test_wrong_method_is_405_with_allow_header(client: TestClient) -> None:
    response = client.post("/healthz", headers={"accept": "application/json"})
    assert_problem(response, 405, "method-not-allowed")
    assert response.headers["allow"] == "GET"


@pytest.mark.parametrize(
    ("method", "path", "allow"),  # the /api catch-all takes every method: not a 404
    [
        ("DELETE", "/api/v1/deeds", "GET, POST"),
        ("PATCH", "/api/v1/catalog/deed-types/kys.volunteer_activity", "GET"),
        ("GET", "/api/v1/claims/redeem", "POST"),
    ],
)
def test_a_known_api_address_with_a_wrong_method_is_405_not_404(
    client: TestClient, method: str, path: str, allow: str
) -> None:
    response = client.request(method, path)
    body = assert_problem(response, 405, "method-not-allowed")
    assert response.headers["allow"] == allow
    assert method in body["detail"]


def test_pages_get_a_readable_page_in_thai(client: TestClient) -> None:
    response = client.get("/no/such/page", headers={"accept": "text/html"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "ไม่พบสิ่งที่ร้องขอ" in response.text
    assert "กลับสู่หน้าแรก" in response.text


def test_every_problem_type_is_documented_at_its_address(client: TestClient) -> None:
    for slug, kind in PROBLEM_TYPES.items():
        response = client.get(kind.uri)
        assert response.status_code == 200, slug
        assert str(escape(kind.description)) in response.text
    assert client.get("/problems/no-such-type", headers={"accept": "text/html"}).status_code == 404
