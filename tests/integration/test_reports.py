"""Eligibility reports: the Fund uploads its borrowers and gets one row back per row,
with consent exactly as one eligibility check has it (a minor's guardian too),
the figures of the per-citizen evaluator, masked IDs, reasons for bad rows, every
look-up in the access log, and nobody else's agency ever seeing the job."""

from __future__ import annotations

import csv
import io
import re
import socket
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dcatalog.accounts import service as accounts
from dcatalog.accounts.permissions import Role
from dcatalog.actors import SYSTEM, Actor
from dcatalog.agencies.service import get_agency
from dcatalog.audit.models import AuditEvent
from dcatalog.benefits import rules
from dcatalog.benefits.evaluation import evaluate
from dcatalog.benefits.models import Benefit
from dcatalog.calendars.buddhist_era import today_in_thailand
from dcatalog.calendars.periods import (
    DEFAULT_ACADEMIC_START,
    PeriodKind,
    academic_year,
    period_bounds,
)
from dcatalog.citizens import consent as consents
from dcatalog.citizens.models import AccessLog, AccessOutcome, Consent, GuardianConsent
from dcatalog.config import Settings
from dcatalog.db import Database, new_id, utcnow
from dcatalog.deeds import tallies
from dcatalog.deeds.importing import FileProblem
from dcatalog.deeds.models import Deed, DeedStatus
from dcatalog.demo.data import DEMO_STUDENT_ID
from dcatalog.demo.service import load_demo
from dcatalog.identity.citizen_key import CitizenKeyer
from dcatalog.identity.models import Citizen
from dcatalog.identity.national_id import mask
from dcatalog.jobs import Job, Jobs, JobStatus
from dcatalog.jobs import record as job_record
from dcatalog.jobs.models import FileChunk, StoredFile
from dcatalog.problems import NotFound, ValidationProblem
from dcatalog.reports import jobs, service
from tests import factories
from tests.conftest import TEST_PEPPER, DemoTemplate, copy_demo
from tests.factories import csrf_from, make_account, sign_in
from tests.helpers import dump_all_rows, run_cli

pytestmark = pytest.mark.demo_data  # on the demo's reference data, loaded once

KEYER = CitizenKeyer(TEST_PEPPER.encode())
START = DEFAULT_ACADEMIC_START
TODAY = today_in_thailand()  # the pages use the real date: so do the data
YEAR = academic_year(TODAY, START) - 1  # the year that ended: the Fund's renewal year
_SPAN = period_bounds(PeriodKind.ACADEMIC_YEAR, YEAR, START)
assert _SPAN.start is not None
assert _SPAN.end is not None
IN_YEAR, LATER = _SPAN.start + timedelta(days=40), _SPAN.end + timedelta(days=3)
HTMX = {"HX-Request": "true"}


nid = partial(factories.nid, series="3")  # this file's own citizens


# Who is who: (national ID, born on, consent scope or None, hours in YEAR, hours after it)
ADULT = date(1995, 1, 1)
PEOPLE: dict[str, tuple[str, date | None, list[str] | None, int, int]] = {
    "meets": (nid(1), ADULT, ["type:kys.volunteer_activity"], 40, 0),
    "short": (nid(2), ADULT, ["virtue:volunteering"], 30, 9),  # later hours don't count
    "no_consent": (nid(3), ADULT, None, 50, 0),
    "other_scope": (nid(4), ADULT, ["type:redcross.blood_donation"], 50, 0),
    "minor": (nid(5), TODAY.replace(year=TODAY.year - 15), ["virtue:volunteering"], 40, 0),
    "guarded": (nid(6), TODAY.replace(year=TODAY.year - 16), ["virtue:volunteering"], 12, 0),
    "no_deeds": (nid(7), ADULT, ["type:kys.volunteer_activity"], 0, 0),
    "withdrawn": (nid(8), ADULT, ["type:kys.volunteer_activity"], 50, 0),
    "stranger": (nid(9), None, None, 0, 0),  # never signed in
}
WRONG_CHECK_DIGIT = nid(1)[:12] + str((int(nid(1)[12]) + 1) % 10)


