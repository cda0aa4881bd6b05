"""kill -9 in the middle of a 200,000-row import, as the issue that made imports
jobs asked: on PostgreSQL a `dcatalog worker` dies and a new one finishes the job;
on SQLite `dcatalog serve` (which runs the jobs itself) dies and starts again.
Either way the job finishes by itself, every row is imported or reported exactly
once (a row done twice would come back "unchanged") and the tallies match."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx2 as httpx
from sqlalchemy import func, select

from dcatalog.accounts import service as accounts
from dcatalog.actors import SYSTEM
from dcatalog.agencies.service import get_agency
from dcatalog.calendars.buddhist_era import today_in_thailand
from dcatalog.db import Database
from dcatalog.deeds.models import Deed
from dcatalog.jobs import Job
from tests.conftest import DemoTemplate, copy_demo, serve_env
from tests.factories import nid
from tests.helpers import run_cli, server
from tests.integration.test_worker import working

ROWS = 200_000
BAD_EVERY = 997  # a row whose ID fails its checksum: reported, never imported
BAD = [n for n in range(ROWS) if n % BAD_EVERY == 0]
KILL_AFTER = 50_000  # rows done when the process is killed


def big_file() -> bytes:
    day = (today_in_thailand() - timedelta(days=3)).isoformat()
    lines = ["national_id,deed_type,quantity,occurred_on,province,evidence,external_id"]
    for n in range(ROWS):
        person = "1234545678789" if n % BAD_EVERY == 0 else nid(n, series="7")
        lines.append(f"{person},kys.volunteer_activity,1,{day},TH-10,,big-{n}")
    return ("\n".join(lines) + "\n").encode()


def api_key(database_url: str) -> dict[str, str]:
    database = Database.from_url(database_url)
    try:
        with database.write_session() as session:
            agency = get_agency(session, "demouniv")
            _key, plain = accounts.create_api_key(session, SYSTEM, agency, "bulk", ["deeds:write"])
            session.commit()
    finally:
        database.dispose()
    return {"Authorization": f"Bearer {plain}"}


def poll(
    client: httpx.Client,
    url: str,
    until: Callable[[dict[str, Any]], bool],
    *,
    alive: Callable[[], bool],
    log: Path,
    seconds: float = 900,
) -> dict[str, Any]:
    """The job's state once ``until`` holds (the bound only stops a hung test)."""
    deadline = time.monotonic() + seconds
    while True:
        job: dict[str, Any] = client.get(url).json()
        if until(job):
            return job
        assert job["status"] != "failed", job
        assert alive(), log.read_text()[-3000:]
        assert time.monotonic() < deadline, f"stuck at {job}"
        time.sleep(0.2)


def test_a_killed_process_leaves_a_job_that_finishes_by_itself_row_for_row(
    backend: str,
    demo_template: Callable[..., DemoTemplate],
    fresh_database_url: str,
    tmp_path: Path,
) -> None:
    copy_demo(demo_template(backend, accounts=False), fresh_database_url, tmp_path / "var")
    auth = api_key(fresh_database_url)
    env = serve_env(fresh_database_url, tmp_path / "var")
    postgres = backend == "postgresql"
    web = {**env, "DCATALOG_JOBS_IN_PROCESS": "false"} if postgres else env
    log = tmp_path / "processes.log"
    with (
        server(web, log) as (base, app),
        httpx.Client(base_url=base, headers=auth, timeout=120) as client,
    ):
        answer = client.post(
            "/api/v1/deeds/import", files={"file": ("big.csv", big_file(), "text/csv")}
        )
        assert answer.status_code == 202, answer.text
        job_url = answer.headers["location"]
        assert answer.json()["rows_total"] == ROWS
        if postgres:  # a worker process of its own, killed in the middle
            with working(env, log) as worker:
                poll(client, job_url, lambda j: j["rows_done"] >= KILL_AFTER, alive=lambda: worker.poll() is None, log=log)  # fmt: skip
                worker.send_signal(signal.SIGKILL)
                worker.wait(30)
            stopped = client.get(job_url).json()
            assert stopped["status"] == "running"  # as the dead worker left it
            assert KILL_AFTER <= stopped["rows_done"] < ROWS
            with working(env, log) as worker:  # a new worker: the job resumes
                done = poll(client, job_url, lambda j: j["status"] == "done", alive=lambda: worker.poll() is None, log=log)  # fmt: skip
        else:  # serve runs the jobs itself: the whole server dies
            poll(client, job_url, lambda j: j["rows_done"] >= KILL_AFTER, alive=lambda: app.poll() is None, log=log)  # fmt: skip
            app.send_signal(signal.SIGKILL)
            app.wait(30)
    if not postgres:  # started again, it finds the job its earlier life left running
        with (
            server(web, log) as (base, app),
            httpx.Client(base_url=base, headers=auth, timeout=120) as client,
        ):
            done = poll(client, job_url, lambda j: j["status"] == "done", alive=lambda: app.poll() is None, log=log)  # fmt: skip
    assert done["rows_done"] == ROWS
    result = done["result"]
    assert result["rows"] == ROWS
    assert (result["imported"], result["unchanged"]) == (ROWS - len(BAD), 0)
    assert (result["rejected"], result["errors_total"]) == (len(BAD), len(BAD))
    assert [e["row"] for e in result["errors"]] == [n + 2 for n in BAD]  # each once, in order
    database = Database.from_url(fresh_database_url)
    try:
        with database.session() as session:
            assert session.scalar(select(func.count()).select_from(Deed)) == ROWS - len(BAD)
            job = session.scalars(select(Job).where(Job.kind == "deeds.import")).one()
            assert job.attempt == 2, log.read_text()[-6000:]  # killed once, resumed once
    finally:
        database.dispose()
    checked = run_cli("tallies", "check", env=env)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "Tallies match the deeds." in checked.stdout
