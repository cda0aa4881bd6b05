"""``dcatalog serve`` as operators run it: several workers, one set of metrics."""

from pathlib import Path

import httpx2 as httpx

from tests.conftest import TEST_PEPPER, TEST_SECRET_KEY
from tests.helpers import run_cli, serving


def test_two_workers_answer_and_metrics_add_up(fresh_database_url: str, tmp_path: Path) -> None:
    env = {
        "DCATALOG_DATABASE_URL": fresh_database_url,
        "DCATALOG_INSTANCE_DIR": str(tmp_path / "var"),
        "DCATALOG_PEPPER": TEST_PEPPER,
        "DCATALOG_SECRET_KEY": TEST_SECRET_KEY,
    }
    assert run_cli("migrate", env=env).returncode == 0
    with (
        serving(env, tmp_path / "server.log", "--workers", "2") as base,
        httpx.Client(base_url=base) as client,
    ):
        for _ in range(20):
            assert client.get("/healthz").status_code == 200
        metrics = client.get("/metrics").text
        home = client.get("/")
    line = 'dcatalog_http_requests_total{method="GET",route="/healthz",status="200"} 20.0'
    assert line in metrics
    assert home.status_code == 200
    assert (tmp_path / "var" / "prometheus").is_dir()
    log = (tmp_path / "server.log").read_text()
    assert '"event": "request"' in log  # structured access log from the workers
