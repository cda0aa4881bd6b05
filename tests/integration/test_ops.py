from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from dcatalog.app import create_app
from dcatalog.config import Settings
from dcatalog.db import Database


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_when_everything_is_in_place(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "checks": {"database": "ok", "migrations": "ok", "pepper": "ok"},
    }


def test_readyz_says_503_until_the_database_is_migrated(
    fresh_database_url: str, settings: Settings
) -> None:
    database = Database.from_url(fresh_database_url)
    with TestClient(create_app(settings, database=database)) as client:
        response = client.get("/readyz")
    database.dispose()
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready"
    assert "dcatalog migrate" in body["checks"]["migrations"]


def test_readyz_says_503_when_the_database_is_unreachable(settings: Settings) -> None:
    database = Database.from_url("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
    with TestClient(create_app(settings, database=database)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"].startswith("unreachable")


def test_readyz_refuses_a_pepper_other_than_the_databases(
    client: TestClient, database: Database, settings: Settings
) -> None:
    assert client.get("/readyz").status_code == 200  # records the test pepper
    other = settings.model_copy(update={"pepper": SecretStr("a different pepper, long enough!!")})
    with TestClient(create_app(other, database=database)) as second:
        response = second.get("/readyz")
    assert response.status_code == 503
    assert "pepper" in response.json()["checks"]["pepper"]


METRICS_TOKEN = "metrics-token-0123456789abcdef"


@pytest.fixture
def prometheus(settings: Settings, database: Database) -> Iterator[TestClient]:
    """A client of an app whose /metrics needs a token, from another machine."""
    guarded = settings.model_copy(update={"metrics_token": SecretStr(METRICS_TOKEN)})
    with TestClient(create_app(guarded, database=database), client=("192.0.2.7", 4000)) as client:
        yield client


def test_metrics_count_requests_by_route_template(prometheus: TestClient) -> None:
    client = prometheus
    client.get("/healthz")
    client.get("/api/v1/nothing-here/0197d9a0-unknown")  # only the fallback matches
    client.get("/no/such/page")
    body = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).text
    assert 'dcatalog_http_requests_total{method="GET",route="/healthz",status="200"}' in body
    assert 'route="/api/{rest:path}",status="404"' in body
    assert 'route="<unmatched>",status="404"' in body
    assert "0197d9a0-unknown" not in body  # raw paths never become labels
    assert (
        'dcatalog_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/healthz"}'
        in body
    )


def test_every_response_carries_a_request_id(client: TestClient) -> None:
    generated = client.get("/healthz").headers["x-request-id"]
    assert len(generated) == 32
    assert (
        client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"]
        == "abc-123"
    )
    # A hostile id (newline, too long) is replaced, never echoed.
    replaced = client.get("/healthz", headers={"X-Request-ID": "x" * 200}).headers["x-request-id"]
    assert replaced != "x" * 200


def test_workers_starting_together_bind_the_pepper_once(fresh_database_url: str) -> None:
    import threading

    from dcatalog.identity.citizen_key import CitizenKeyer
    from dcatalog.identity.service import bind_pepper
    from dcatalog.schema import upgrade_engine

    database = Database.from_url(fresh_database_url)
    upgrade_engine(database.engine)
    keyer = CitizenKeyer(b"p" * 32)
    errors: list[BaseException] = []

    def start() -> None:
        try:
            with database.write_session() as session:
                bind_pepper(session, keyer)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    database.dispose()
    assert errors == []


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", f"Basic {METRICS_TOKEN}"])
def test_metrics_need_the_token_when_one_is_set(
    prometheus: TestClient, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = prometheus.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"
    assert "DCATALOG_METRICS_TOKEN" in response.json()["detail"]
    assert "dcatalog_http_requests_total" not in response.text


def test_metrics_without_a_token_answer_only_this_machine(
    settings: Settings, database: Database
) -> None:
    app = create_app(settings, database=database)
    with TestClient(app, client=("192.0.2.7", 4000)) as remote:
        refused = remote.get("/metrics", headers={"Accept": "text/plain"})
    with TestClient(app, client=("127.0.0.1", 4000)) as local:
        allowed = local.get("/metrics")
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert "DCATALOG_METRICS_TOKEN" in refused.json()["detail"]
    assert allowed.status_code == 200
    assert allowed.headers["content-type"].startswith("text/plain")
    assert "dcatalog_http_requests_total" in allowed.text
