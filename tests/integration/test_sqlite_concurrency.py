"""Many API clients at once on the embedded SQLite file: no "database is locked".

A read session that later writes (an API key's last-used time used to be written so)
fails at once on SQLite when another writer committed since it began; writers must
take the write lock up front. Here every request authenticates a key whose last-used
time is due, and records a deed, from several threads at once.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from dcatalog.accounts import service as accounts
from dcatalog.accounts.models import ApiKey
from dcatalog.actors import SYSTEM
from dcatalog.agencies.service import get_agency
from dcatalog.app import create_app
from dcatalog.calendars.buddhist_era import today_in_thailand
from dcatalog.config import Settings
from dcatalog.db import Database
from dcatalog.deeds.models import Deed
from dcatalog.demo.service import load_demo
from dcatalog.identity.national_id import with_check_digit
from dcatalog.schema import upgrade_engine
from tests.conftest import TEST_PEPPER, TEST_SECRET_KEY

THREADS = 6
REQUESTS = 40


def test_concurrent_api_writers_on_sqlite_never_see_a_locked_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'dcatalog.sqlite3'}"
    database = Database.from_url(url, snapshot_seconds=0)
    upgrade_engine(database.engine)
    with database.write_session() as session:
        load_demo(session)
        agency = get_agency(session, "kys")
        keys = [
            accounts.create_api_key(session, SYSTEM, agency, f"k{i}", ["deeds:write"])[1]
            for i in range(THREADS * REQUESTS)
        ]
        session.commit()
    settings = Settings(
        instance_dir=tmp_path / "var",
        database_url=url,
        pepper=TEST_PEPPER,  # type: ignore[arg-type]
        secret_key=TEST_SECRET_KEY,  # type: ignore[arg-type]
        snapshot_seconds=0,
        allowed_hosts="testserver",
    )
    app = create_app(settings, database=database)
    day = (today_in_thailand() - timedelta(days=3)).isoformat()
    statuses: list[int] = []
    failures: list[str] = []

    def client_thread(number: int) -> None:
        with TestClient(app, raise_server_exceptions=False) as client:
            for i in range(REQUESTS):
                key = keys[number * REQUESTS + i]
                deed = {
                    "national_id": with_check_digit(f"1{number:03d}{i:08d}"),
                    "deed_type": "kys.volunteer_activity",
                    "quantity": "1",
                    "occurred_on": day,
                    "province": "TH-10",
                    "external_id": f"t{number}-{i}",
                }
                response = client.post(
                    "/api/v1/deeds", json=deed, headers={"authorization": f"Bearer {key}"}
                )
                statuses.append(response.status_code)
                if response.status_code >= 500:
                    failures.append(response.text)

    threads = [threading.Thread(target=client_thread, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(statuses) == THREADS * REQUESTS
    assert set(statuses) <= {200, 201}, sorted(set(statuses))
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Deed)) == THREADS * REQUESTS
        unused = session.scalar(
            select(func.count()).select_from(ApiKey).where(ApiKey.last_used_at.is_(None))
        )
        assert unused == 0  # every key's use was written
    database.dispose()