def upload_rows() -> list[list[str]]:
    rows = [["national_id", "reference"]]
    for name, (national_id, *_rest) in PEOPLE.items():
        rows.append([national_id, f"KYS-{name}"])
    rows += [
        [WRONG_CHECK_DIGIT, "KYS-typo"],
        ["12345", "KYS-short-id"],
        ["", "KYS-empty"],
        ["", ""],  # a blank line: not a row
        [nid(1), f"again {nid(1)}"],  # the same borrower twice; an ID in the reference
    ]
    return rows


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def _deed(session: Session, key: str, hours: int, day: date, agency_id: Any, n: int) -> None:
    session.add(
        Deed(
            id=new_id(),
            citizen_key=key,
            id_last4="0000",
            deed_type_code="kys.volunteer_activity",
            deed_type_version=1,
            virtue_code="volunteering",
            agency_id=agency_id,
            external_id=f"report-test-{n}",
            quantity=Decimal(hours),
            occurred_on=day,
            province="TH-10",
            evidence="",
            status=DeedStatus.VERIFIED,
            credits=hours * 10,
            recorded_by="test",
            recorded_at=utcnow(),
        )
    )


@pytest.fixture
def fund(session: Session) -> Session:
    """The demo catalog and benefits, and the borrowers of PEOPLE."""
    load_demo(session)
    kys, university = get_agency(session, "kys"), get_agency(session, "demouniv")
    for n, (name, (national_id, born, scope, hours, later)) in enumerate(PEOPLE.items()):
        key = KEYER.key(national_id)
        if born is not None:
            session.add(Citizen(citizen_key=key, born_on=born))
            session.flush()
        if scope is not None:
            session.add(
                Consent(
                    citizen_key=key,
                    agency_id=kys.id,
                    purpose="loan renewal",
                    scope=scope,
                    granted_by="self",
                    withdrawn_at=utcnow() if name == "withdrawn" else None,
                )
            )
        if hours:
            _deed(session, key, hours, IN_YEAR, university.id, 2 * n)
        if later:
            _deed(session, key, later, LATER, university.id, 2 * n + 1)
    guarded = KEYER.key(PEOPLE["guarded"][0])
    session.add(
        GuardianConsent(
            citizen_key=guarded, guardian_key="g" * 64, relation="mother", recorded_by="t"
        )
    )
    session.flush()
    tallies.rebuild(session, START)
    session.commit()
    return session


def fund_actor(session: Session) -> Actor:
    account = make_account(session, Role.AGENCY_ADMIN, get_agency(session, "kys"))
    return accounts.actor_for(account)


def rows_of_csv(content: bytes) -> list[list[str]]:
    assert content.startswith("\ufeff".encode())  # Excel reads the Thai as UTF-8
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def by_reference(rows: list[list[Any]]) -> dict[str, list[Any]]:
    return {str(r[1]): r for r in rows[1:]}


# --- the service ------------------------------------------------------------------------


def renewal() -> rules.Rule:
    return rules.parse(
        {
            "deed_type": "kys.volunteer_activity",
            "measure": "quantity",
            "period": "academic_year",
            "offset": -1,
            "at_least": 36,
        }
    )


