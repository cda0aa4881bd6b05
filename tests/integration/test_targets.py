"""The programme office's yearly targets, as the office sets them on its page and
as the progress report measures the year against them: only the office sets
them, auditors read them, agencies never see them; wrong input is refused field
by field in Thai with nothing saved; every change is audited. On both databases."""

from __future__ import annotations

from decimal import Decimal

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from dcatalog.accounts.permissions import Role
from dcatalog.audit.models import AuditEvent
from dcatalog.stats import progress_report, service, targets
from dcatalog.stats.models import ProgrammeTarget
from tests.factories import make_account, post_form, sign_in
from tests.integration.test_stats import YEAR, demo, small_cells  # noqa: F401 (fixtures)

PAGE = "/admin/targets"


def client_as(app: FastAPI, session: Session, role: Role) -> TestClient:
    client = TestClient(app)
    sign_in(client, make_account(session, role).email)
    return client


def stored(session: Session) -> dict[str, Decimal]:
    session.expire_all()
    return {t.indicator: Decimal(t.value) for t in session.scalars(select(ProgrammeTarget))}


def test_the_office_sets_the_years_targets_and_the_report_measures_against_them(
    app: FastAPI,
    session: Session,
    small_cells: None,  # noqa: F811
) -> None:
    office = client_as(app, session, Role.PROGRAM_ADMIN)
    page = office.get(PAGE)
    assert page.status_code == 200
    assert f"เป้าหมายรายปี · ปีงบประมาณ {YEAR}" in page.text  # this fiscal year, in Thai
    assert 'name="hours"' in page.text
    assert "ความดีที่ได้รับการรับรอง" in page.text  # titled as the dashboard titles them
    saved = post_form(
        office,
        PAGE,
        {"year": str(YEAR), "deeds": "1,000", "hours": "250.5", "citizens": "90"},
        page=PAGE,
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == f"{PAGE}?year={YEAR}&saved=true"
    assert stored(session) == {"deeds": 1000, "unit:hour": Decimal("250.5"), "citizens": 90}
    shown = office.get(saved.headers["location"]).text
    assert "บันทึกเป้าหมายแล้ว" in shown
    assert 'value="1000"' in shown
    assert 'value="250.5"' in shown
    actions = list(
        session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("target.%")))
    )
    assert sorted(actions) == ["target.set"] * 3

    # The report: the year's published figures against the targets.
    report = progress_report.gather(session, f"fy:{YEAR}", "th")
    towards = {t.title: t for t in report.context["summary"]["targets"]}
    published = service.figures(session, service.Filters(f"fy:{YEAR}"), "month").total
    deeds = towards["ความดีที่ได้รับการรับรอง"]
    assert deeds.target == 1000
    assert deeds.so_far == published.deeds
    assert deeds.share == int(Decimal(published.deeds or 0) * 100 / 1000)
    people = towards["ผู้ร่วมทำความดี"]
    assert people.so_far == published.citizens
    assert set(towards) == {"ความดีที่ได้รับการรับรอง", "ปริมาณ (ชั่วโมง)", "ผู้ร่วมทำความดี"}

    # Clearing one (an empty field) removes it, audited too.
    cleared = post_form(
        office, PAGE, {"year": str(YEAR), "deeds": "1000", "hours": "250.5"}, page=PAGE
    )
    assert cleared.status_code == 303
    assert stored(session) == {"deeds": 1000, "unit:hour": Decimal("250.5")}
    assert "target.clear" in set(session.scalars(select(AuditEvent.action)))


def test_wrong_targets_are_refused_field_by_field_and_nothing_is_saved(
    app: FastAPI,
    session: Session,
    demo: None,  # noqa: F811
) -> None:
    office = client_as(app, session, Role.PROGRAM_ADMIN)
    refused = post_form(
        office,
        PAGE,
        {
            "year": str(YEAR),
            "deeds": "12.5",  # not whole
            "hours": "-3",  # below zero
            "donations": "=1+1",  # formula text
            "citizens": "40",  # fine, but nothing is saved while others are wrong
            "credits": "1e400",
        },
        page=PAGE,
    )
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("text/html")
    text = refused.text
    assert "เป้าหมายเป็นตัวเลขตั้งแต่ 0" in text
    assert text.count('aria-invalid="true"') == 4
    assert "จำนวนเต็มตั้งแต่ 0" in text
    assert "ตัวเลขตั้งแต่ 0 ทศนิยมไม่เกินสองตำแหน่ง" in text
    assert 'value="=1+1"' in text  # what she typed stays, to correct it
    assert stored(session) == {}
    bad_year = post_form(office, PAGE, {"year": "1999", "deeds": "5"}, page=PAGE)
    assert bad_year.status_code == 422
    assert "ระบุปีงบประมาณเป็นพุทธศักราช" in bad_year.text
    assert stored(session) == {}
    # The service says the same to any other caller.
    assert targets.parse({"deeds": " 1,200 "}) == {
        "deeds": 1200,
        "unit:hour": None,
        "donations": None,
        "citizens": None,
        "credits": None,
        "claims": None,
    }


def test_only_the_office_sets_targets_auditors_read_them_agencies_never(
    app: FastAPI,
    session: Session,
    demo: None,  # noqa: F811
) -> None:
    auditor = client_as(app, session, Role.AUDITOR)
    assert auditor.get(PAGE).status_code == 200
    assert post_form(auditor, PAGE, {"year": str(YEAR), "deeds": "5"}, page=PAGE).status_code == 403
    agency = client_as(app, session, Role.AGENCY_ADMIN)
    assert agency.get(PAGE).status_code == 403
    anonymous = TestClient(app)
    assert anonymous.get(PAGE, follow_redirects=False).status_code == 303  # to the sign-in
    assert stored(session) == {}
