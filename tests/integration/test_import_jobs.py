"""Imports run as jobs: progress, result, error report, all or nothing, only the
agency's own staff see them; a run that dies midway resumes from its last batch
and every row is still accounted for exactly once."""

import csv
import io
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
from dcatalog.db import Database
from dcatalog.deeds import importing, jobs
from dcatalog.deeds.models import Deed
from dcatalog.demo.service import load_demo
from dcatalog.identity.citizen_key import CitizenKeyer
from dcatalog.jobs import Job, Jobs, JobStatus
from dcatalog.jobs import files as stored_files
from dcatalog.jobs.models import FileChunk, StoredFile
from dcatalog.schema import upgrade_engine
from tests.conftest import TEST_PEPPER
from tests.factories import csrf_from, make_account, sign_in
from tests.integration.test_import import TODAY, be, messy_rows, nid, write_csv

HEADINGS_SENT = ["เลขประจำตัวประชาชน", "ประเภทความดี", "จำนวน", "วันที่", "จังหวัด", "หลักฐาน", "รหัสอ้างอิง"]

KEYER = CitizenKeyer(TEST_PEPPER.encode())
HTMX = {"HX-Request": "true"}


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
    stored = b"".join(session.scalars(select(FileChunk.data)))
    assert stored
    for n in range(1, 10):
        assert nid(n).encode() not in stored
    # The download gives the clerk back only the rows to fix (with their IDs as sent).
    assert nid(2) not in report.text  # imported
    assert nid(9) in report.text  # row 12, to fix

    job = session.get(Job, job_id)
    assert job is not None
    session.refresh(job)
    assert (job.kind, job.status) == ("deeds.import", JobStatus.DONE)
    assert (job.done, job.total) == (11, 11)
    counts = job.counts
    assert (counts["imported"], counts["unchanged"], counts["rejected"]) == (2, 1, 8)
    assert not counts["rolled_back"]
    assert job.created_by == "staff:recorder.demouniv@example.org"
    assert job.finished_at is not None
    assert job.expires_at is not None
    assert session.scalar(select(func.count()).select_from(Deed)) == 2
    started = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "import_job.start")
    ).one()
    assert started.entity_id == str(job_id)
    # The upload (IDs in clear, sealed) went with the end of the job; the report stays.
    files = session.scalars(select(StoredFile).where(StoredFile.job_id == job_id)).all()
    assert [(f.is_input, f.sealed) for f in files] == [(False, True)]
    assert not (settings.instance_dir / "imports").exists()  # nothing on local disk

    listing = recorder_client.get("/staff/deeds/import").text
    assert f"/staff/deeds/imports/{job_id}" in listing
    assert "นำเข้า 2 แถว, ส่งมาแล้ว 1 แถว, ต้องแก้ไข 8 แถว" in listing


def test_all_or_nothing_rolls_back_every_row(
    recorder_client: TestClient, session: Session, tmp_path: Path
) -> None:
    answer = upload(recorder_client, messy_file(tmp_path), all_or_nothing="true")
    assert answer.status_code == 202
    job = session.get(Job, job_id_in(answer.text))
    assert job is not None
    session.refresh(job)
    assert job.status is JobStatus.DONE
    assert job.params["all_or_nothing"]
    assert job.counts["rolled_back"]
    assert (job.counts["imported"], job.counts["unchanged"]) == (0, 0)
    assert "ไม่ได้นำเข้าข้อมูลใดเลย" in answer.text
    assert session.scalar(select(func.count()).select_from(Deed)) == 0
    # The refused rows are still there to download and fix.
    report = recorder_client.get(f"/staff/deeds/imports/{job.id}/errors.csv")
    assert len(list(csv.reader(io.StringIO(report.content.decode("utf-8-sig"))))) == 1 + 8


def test_files_that_cannot_be_imported(recorder_client: TestClient, session: Session) -> None:
    def jobs_made() -> int:
        return session.scalar(select(func.count()).select_from(Job)) or 0

    wrong = upload(recorder_client, b"%PDF", name="hours.pdf")
    assert wrong.status_code == 422
    assert ".csv" in wrong.text
    assert jobs_made() == 0

    # A first row without the columns it needs: refused at once, in Thai.
    partial = upload(recorder_client, b"national_id,deed_type\n1,2\n", name="partial.csv")
    assert partial.status_code == 422
    assert "ไม่มีคอลัมน์ จำนวน" in partial.text
    assert jobs_made() == 0

    # An XLSX archive is checked before a job is made (tabular.inspect): refused at once.
    broken = upload(recorder_client, b"not a workbook", name="hours.xlsx")
    assert broken.status_code == 422
    assert "ไฟล์นี้ไม่ใช่ไฟล์ XLSX ที่อ่านได้" in broken.text
    assert jobs_made() == 0


class Crash(BaseException):
    """The worker dies (kill -9): nothing after this point runs, no handler sees it."""