def test_the_day_a_rule_is_evaluated_on_makes_it_count_the_year_asked() -> None:
    # Offset -1 ("the previous academic year"): as on the first day of the next one.
    assert service.as_of(renewal(), 2568, START) == date(2026, 5, 16)
    this_year = rules.parse(
        {"all": [
            {"deed_type": "kys.volunteer_activity", "measure": "quantity", "period": "academic_year", "at_least": 7},
            {"virtue": "volunteering", "measure": "count", "period": "lifetime", "at_least": 1},
        ]}
    )  # fmt: skip
    assert service.as_of(this_year, 2568, START) == date(2025, 5, 16)
    assert service.as_of(renewal(), 2568, (6, 1)) == date(2026, 6, 1)
    for cannot in (
        {"all": [
            {"deed_type": "kys.volunteer_activity", "measure": "quantity", "period": "academic_year", "offset": -1, "at_least": 36},
            {"deed_type": "kys.volunteer_activity", "measure": "quantity", "period": "academic_year", "at_least": 1},
        ]},  # two academic years at once
        {"deed_type": "kys.volunteer_activity", "measure": "quantity", "period": "rolling_days", "days": 365, "at_least": 7},
        {"deed_type": "kys.volunteer_activity", "measure": "count", "period": "fiscal_year", "at_least": 1},
        {"deed_type": "kys.volunteer_activity", "measure": "count", "period": "lifetime", "at_least": 1},
    ):  # fmt: skip
        with pytest.raises(ValidationProblem) as refused:
            service.as_of(rules.parse(cannot), 2568, START)
        assert refused.value.errors[0].detail_th  # the page says it in Thai too


def test_a_report_answers_every_row_as_one_check_would(fund: Session, tmp_path: Path) -> None:
    session = fund
    actor = fund_actor(session)
    spec = service.prepare(
        session, actor, benefit_code="kys.loan_renewal", academic_year_be=YEAR,
        purpose="", language="en", today=TODAY, academic_start=START,
    )  # fmt: skip
    assert spec.as_of == period_bounds(PeriodKind.ACADEMIC_YEAR, YEAR + 1, START).start
    out = io.StringIO()
    summary = service.build(
        session, actor, KEYER, spec, write_csv(tmp_path / "list.csv", upload_rows()),
        [service.CsvSink(out)], today=TODAY, academic_start=START,
    )  # fmt: skip
    rows = list(csv.reader(io.StringIO(out.getvalue().lstrip("\ufeff"))))
    heading, got = rows[0], by_reference(rows)
    assert heading[:4] == ["row", "reference", "national_id_masked", "consent"]
    assert heading[-2:] == ["met", "note"]
    assert heading[4].startswith("hours: ")
    assert heading[4].endswith(f", academic year {YEAR} (at least 36)")
    assert (summary.rows, summary.met, summary.not_met) == (13, 2, 3)
    assert (summary.refused, summary.invalid) == (5, 3)

    assert got["KYS-meets"] == ["2", "KYS-meets", mask(nid(1)), "yes", "40", "yes", ""]
    assert got["KYS-short"][3:] == ["yes", "30", "no", ""]  # the 9 later hours don't count
    assert got["KYS-guarded"][3:] == ["yes", "12", "no", ""]
    assert got["KYS-no_deeds"][3:] == ["yes", "0", "no", ""]
    for name in ("no_consent", "other_scope", "withdrawn", "stranger"):
        assert got[f"KYS-{name}"][3:] == ["no", "", "", service.NO_CONSENT], name
    assert got["KYS-minor"][3:] == ["no", "", "", service.MINOR]
    assert got["KYS-typo"][2:] == [
        "",
        "",
        "",
        "",
        "the check digit does not match: the number has a typo",
    ]
    assert got["KYS-short-id"][-1] == "a national ID has 13 digits"
    assert got["KYS-empty"][-1] == "the national ID is empty"
    again = got["again [national-id]"]  # the reference's ID is redacted
    assert again[0] == "15"
    assert again[2:] == got["KYS-meets"][2:]
    assert [r[0] for r in rows[1:]] == [str(n) for n in [*range(2, 14), 15]]  # row 14 was blank

    # The same answers as one citizen's check: consent, guardian and evaluator.
    rule = rules.parse(
        session.scalars(select(Benefit.rule).where(Benefit.code == "kys.loan_renewal")).one()
    )
    coverage = consents.Coverage(session, [c.subject for c in rules.conditions(rule)])
    for name, (national_id, *_rest) in PEOPLE.items():
        key = KEYER.key(national_id)
        # The report reads consents in bulk; the counter asks one citizen at a time.
        allowed = coverage.covered_now(
            session, key, actor.agency_id
        ) and not consents.needs_guardian(session, key, TODAY)
        row = got[f"KYS-{name}"]
        assert (row[3] == "yes") is allowed, name
        if allowed:
            verdict = evaluate(session, rule, key, spec.as_of, START)
            assert [f.have for f in verdict.figures] == [Decimal(v) for v in row[4:-2]], name
            assert (row[-2] == "yes") is verdict.met, name

    # Every citizen looked up is in their access log, once, with the purpose.
    log = session.scalars(select(AccessLog).where(AccessLog.purpose == spec.purpose)).all()
    assert len(log) == len(PEOPLE)
    assert spec.purpose == f"eligibility report for kys.loan_renewal, academic year {YEAR}"
    outcome = {entry.citizen_key: entry for entry in log}
    for name, (national_id, *_rest) in PEOPLE.items():
        entry = outcome[KEYER.key(national_id)]
        expected = (
            AccessOutcome.ALLOWED if got[f"KYS-{name}"][3] == "yes" else AccessOutcome.REFUSED
        )
        assert entry.outcome is expected, name
        assert entry.agency_id == actor.agency_id
        assert entry.actor == actor.label
        assert f"eligibility for kys.loan_renewal (report, academic year {YEAR})" in entry.what
    assert outcome[KEYER.key(nid(1))].what.endswith(": met")
    assert outcome[KEYER.key(nid(5))].what.endswith(f": {service.MINOR}")


