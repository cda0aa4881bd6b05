"""Imports from the upload page run as jobs: progress, result, error report,
all or nothing, only the agency's own staff see them, interrupted jobs end failed."""

import csv
import io
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dcatalog.accounts.permissions import Role
from dcatalog.accounts.service import actor_for
from dcatalog.agencies.service import get_agency
from dcatalog.app import create_app
from dcatalog.audit.models import AuditEvent
from dcatalog.config import Settings
from dcatalog.db import Database, utcnow
from dcatalog.deeds import importing, jobs, service
from dcatalog.deeds.models import Deed, ImportJob, ImportStatus
from dcatalog.demo.service import load_demo
from dcatalog.identity.citizen_key import CitizenKeyer
from dcatalog.schema import upgrade_engine
from tests.conftest import TEST_PEPPER
from tests.factories import csrf_from, make_account, make_agency, sign_in
from tests.integration.test_import import TODAY, be, messy_rows, nid, write_csv

HEADINGS_SENT = ["เลขประจำตัวประชาชน", "ประเภทความดี", "จำนวน", "วันที่", "จังหวัด", "หลักฐาน", "รหัสอ้างอิง"]

RULES = service.Rules(today=TODAY, max_age_days=730, academic_start=(5, 16))
KEYER = CitizenKeyer(TEST_PEPPER.encode())
HTMX = {"HX-Request": "true"}


def inline(work):  # type: ignore[no-untyped-def]
    """Run the import in the request (the test's database is one connection)."""
    work()


def messy_file(tmp_path: Path) -> bytes:
    rows, _ = messy_rows()
    # 12: columns swapped: the ID landed in the province column.
    rows.append(
        [
            "kys.volunteer_activity",
            nid(9),
            "1",
            be(TODAY - timedelta(days=20)),
            nid(9),
            "",
            "r-12",
        ]
    )
    path = tmp_path / "hours.csv"
    write_csv(path, rows)
    return path.read_bytes()


def upload(client: TestClient, content: bytes, name: str = "hours.csv", **form: str):  # type: ignore[no-untyped-def]
    token = csrf_from(client, "/staff/deeds/import")
    return client.post(
        "/staff/deeds/import",
        data={"csrf_token": token, **form},
        files={"file": (name, content, "text/csv")},
        headers=HTMX,
    )


def job_id_in(text: str) -> uuid.UUID:
    match = re.search(r"/staff/deeds/imports/([0-9a-f-]{36})", text)
    assert match, text[:500]
    return uuid.UUID(match.group(1))


@pytest.fixture
def recorder_client(app: FastAPI, session: Session) -> TestClient:
    load_demo(session)
    recorder = make_account(session, Role.RECORDER, get_agency(session, "demouniv"))
    app.state.background = inline
    client = TestClient(app)
    sign_in(client, recorder.email)
    return client