def test_a_run_that_dies_midway_resumes_after_its_last_batch(
    database: Database,
    session: Session,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each batch commits its deeds, its refused rows and the job's checkpoint together:
    the run that takes over skips what was committed and counts it from the checkpoint,
    so the result says every row once, as if nothing had happened."""
    load_demo(session)
    actor = actor_for(make_account(session, Role.RECORDER, get_agency(session, "demouniv")))
    session.commit()
    day = be(TODAY - timedelta(days=5))
    rows = [[nid(n), "kys.volunteer_activity", "1", day, "TH-10", "", f"p-{n}"] for n in range(35)]
    rows[4][0] = "1234545678789"  # refused in the first batch (committed before the crash)
    rows[25][0] = "1234545678789"  # refused in the batch the crash rolls back
    source = tmp_path / "many.csv"
    write_csv(source, rows)
    monkeypatch.setattr(importing, "BATCH", 10)
    queue = Jobs(database, settings)  # immediate: wake() runs the job here, at once
    batches: list[int] = []
    real_batch_done = jobs._batch_done

    def dies_in_the_third_batch(context, sink, batch_session, summary):  # type: ignore[no-untyped-def]
        batches.append(summary.rows)
        if len(batches) == 3:
            raise Crash  # before the third batch commits
        real_batch_done(context, sink, batch_session, summary)

    monkeypatch.setattr(jobs, "_batch_done", dies_in_the_third_batch)
    with source.open("rb") as handle, pytest.raises(Crash):
        jobs.start(database, queue, KEYER, actor, handle, "many.csv", all_or_nothing=False)

    with database.session() as look:
        job = look.scalars(select(Job)).one()
        assert (job.status, job.attempt, job.done) == (JobStatus.RUNNING, 1, 20)
        assert job.checkpoint["rows"] == 20
        assert look.scalar(select(func.count()).select_from(Deed)) == 19
    with database.write_session() as write:  # its runner is gone (a process that died)
        write.get_one(Job, job.id).runner = f"{socket.gethostname()}:{_a_dead_pid()}"
        write.commit()

    found = queue.recover()  # what every worker does at start and each minute
    assert found.requeued == [job.id]
    assert batches == [10, 20, 30, 30, 35]  # the second run began at row 21

    ended = jobs.view(database, actor, job.id, KEYER)
    assert ended.status is JobStatus.DONE
    assert (ended.rows_done, ended.imported, ended.unchanged, ended.rejected) == (35, 33, 0, 2)
    with database.session() as look:
        assert look.scalar(select(func.count()).select_from(Deed)) == 33
        assert look.get_one(Job, job.id).attempt == 2
    assert [e.row for e in ended.errors] == [6, 27]  # each refused row once, in order
    report = jobs.error_report(
        database,
        actor,
        job.id,
        KEYER,
        reason_heading="why",
        reason_of=lambda row: str(row.row),
        more_note=str,
    )
    assert [line.split(",")[-1] for line in report.splitlines()[1:]] == ["6", "27"]


def _a_dead_pid() -> str:
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)  # fmt: skip
    return ended.stdout.strip()


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


def test_a_real_background_import_shows_its_progress(
    fresh_database_url: str, settings: Settings, tmp_path: Path
) -> None:
    """The import runs in a worker thread of the server while the page polls it."""
    settings.jobs_queue = "auto"  # SQLite's file, or PostgreSQL's tables
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


def test_the_rows_to_fix_read_back_the_same_across_chunk_boundaries(
    recorder_client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The report is stored in chunks; a line (and a Thai character's bytes) may be
    split between two. With 7-byte chunks every line is: the page still lists the
    same reasons and the download the same rows."""
    whole = upload(recorder_client, messy_file(tmp_path))
    monkeypatch.setattr(stored_files, "CHUNK_BYTES", 7)
    split = upload(recorder_client, messy_file(tmp_path), name="again.csv")
    pages = [
        recorder_client.get(f"/staff/deeds/imports/{job_id_in(a.text)}") for a in (whole, split)
    ]
    reasons = [re.findall(r'data-label="เหตุผล">([^<]*)<', page.text) for page in pages]
    assert reasons[0]
    assert reasons[0] == reasons[1]
    downloads = [
        recorder_client.get(f"/staff/deeds/imports/{job_id_in(a.text)}/errors.csv").text
        for a in (whole, split)
    ]
    assert downloads[0] == downloads[1]


def test_a_finished_import_is_kept_as_long_as_the_setting_says(
    recorder_client: TestClient, session: Session, settings: Settings, tmp_path: Path
) -> None:
    settings.job_results_keep_days = 3
    job_id = job_id_in(upload(recorder_client, messy_file(tmp_path)).text)
    job = session.get_one(Job, job_id)
    session.refresh(job)
    assert job.expires_at is not None
    assert job.finished_at is not None
    assert job.expires_at - job.finished_at == timedelta(days=3)