def test_only_the_agencys_own_approved_benefits_and_years_that_exist(fund: Session) -> None:
    session = fund
    actor = fund_actor(session)
    ask = {"purpose": "", "language": "th", "today": TODAY, "academic_start": START}
    with pytest.raises(NotFound):  # another agency's benefit is not even said to exist
        service.prepare(
            session, actor, benefit_code="redcross.donor_7", academic_year_be=YEAR, **ask
        )
    with pytest.raises(ValidationProblem):
        service.prepare(
            session, actor, benefit_code="kys.loan_renewal", academic_year_be=YEAR + 2, **ask
        )
    with pytest.raises(ValidationProblem):  # counts rolling days, not an academic year
        service.prepare(
            session, actor, benefit_code="kys.new_borrower", academic_year_be=YEAR, **ask
        )
    recorder = accounts.actor_for(make_account(session, Role.RECORDER, get_agency(session, "kys")))
    with pytest.raises(Exception, match="eligibility:read"):
        service.prepare(
            session, recorder, benefit_code="kys.loan_renewal", academic_year_be=YEAR, **ask
        )


def test_a_file_without_an_id_column_is_refused(fund: Session, tmp_path: Path) -> None:
    actor = fund_actor(fund)
    spec = service.prepare(
        fund, actor, benefit_code="kys.loan_renewal", academic_year_be=YEAR,
        today=TODAY, academic_start=START,
    )  # fmt: skip
    path = write_csv(tmp_path / "x.csv", [["name", "reference"], ["Somsri", "1"]])
    with pytest.raises(FileProblem, match="no national_id column"):
        service.build(fund, actor, KEYER, spec, path, [], today=TODAY, academic_start=START)


# --- the job, the pages and the files ------------------------------------------------------


@pytest.fixture
def fund_client(app: FastAPI, fund: Session) -> TestClient:
    client = TestClient(app)
    sign_in(client, make_account(fund, Role.AGENCY_ADMIN, get_agency(fund, "kys")).email)
    return client


def start_on_page(client: TestClient, content: bytes, name: str = "borrowers.csv", **form: Any):  # type: ignore[no-untyped-def]
    token = csrf_from(client, "/staff/reports")
    data = {"csrf_token": token, "benefit": "kys.loan_renewal", "academic_year": str(YEAR), **form}
    return client.post(
        "/staff/reports", data=data, files={"file": (name, content, "text/csv")}, headers=HTMX
    )


