import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from dcatalog.db import Database, create_db_engine, new_id, normalise_url
from dcatalog.identity.models import InstanceMeta
from dcatalog.schema import upgrade_engine


def test_each_backend_is_configured_as_intended(engine: Engine, backend: str) -> None:
    with engine.connect() as conn:
        if backend == "sqlite":
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        else:
            assert engine.dialect.driver == "psycopg"
            assert conn.execute(text("SHOW server_version")).scalar()


def test_plain_postgresql_urls_get_psycopg() -> None:
    assert normalise_url("postgresql://u@h/db").startswith("postgresql+psycopg://")
    assert normalise_url("sqlite:///x.db") == "sqlite:///x.db"


def test_times_come_back_aware_and_in_utc(session: Session) -> None:
    bangkok = datetime(2026, 11, 27, 0, 5, tzinfo=UTC) + timedelta(hours=0)
    session.add(InstanceMeta(key="test.time", value="x", updated_at=bangkok))
    session.commit()
    session.expire_all()
    stored = session.get(InstanceMeta, "test.time")
    assert stored is not None
    assert stored.updated_at == bangkok
    assert stored.updated_at.tzinfo is not None
    assert stored.updated_at.utcoffset() == timedelta(0)


def test_naive_times_are_refused(session: Session) -> None:
    session.add(InstanceMeta(key="test.naive", value="x", updated_at=datetime(2026, 1, 1)))  # noqa: DTZ001
    with pytest.raises(Exception, match="naive"):
        session.flush()


def test_ids_are_time_ordered_uuid7() -> None:
    ids = [new_id() for _ in range(100)]
    assert all(i.version == 7 for i in ids)
    assert ids == sorted(ids)


def test_two_writers_wait_for_each_other_instead_of_failing(fresh_database_url: str) -> None:
    database = Database(create_db_engine(fresh_database_url))
    upgrade_engine(database.engine)
    errors: list[BaseException] = []
    first_inside = threading.Event()

    def slow_writer() -> None:
        try:
            with database.write_session() as session:
                session.add(InstanceMeta(key="w1", value="1"))
                session.flush()
                first_inside.set()
                time.sleep(0.5)
                session.commit()
        except BaseException as exc:
            errors.append(exc)
            first_inside.set()

    def second_writer() -> None:
        first_inside.wait(5)
        try:
            with database.write_session() as session:
                current = session.get(InstanceMeta, "w1")
                session.add(InstanceMeta(key="w2", value="seen" if current else "not seen"))
                session.commit()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=slow_writer), threading.Thread(target=second_writer)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with database.session() as session:
        assert session.get(InstanceMeta, "w1") is not None
        second = session.get(InstanceMeta, "w2")
        assert second is not None
        if database.is_sqlite:
            # IMMEDIATE: the second writer waited for the first to commit.
            assert second.value == "seen"
    database.dispose()
