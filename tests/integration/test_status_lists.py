"""The published status lists: signed once per change and kept in the database, so
every app process serves the same document; valid for a day (`validUntil`), and
signed again by the workers' periodic job before half of that is gone."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from dcatalog.app import create_app
from dcatalog.config import Settings
from dcatalog.credentials import service as credentials
from dcatalog.credentials import status_list, status_lists
from dcatalog.credentials.models import PublishedStatusList
from dcatalog.db import Database, transaction, utcnow
from dcatalog.jobs import Job, Jobs, JobStatus, create
from tests.factories import make_issued_credential

PUBLIC = "https://dcatalog.test"
LIST = "/credentials/status/1"


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_every_app_serves_the_same_signed_list_until_a_bit_changes(
    app: FastAPI, client: TestClient, session: Session, settings: Settings, database: Database
) -> None:
    settings.public_url = PUBLIC
    first = client.get(LIST)
    assert first.status_code == 200
    document = first.json()
    assert document["id"] == f"{PUBLIC}{LIST}"
    lasts = _moment(document["validUntil"]) - _moment(document["validFrom"])
    assert lasts == timedelta(hours=24)
    assert client.get(LIST).json() == document  # not signed again
    other = TestClient(create_app(settings, database=database))  # another app process
    assert other.get(LIST).json() == document

    credential = make_issued_credential(session)
    assert credential.status_list == 1
    with transaction(session):
        credentials.revoke(session, credential, "the deed was withdrawn")
    changed = other.get(LIST).json()
    assert changed["proof"] != document["proof"]
    bits = status_list.decode(changed["credentialSubject"]["encodedList"])
    assert status_list.is_set(bits, credential.status_index)
    assert client.get(LIST).json() == changed  # the first app serves the new one too


def test_the_workers_sign_lists_again_before_half_their_validity_is_gone(
    client: TestClient, session: Session, settings: Settings, database: Database
) -> None:
    settings.public_url = PUBLIC
    published = client.get(LIST).json()
    queue = Jobs(database, settings)  # immediate: a wake-up runs the job here

    def republish() -> Job:
        with database.write_session() as write, transaction(write):
            job_id = create(write, status_lists.KIND, created_by="test").id
        queue.wake(job_id)
        with database.session() as look:
            return look.get_one(Job, job_id)

    fresh = republish()
    assert fresh.status is JobStatus.DONE
    assert fresh.result == {"lists": 1, "signed": 0}  # up to date: left alone
    with transaction(session):  # 13 hours later: less than half of its day left
        row = session.get_one(PublishedStatusList, (PUBLIC, 1))
        row.valid_until = utcnow() + timedelta(hours=11)
    assert republish().result == {"lists": 1, "signed": 1}
    session.expire_all()
    row = session.get_one(PublishedStatusList, (PUBLIC, 1))
    assert timedelta(hours=23) < row.valid_until - utcnow() <= timedelta(hours=24)
    # (Signed within the same second, the new document may equal the old one:
    # Ed25519 is deterministic and the dates are to the second.)
    assert client.get(LIST).json() == row.document
    assert _moment(published["validUntil"]) <= _moment(row.document["validUntil"])


def test_without_a_public_address_the_workers_leave_the_lists_to_their_readers(
    settings: Settings, database: Database
) -> None:
    assert settings.public_url is None
    queue = Jobs(database, settings)
    with database.write_session() as write, transaction(write):
        job_id = create(write, status_lists.KIND, created_by="test").id
    queue.wake(job_id)
    with database.session() as look:
        job = look.get_one(Job, job_id)
    assert job.status is JobStatus.DONE
    assert job.result["skipped"] == "no DCATALOG_PUBLIC_URL"