def report_id_in(text: str) -> uuid.UUID:
    match = re.search(r"/staff/reports/([0-9a-f-]{36})", text)
    assert match, text[:500]
    return uuid.UUID(match.group(1))


def test_the_page_makes_a_job_with_progress_and_both_files(
    fund_client: TestClient, fund: Session, tmp_path: Path, settings: Settings
) -> None:
    page = fund_client.get("/staff/reports")
    assert page.status_code == 200
    assert "kys.loan_renewal" in page.text
    assert "redcross.donor_7" not in page.text
    content = write_csv(tmp_path / "list.csv", upload_rows()).read_bytes()
    answer = start_on_page(fund_client, content)
    assert answer.status_code == 202, answer.text
    report_id = report_id_in(answer.text)
    assert "<progress" in answer.text
    assert "13 จาก 13 แถว" in answer.text  # rows processed of the total
    assert 'hx-trigger="every 1s"' not in answer.text  # done: the page stops polling
    assert answer.headers["HX-Trigger"] == "reports-changed"

    job = fund.get(Job, report_id)
    assert job is not None
    fund.refresh(job)
    assert job.status is JobStatus.DONE
    assert (job.done, job.total) == (13, 13)
    assert job.counts == {"met": 2, "not_met": 3, "refused": 5, "invalid": 3}
    assert job.params["language"] == "th"
    assert job.params["academic_year"] == YEAR
    started = fund.scalars(select(AuditEvent).where(AuditEvent.action == "report_job.start")).one()
    assert started.entity_id == str(report_id)

    polled = fund_client.get(f"/staff/reports/{report_id}", headers=HTMX)
    assert polled.text.lstrip().startswith("<section")  # the partial, for htmx
    assert "<html" in fund_client.get(f"/staff/reports/{report_id}").text
    assert f"/staff/reports/{report_id}" in fund_client.get("/staff/reports").text

    downloaded = fund_client.get(f"/staff/reports/{report_id}/download?format=csv")
    assert downloaded.status_code == 200
    assert downloaded.headers["content-type"].startswith("text/csv")
    assert f"eligibility-kys.loan_renewal-{YEAR}.csv" in downloaded.headers["content-disposition"]
    rows = rows_of_csv(downloaded.content)
    assert rows[0][:4] == ["แถว", "เลขอ้างอิง", "เลขประจำตัวประชาชน (ปิดบัง)", "ยินยอม"]
    assert f"ปีการศึกษา {YEAR}" in rows[0][4]
    thai = by_reference(rows)
    assert thai["KYS-meets"][2:] == [mask(nid(1)), "ใช่", "40", "ใช่", ""]
    assert thai["KYS-typo"][-1] == "เลขประจำตัวประชาชนไม่ถูกต้อง (หลักตรวจสอบไม่ตรง)"

    workbook = fund_client.get(f"/staff/reports/{report_id}/download?format=xlsx")
    assert workbook.status_code == 200
    (tmp_path / "report.xlsx").write_bytes(workbook.content)
    sheet = load_workbook(tmp_path / "report.xlsx", read_only=True).worksheets[0]
    cells = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert cells[0] == rows[0]
    from_xlsx = by_reference(cells)
    assert from_xlsx["KYS-meets"][0] == 2  # numbers stay numbers in Excel
    assert Decimal(str(from_xlsx["KYS-meets"][4])) == 40
    assert Decimal(str(from_xlsx["KYS-short"][4])) == 30
    assert len(cells) == len(rows)

    # No national ID in clear stays anywhere: the upload (stored sealed while the job
    # ran) is gone with the job's end, the results are masked, nothing is on disk.
    kept = fund.scalars(select(StoredFile).where(StoredFile.job_id == report_id)).all()
    assert sorted(f.name for f in kept) == [
        f"eligibility-kys.loan_renewal-{YEAR}.csv",
        f"eligibility-kys.loan_renewal-{YEAR}.xlsx",
    ]
    assert not any(f.is_input for f in kept)
    assert not (settings.instance_dir / "reports").exists()
    stored = b"".join(bytes(c.data) for c in fund.scalars(select(FileChunk)))
    everything = dump_all_rows(fund) + downloaded.text + repr(cells)
    for national_id, *_rest in PEOPLE.values():
        assert national_id.encode() not in stored
        assert national_id not in everything


