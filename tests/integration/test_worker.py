"""Web and worker processes as operators run them at national scale: two app
processes on instance folders of their own and one `dcatalog worker`, sharing
nothing but PostgreSQL. The programme office asks app A for a progress report
and a school's clerk uploads a file of deeds to app A; the worker makes the
report and imports the file; app B shows their progress and serves their files
(the report, the refused rows to fix)."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import httpx2 as httpx
import pytest

from dcatalog.calendars.buddhist_era import today_in_thailand
from dcatalog.calendars.periods import fiscal_year
from tests.conftest import DemoTemplate, copy_demo, serve_env
from tests.factories import nid
from tests.helpers import _clean_environment, serving

OFFICE = ("office@pmdu.demo", "demo-password-2569")
RECORDER = ("recorder@demouniv.demo", "demo-password-2569")
_CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


@contextmanager
def working(env: dict[str, str], log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log_path.open("a") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "dcatalog", "worker", "--threads", "2"],
            env={**_clean_environment(), **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(60)


def _sign_in(client: httpx.Client, app: str, who: tuple[str, str]) -> None:
    token = _csrf(client, f"{app}/login")
    signed_in = client.post(
        f"{app}/login",
        data={"email": who[0], "password": who[1], "csrf_token": token, "next": "/"},
    )
    assert signed_in.status_code == 303, signed_in.text


def _upload_deeds(clerk: httpx.Client, app: str) -> str:
    """The clerk uploads a file of two rows, one to fix; the job's page address."""
    _sign_in(clerk, app, RECORDER)
    day = (today_in_thailand() - timedelta(days=2)).isoformat()
    content = (
        "national_id,deed_type,quantity,occurred_on,province,evidence,external_id\n"
        f"{nid(1, series='8')},kys.volunteer_activity,2,{day},TH-10,,r-good\n"
        f"{nid(2, series='8')},kys.volunteer_activity,2,{day},Atlantis,,r-bad\n"
    )
    form = f"{app}/staff/deeds/import"
    sent = clerk.post(
        form,
        data={"csrf_token": _csrf(clerk, form)},
        files={"file": ("hours.csv", content.encode(), "text/csv")},
    )
    assert sent.status_code == 303, sent.text  # a browser without scripts: the job's page
    return sent.headers["location"]


def _wait_done(client: httpx.Client, url: str, worker: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 300
    while 'data-status="done"' not in (page := client.get(url)).text:
        assert worker.poll() is None, log.read_text()
        assert 'data-status="failed"' not in page.text, log.read_text()
        assert time.monotonic() < deadline, f"the worker did not finish {url}"
        time.sleep(0.5)


def _csrf(client: httpx.Client, url: str) -> str:
    match = _CSRF.search(client.get(url).text)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def test_two_apps_and_a_worker_share_only_the_database(
    backend: str,
    demo_template: Callable[..., DemoTemplate],
    fresh_database_url: str,
    tmp_path: Path,
) -> None:
    if backend == "sqlite":
        pytest.skip("SQLite is one host: serve runs the jobs itself (test_progress_report)")
    copy_demo(demo_template(backend), fresh_database_url, tmp_path / "demo-var")
    web = {"DCATALOG_JOBS_IN_PROCESS": "false"}  # web processes do no background work
    env_a = {**serve_env(fresh_database_url, tmp_path / "a"), **web}
    env_b = {**serve_env(fresh_database_url, tmp_path / "b"), **web}
    env_w = serve_env(fresh_database_url, tmp_path / "w")
    period = str(fiscal_year(today_in_thailand()))
    with (
        serving(env_a, tmp_path / "a.log") as app_a,
        serving(env_b, tmp_path / "b.log") as app_b,
        httpx.Client(timeout=60) as client,
        httpx.Client(timeout=60) as clerk,
    ):
        _sign_in(client, app_a, OFFICE)
        form = f"{app_a}/admin/reports/progress"
        asked = client.post(form, data={"period": period, "csrf_token": _csrf(client, form)})
        assert asked.status_code == 303, asked.text
        job_path = asked.headers["location"]
        # No worker yet: the job waits, and app B says so.
        waiting = client.get(f"{app_b}{job_path}")
        assert 'data-status="queued"' in waiting.text
        assert "รอ" in waiting.text  # "waiting for a worker", in Thai
        import_path = _upload_deeds(clerk, app_a)
        assert 'data-status="queued"' in clerk.get(f"{app_b}{import_path}").text
        with working(env_w, tmp_path / "worker.log") as worker:
            for who, path in ((client, job_path), (clerk, import_path)):
                _wait_done(who, f"{app_b}{path}", worker, tmp_path / "worker.log")
        imported = clerk.get(f"{app_b}{import_path}").text
        assert "นำเข้าแล้ว 1 แถว" in imported
        refused = clerk.get(f"{app_b}{import_path}/errors.csv")
        assert refused.status_code == 200
        assert "r-bad" in refused.text  # the row to fix, as it was sent
        assert "r-good" not in refused.text
        pdf = client.get(f"{app_b}{job_path}/report.pdf")
        assert pdf.status_code == 200
        assert pdf.content.startswith(b"%PDF")
        assert f"progress-report-fy-{period}.pdf" in pdf.headers["content-disposition"]
        assert client.get(f"{app_a}{job_path}/report.xlsx").content.startswith(b"PK")
    # Nothing of the job on any host's disk: the files live in the database.
    for folder in ("a", "b", "w"):
        kept = [
            p.name
            for p in (tmp_path / folder).rglob("*")
            if p.suffix in (".pdf", ".xlsx", ".csv", ".json") or p.name in ("imports", "reports")
        ]
        assert kept == [], folder
    log = (tmp_path / "worker.log").read_text()
    assert "job done" in log
    assert worker.returncode == 0, log  # SIGTERM: a clean stop