def test_an_upload_becomes_a_job_with_its_counts_and_error_report(
    recorder_client: TestClient, session: Session, tmp_path: Path, settings: Settings
) -> None:
    answer = upload(recorder_client, messy_file(tmp_path))
    assert answer.status_code == 202, answer.text
    job_id = job_id_in(answer.text)
    assert "<progress" in answer.text
    assert "11 จาก 11 แถว" in answer.text  # rows processed of the total
    assert "นำเข้าแล้ว 2 แถว" in answer.text
    assert "8 แถวต้องแก้ไข" in answer.text
    assert 'hx-trigger="every 1s"' not in answer.text  # done: the page stops polling

    again = recorder_client.get(f"/staff/deeds/imports/{job_id}", headers=HTMX)
    assert again.status_code == 200
    assert again.text.lstrip().startswith("<section")  # the partial, for htmx
    page = recorder_client.get(f"/staff/deeds/imports/{job_id}")
    assert "<html" in page.text
    assert "hours.csv" in page.text

    report = recorder_client.get(f"/staff/deeds/imports/{job_id}/errors.csv")
    assert report.status_code == 200
    assert report.headers["content-type"].startswith("text/csv")
    assert "attachment" in report.headers["content-disposition"]
    assert report.content.startswith("\ufeff".encode())  # Excel reads the Thai as UTF-8
    rows = list(csv.reader(io.StringIO(report.content.decode("utf-8-sig"))))
    sent, expected = messy_rows()
    # The file's own headings, then the reason; each refused row as it was sent.
    assert rows[0] == [*HEADINGS_SENT, "เหตุที่ไม่รับ"]
    refused = {int(re.match(r"แถว (\d+)", r[-1]).group(1)): r for r in rows[1:]}  # type: ignore[union-attr]
    labels = dict(zip(importing.COLUMNS, HEADINGS_SENT, strict=True))
    for row, column in expected.items():
        if column not in ("imported", "unchanged"):
            assert refused[row][:-1] == sent[row - 2], row
            assert f"{labels[column]}:" in refused[row][-1], row
    assert "จังหวัด:" in refused[12][-1]
    assert "หลักตรวจสอบไม่ตรง" in refused[5][-1]  # the reason in Thai
    # The database never holds a national ID in clear: the refused rows are sealed.
    stored = session.scalars(select(ImportJob.error_report)).one()
    assert stored.startswith("sealed:")
    for n in range(1, 10):
        assert nid(n) not in stored
    # The download gives the clerk back only the rows to fix (with their IDs as sent).
    assert nid(2) not in report.text  # imported
    assert nid(9) in report.text  # row 12, to fix

    job = session.get(ImportJob, job_id)
    assert job is not None
    session.refresh(job)
    assert job.status is ImportStatus.DONE
    assert (job.rows_done, job.rows_total) == (11, 11)
    assert (job.imported, job.unchanged, job.rejected, job.rolled_back) == (2, 1, 8, False)
    assert job.started_by == "staff:recorder.demouniv@example.org"
    assert job.finished_at is not None
    assert session.scalar(select(func.count()).select_from(Deed)) == 2
    started = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "import_job.start")
    ).one()
    assert started.entity_id == str(job_id)
    assert started.after is not None
    assert started.after["file_name"] == "hours.csv"
    assert list(jobs.uploads_folder(settings).iterdir()) == []  # the upload is gone

    listing = recorder_client.get("/staff/deeds/import").text
    assert f"/staff/deeds/imports/{job_id}" in listing
    assert "นำเข้า 2 แถว, ส่งมาแล้ว 1 แถว, ต้องแก้ไข 8 แถว" in listing


def test_all_or_nothing_rolls_back_every_row(
    recorder_client: TestClient, session: Session, tmp_path: Path
) -> None:
    answer = upload(recorder_client, messy_file(tmp_path), all_or_nothing="true")
    assert answer.status_code == 202
    job = session.get(ImportJob, job_id_in(answer.text))
    assert job is not None
    session.refresh(job)
    assert job.status is ImportStatus.DONE
    assert job.all_or_nothing
    assert job.rolled_back
    assert (job.imported, job.unchanged) == (0, 0)
    assert "ไม่ได้นำเข้าข้อมูลใดเลย" in answer.text
    assert session.scalar(select(func.count()).select_from(Deed)) == 0


def test_files_that_cannot_be_imported(
    recorder_client: TestClient, session: Session, settings: Settings
) -> None:
    wrong = upload(recorder_client, b"%PDF", name="hours.pdf")
    assert wrong.status_code == 422
    assert ".csv" in wrong.text
    assert session.scalar(select(func.count()).select_from(ImportJob)) == 0

    partial = upload(recorder_client, b"national_id,deed_type\n1,2\n", name="partial.csv")
    assert partial.status_code == 202
    job = session.get(ImportJob, job_id_in(partial.text))
    assert job is not None
    session.refresh(job)
    assert job.status is ImportStatus.FAILED
    assert "missing column(s): quantity" in job.failure
    assert "นำเข้าไฟล์นี้ไม่ได้" in partial.text
    assert list(jobs.uploads_folder(settings).iterdir()) == []

    # An XLSX archive is checked before a job is made (tabular.inspect): refused at once.
    broken = upload(recorder_client, b"not a workbook", name="hours.xlsx")
    assert broken.status_code == 422
    assert "ไฟล์นี้ไม่ใช่ไฟล์ XLSX ที่อ่านได้" in broken.text
    assert session.scalar(select(func.count()).select_from(ImportJob)) == 1  # partial.csv's
    assert list(jobs.uploads_folder(settings).iterdir()) == []