def test_another_agency_never_sees_the_job(
    fund_client: TestClient, app: FastAPI, fund: Session, tmp_path: Path
) -> None:
    answer = start_on_page(fund_client, write_csv(tmp_path / "l.csv", upload_rows()).read_bytes())
    report_id = report_id_in(answer.text)
    other = TestClient(app)
    sign_in(other, make_account(fund, Role.AGENCY_ADMIN, get_agency(fund, "redcross")).email)
    for path in (f"/staff/reports/{report_id}", f"/staff/reports/{report_id}/download?format=csv"):
        assert other.get(path).status_code == 404, path
    assert f"/staff/reports/{report_id}" not in other.get("/staff/reports").text
    _key, plain = accounts.create_api_key(
        fund, SYSTEM, get_agency(fund, "redcross"), "redcross reports", ["eligibility:read"]
    )
    headers = {"Authorization": f"Bearer {plain}"}
    assert other.get(f"/api/v1/reports/{report_id}", headers=headers).status_code == 404
    assert other.get(f"/api/v1/reports/{report_id}/result", headers=headers).status_code == 404
    # Nor may it report on the Fund's benefit.
    refused = other.post(
        "/api/v1/reports/eligibility",
        data={"benefit": "kys.loan_renewal", "academic_year": str(YEAR)},
        files={"file": ("l.csv", b"national_id\n" + nid(1).encode(), "text/csv")},
        headers=headers,
    )
    assert refused.status_code == 404


def test_bad_requests_on_the_page(fund_client: TestClient, fund: Session) -> None:
    wrong = start_on_page(fund_client, b"%PDF", name="list.pdf")
    assert wrong.status_code == 422
    assert ".csv" in wrong.text
    year = start_on_page(fund_client, b"national_id\n", academic_year=str(YEAR + 5))
    assert year.status_code == 422
    assert "ไม่เกินปีการศึกษาปัจจุบัน" in year.text
    no_column = start_on_page(fund_client, b"name\nSomsri\n")
    job = fund.get(Job, report_id_in(no_column.text))
    assert job is not None
    fund.refresh(job)
    assert job.status is JobStatus.FAILED
    assert "no national_id column" in job.failure
    assert fund.scalar(select(func.count()).select_from(Job)) == 1
    # its upload went with its end
    assert fund.scalar(select(func.count()).select_from(StoredFile)) == 0


def test_the_api_starts_polls_and_fetches(app: FastAPI, fund: Session, tmp_path: Path) -> None:
    client = TestClient(app)
    _key, plain = accounts.create_api_key(
        fund, SYSTEM, get_agency(fund, "kys"), "kys reports", ["eligibility:read"]
    )
    headers = {"Authorization": f"Bearer {plain}"}
    workbook = tmp_path / "list.xlsx"
    from openpyxl import Workbook

    book = Workbook()
    for row in upload_rows():
        book.active.append(row)  # type: ignore[union-attr]
    book.save(workbook)
    started = client.post(
        "/api/v1/reports/eligibility",
        data={"benefit": "kys.loan_renewal", "academic_year": str(YEAR), "language": "en"},
        files={"file": ("list.xlsx", workbook.read_bytes(), "application/octet-stream")},
        headers=headers,
    )
    assert started.status_code == 202, started.text
    location = started.headers["Location"]
    body = client.get(location, headers=headers).json()
    assert body["status"] == "done"
    assert (body["met"], body["not_met"], body["refused"], body["invalid"]) == (2, 3, 5, 3)
    assert body["as_of"] == str(_SPAN.end + timedelta(days=1))  # the next year's first day
    result = client.get(body["result_csv"], headers=headers)
    assert result.status_code == 200
    rows = by_reference(rows_of_csv(result.content))
    assert rows["KYS-meets"][2:] == [mask(nid(1)), "yes", "40", "yes", ""]
    assert client.get(body["result_xlsx"], headers=headers).status_code == 200
    recorder_key = accounts.create_api_key(
        fund, SYSTEM, get_agency(fund, "kys"), "kys deeds", ["deeds:write"]
    )[1]
    forbidden = client.get(location, headers={"Authorization": f"Bearer {recorder_key}"})
    assert forbidden.status_code == 403


def _queued(
    database: Database, settings: Settings, actor: Actor, rows: list[list[str]], path: Path
) -> Any:
    """A report's job, created and not run (no worker took it yet)."""
    asleep = Jobs(database, settings)
    asleep.wake = lambda job_id: None  # type: ignore[method-assign]
    with write_csv(path, rows).open("rb") as handle:
        return jobs.start(
            database, asleep, KEYER, actor, handle, path.name, benefit_code="kys.loan_renewal",
            academic_year=YEAR, today=TODAY, academic_start=START,
        )  # fmt: skip


def test_progress_is_written_as_the_report_goes(
    database: Database,
    fund: Session,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    actor = fund_actor(fund)
    rows = [["national_id"]] + [[nid(100 + n)] for n in range(35)]
    monkeypatch.setattr(service, "CHUNK", 10)
    view = _queued(database, settings, actor, rows, tmp_path / "many.csv")
    assert view.status is JobStatus.QUEUED
    assert view.rows_total == 35
    seen: list[int] = []
    ticks = iter(range(100))

    def clock() -> float:
        # Called as the report finishes each chunk: look at what the job shows now.
        with database.session() as look:
            seen.append(look.get_one(Job, view.id, populate_existing=True).done)
        return float(next(ticks))  # a second passes between chunks

    claimed = job_record.claim(database, view.id, "here:1", job_record.Caps(9, 9))
    assert claimed is not None
    context = job_record.Context(database, settings, claimed, clock=clock)
    job_record.finish(database, claimed, jobs.run(context))
    assert seen[0] == 0
    assert seen == sorted(set(seen))
    assert len(seen) == 4
    done = jobs.view(database, actor, view.id)
    assert done.status is JobStatus.DONE
    assert done.rows_done == 35
    assert done.has_result
    assert done.refused == 35  # nobody of them consents
    with database.session() as session:  # the upload went with the job's end
        inputs = select(StoredFile).where(StoredFile.job_id == view.id, StoredFile.is_input)
        assert session.scalars(inputs).all() == []


def test_the_upload_is_stored_sealed_while_its_job_waits(
    database: Database, fund: Session, settings: Settings, tmp_path: Path
) -> None:
    view = _queued(database, settings, fund_actor(fund), upload_rows(), tmp_path / "l.csv")
    with database.session() as session:
        upload = session.scalars(select(StoredFile).where(StoredFile.job_id == view.id)).one()
        assert (upload.is_input, upload.sealed) == (True, True)
        chunks = b"".join(bytes(c.data) for c in session.scalars(select(FileChunk)))
        assert chunks
        for national_id, *_rest in PEOPLE.values():
            assert national_id.encode() not in chunks


def test_a_job_whose_worker_died_too_often_ends_failed_and_its_upload_goes(
    database: Database, fund: Session, settings: Settings, tmp_path: Path
) -> None:
    actor = fund_actor(fund)
    view = _queued(database, settings, actor, upload_rows(), tmp_path / "l.csv")
    dead = f"{socket.gethostname()}:999999999"
    for _ in range(3):  # three workers died while running it
        assert job_record.claim(database, view.id, dead, job_record.Caps(9, 9)) is not None
        job_record.recover(database, stale_after=timedelta(days=1))
    failed = jobs.view(database, actor, view.id)
    assert failed.status is JobStatus.FAILED
    assert failed.failure == jobs.INTERRUPTED
    with database.session() as session:
        assert session.scalars(select(StoredFile).where(StoredFile.job_id == view.id)).all() == []
    with pytest.raises(NotFound):
        jobs.result(database, actor, view.id, "csv")


def test_the_command_writes_the_report(
    fresh_database_url: str,
    tmp_path: Path,
    backend: str,
    demo_template: Callable[..., DemoTemplate],
) -> None:
    copy_demo(demo_template(backend), fresh_database_url, tmp_path / "var")  # ``dcatalog demo``
    env = {
        "DCATALOG_DATABASE_URL": fresh_database_url,
        "DCATALOG_INSTANCE_DIR": str(tmp_path / "var"),
        "DCATALOG_PEPPER": TEST_PEPPER,
        "DCATALOG_LOG_LEVEL": "WARNING",
        "DCATALOG_DEMO": "true",
    }
    from dcatalog.db import create_db_engine

    engine = create_db_engine(fresh_database_url)
    with Session(engine) as session:  # the demo student signs in and consents to the Fund
        key = KEYER.key(DEMO_STUDENT_ID)
        if session.get(Citizen, key) is None:
            session.add(Citizen(citizen_key=key, born_on=date(2005, 6, 1)))
            session.flush()
        session.add(
            Consent(
                citizen_key=key,
                agency_id=get_agency(session, "kys").id,
                purpose="renewal",
                scope=["virtue:volunteering"],
                granted_by="self",
            )
        )
        session.commit()
    engine.dispose()
    source = write_csv(
        tmp_path / "list.csv", [["national_id", "reference"], [DEMO_STUDENT_ID, "S1"], ["1", "S2"]]
    )
    out = tmp_path / "report.xlsx"
    result = run_cli(
        "report", "eligibility", str(source), "--agency", "kys", "--benefit", "kys.loan_renewal",
        "--academic-year", str(YEAR), "--out", str(out), "--lang", "en", env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "2 rows: 0 met, 1 not met, 0 without consent, 1 invalid IDs" in result.stdout
    cells = [
        list(r)
        for r in load_workbook(out, read_only=True).worksheets[0].iter_rows(values_only=True)
    ]
    assert cells[1][:6] == [2, "S1", mask(DEMO_STUDENT_ID), "yes", 30, "no"]
    assert cells[2][-1] == "a national ID has 13 digits"
    wrong = run_cli(
        "report", "eligibility", str(source), "--agency", "kys", "--benefit", "kys.new_borrower",
        "--academic-year", str(YEAR), "--out", str(tmp_path / "r.csv"), env=env,
    )  # fmt: skip
    assert wrong.returncode == 1
    assert "error:" in wrong.stderr
    assert "academic year" in wrong.stderr
    assert not (tmp_path / "r.csv").exists()


def test_a_reference_excel_would_run_comes_back_quoted(fund: Session, tmp_path: Path) -> None:
    actor = fund_actor(fund)
    spec = service.prepare(
        fund, actor, benefit_code="kys.loan_renewal", academic_year_be=YEAR,
        today=TODAY, academic_start=START,
    )  # fmt: skip
    path = write_csv(tmp_path / "x.csv", [["reference", "national_id"], ["=HYPERLINK(1)", nid(1)]])
    out = io.StringIO()
    service.build(
        fund, actor, KEYER, spec, path, [service.CsvSink(out)], today=TODAY, academic_start=START
    )
    (row,) = list(csv.reader(io.StringIO(out.getvalue().lstrip("\ufeff"))))[1:]
    assert row[:3] == ["2", "'=HYPERLINK(1)", mask(nid(1))]