def test_progress_is_written_as_the_import_goes(
    database: Database,
    session: Session,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    load_demo(session)
    actor = actor_for(make_account(session, Role.RECORDER, get_agency(session, "demouniv")))
    day = be(TODAY - timedelta(days=5))
    rows = [[nid(n), "kys.volunteer_activity", "1", day, "TH-10", "", f"p-{n}"] for n in range(35)]
    rows[12][0] = "1234545678789"  # refused: the rows read still count as processed
    source = tmp_path / "many.csv"
    write_csv(source, rows)
    monkeypatch.setattr(importing, "BATCH", 10)
    started: list = []
    with source.open("rb") as handle:
        job = jobs.start(
            database,
            KEYER,
            RULES,
            actor,
            handle,
            "many.csv",
            all_or_nothing=False,
            folder=jobs.uploads_folder(settings),
            background=started.append,
        )
    assert job.status is ImportStatus.QUEUED
    assert job.rows_total == 35
    assert len(started) == 1

    stored: list[int] = []
    ticks = iter(range(100))

    def clock() -> float:
        # Called as the import reports each batch: look at what the job shows now.
        with database.session() as look:
            stored.append(look.get_one(ImportJob, job.id).rows_done)
        return float(next(ticks))  # a second passes between batches

    path = jobs.uploads_folder(settings) / f"{job.id}.csv"
    jobs.run(database, KEYER, RULES, actor, job.id, path, clock=clock)

    # What each batch wrote, seen as the next one reports: it grows batch by batch.
    assert stored[0] == 0
    assert len(stored) >= 3
    assert stored == sorted(set(stored))
    with database.session() as look:
        done = look.get_one(ImportJob, job.id)
    assert done.status is ImportStatus.DONE
    assert (done.rows_done, done.imported, done.rejected) == (35, 34, 1)
    assert not path.exists()


def test_progress_is_written_at_most_once_a_second(database: Database, session: Session) -> None:
    agency = make_agency(session, "school", "school")
    job = ImportJob(
        agency_id=agency.id,
        started_by="staff:a@example.org",
        file_name="f.csv",
        status=ImportStatus.RUNNING,
        rows_total=100,
    )
    session.add(job)
    session.commit()
    now = [0.0]
    writer = jobs.ProgressWriter(database, job.id, clock=lambda: now[0])

    def shown() -> int:
        session.expire_all()
        return session.get_one(ImportJob, job.id).rows_done

    writer(10)
    assert shown() == 10
    now[0] = 0.4
    writer(20)
    assert shown() == 10  # too soon: skipped
    now[0] = 1.2
    writer(30)
    assert shown() == 30


def test_only_the_agencys_own_staff_see_its_imports(
    recorder_client: TestClient, app: FastAPI, session: Session, tmp_path: Path
) -> None:
    job_id = job_id_in(upload(recorder_client, messy_file(tmp_path)).text)
    paths = [f"/staff/deeds/imports/{job_id}", f"/staff/deeds/imports/{job_id}/errors.csv"]

    other = TestClient(app)
    sign_in(other, make_account(session, Role.RECORDER, get_agency(session, "kys")).email)
    for path in paths:
        assert other.get(path).status_code == 404, path
        assert other.get(path, headers=HTMX).status_code == 404, path
    assert str(job_id) not in other.get("/staff/deeds/import").text

    verifier = TestClient(app)  # the same agency, but no deeds:write
    sign_in(verifier, make_account(session, Role.VERIFIER, get_agency(session, "demouniv")).email)
    for path in paths:
        assert verifier.get(path).status_code == 403, path

    anonymous = TestClient(app)
    for path in paths:
        answer = anonymous.get(path, follow_redirects=False)
        assert answer.status_code == 303, path
        assert answer.headers["location"].startswith("/login"), path


def _left_running(session: Session, agency_id: uuid.UUID, runner: str, quiet_for: timedelta):  # type: ignore[no-untyped-def]
    job = ImportJob(
        agency_id=agency_id,
        started_by="staff:a@example.org",
        file_name="left.csv",
        status=ImportStatus.RUNNING,
        rows_total=100,
        rows_done=40,
        runner=runner,
        heartbeat_at=utcnow() - quiet_for,
    )
    session.add(job)
    session.commit()
    return job


def test_jobs_left_running_by_a_dead_process_end_failed(
    database: Database, session: Session, settings: Settings
) -> None:
    agency = make_agency(session, "school", "school")
    actor = actor_for(make_account(session, Role.RECORDER, agency))
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)  # fmt: skip
    host = socket.gethostname()
    died_here = _left_running(session, agency.id, f"{host}:{ended.stdout.strip()}", timedelta(0))
    alive_here = _left_running(session, agency.id, f"{host}:{os.getppid()}", timedelta(0))
    elsewhere_quiet = _left_running(session, agency.id, "other-host:12", timedelta(hours=1))
    elsewhere_busy = _left_running(session, agency.id, "other-host:13", timedelta(seconds=5))
    folder = jobs.uploads_folder(settings)
    folder.mkdir(parents=True)
    (folder / f"{died_here.id}.csv").write_text("x")
    (folder / f"{alive_here.id}.csv").write_text("x")
    fresh_orphan = folder / f"{uuid.uuid4()}.csv"  # an upload becoming a job right now
    fresh_orphan.write_text("x")
    old_orphan = folder / f"{uuid.uuid4()}.csv"
    old_orphan.write_text("x")
    os.utime(old_orphan, (time.time() - 7200, time.time() - 7200))

    # At start-up: this machine's dead process is found at once.
    assert jobs.recover(database, folder) == 1
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [f"{alive_here.id}.csv", fresh_orphan.name]
    )
    # When read: another machine's job is failed once it has been quiet too long.
    assert jobs.view(database, actor, died_here.id).status is ImportStatus.FAILED
    assert jobs.view(database, actor, alive_here.id).status is ImportStatus.RUNNING
    assert jobs.view(database, actor, elsewhere_busy.id).status is ImportStatus.RUNNING
    listed = {j.id: j for j in jobs.recent(database, actor)}
    assert listed[elsewhere_quiet.id].status is ImportStatus.FAILED
    assert listed[elsewhere_quiet.id].failure == jobs.INTERRUPTED
    assert listed[elsewhere_busy.id].status is ImportStatus.RUNNING


def test_a_real_background_import_shows_its_progress(
    fresh_database_url: str, settings: Settings, tmp_path: Path
) -> None:
    """The import runs in a thread of the server while the page polls it."""
    database = Database.from_url(fresh_database_url)
    upgrade_engine(database.engine)
    with database.session() as session:
        load_demo(session)
        session.commit()
        recorder = make_account(session, Role.RECORDER, get_agency(session, "demouniv"))
    app = create_app(settings, database=database)
    try:
        with TestClient(app) as client:
            sign_in(client, recorder.email)
            day = be(TODAY - timedelta(days=4))
            rows = [
                [nid(n), "kys.volunteer_activity", "1", day, "TH-10", "", f"bg-{n}"]
                for n in range(300)
            ]
            source = tmp_path / "bg.csv"
            write_csv(source, rows)
            answer = upload(client, source.read_bytes(), name="bg.csv")
            assert answer.status_code == 202
            job_id = job_id_in(answer.text)
            seen = [answer.text]
            deadline = time.monotonic() + 120  # a guard against hanging, not a measurement
            while 'data-status="done"' not in seen[-1]:
                assert 'data-status="failed"' not in seen[-1], seen[-1]
                assert time.monotonic() < deadline, "the import never finished"
                time.sleep(0.05)
                seen.append(client.get(f"/staff/deeds/imports/{job_id}", headers=HTMX).text)
            assert all('hx-trigger="every 1s"' in text for text in seen[:-1])
            assert 'hx-trigger="every 1s"' not in seen[-1]
            assert "300 จาก 300 แถว" in seen[-1]
        with database.session() as session:
            assert session.scalar(select(func.count()).select_from(Deed)) == 300
    finally:
        database.dispose()
