"""The student on /me (issue 15): which academic year counts for which renewal
of her student loan, the benefits she works toward first (with progress bars) and
the others folded away, who is signed in and a sign-out on every page, consent
filled in from a benefit (also from a signed-out start), birth dates typed in the
Buddhist Era, and every message in the page's language."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from dcatalog.accounts.permissions import Role
from dcatalog.actors import operator_for
from dcatalog.agencies.service import get_agency
from dcatalog.app import create_app
from dcatalog.calendars.buddhist_era import format_date, today_in_thailand
from dcatalog.calendars.periods import DEFAULT_ACADEMIC_START, PeriodKind, academic_year
from dcatalog.calendars.periods import period_bounds as bounds
from dcatalog.citizens.models import Consent
from dcatalog.config import Settings
from dcatalog.db import Database
from dcatalog.deeds import service as deeds
from dcatalog.deeds.models import DeedStatus
from dcatalog.demo.data import DEMO_STUDENT_BORN, DEMO_STUDENT_ID
from dcatalog.demo.service import load_demo
from dcatalog.identity.citizen_key import CitizenKeyer
from dcatalog.identity.models import Citizen
from tests.conftest import TEST_PEPPER
from tests.factories import csrf_from, make_account, sign_in, sign_in_citizen

pytestmark = pytest.mark.demo_data  # on the demo's reference data, loaded once

KEYER = CitizenKeyer(TEST_PEPPER.encode())
BORN = date.fromisoformat(DEMO_STUDENT_BORN)
LOAN = "ต่อสัญญากู้ยืมเงิน กยศ. ปีการศึกษาถัดไป"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def demo_app(settings: Settings, database: Database, session: Session) -> FastAPI:
    """The demo (agencies, benefits, the student's 30 hours) on a demo-mode app."""
    load_demo(session, with_accounts=True, keyer=KEYER)
    return create_app(settings.model_copy(update={"demo": True}), database=database)


@pytest.fixture
def student(demo_app: FastAPI, session: Session) -> TestClient:
    """The student signed in, on Thai pages."""
    client = TestClient(demo_app, raise_server_exceptions=False)
    sign_in_citizen(client, session, DEMO_STUDENT_ID, born_on=BORN)
    return client


def text(markup: str) -> str:
    """What a person reads: no tags, one space between words."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def card(page: str, name: str) -> str:
    """The markup of the benefit card named ``name``."""
    (found,) = [c for c in page.split('<li class="card subject benefit')[1:] if name in c]
    return found.split("\n  </li>")[0]  # the card's own end (its steps are indented deeper)


def years() -> tuple[int, int]:
    """(the academic year open today, the one before), in the Buddhist Era."""
    now = academic_year(today_in_thailand(), DEFAULT_ACADEMIC_START)
    return now, now - 1


def add_hours(session: Session, hours: int, day: date) -> None:
    """The university records (and verifies) volunteer hours of the student."""
    university = operator_for(get_agency(session, "demouniv").id)
    rules = deeds.Rules(
        today=today_in_thailand(), max_age_days=730, academic_start=DEFAULT_ACADEMIC_START
    )
    entry = deeds.DeedInput(
        national_id=DEMO_STUDENT_ID,
        deed_type="kys.volunteer_activity",
        quantity=Decimal(hours),
        occurred_on=day,
        province="TH-30",
        evidence="Certificate TEST-1",
        external_id=f"test-hours-{day.isoformat()}",
    )
    (outcome,) = deeds.record(session, university, KEYER, rules, [entry])
    assert outcome.deed is not None
    if outcome.deed["status"] is DeedStatus.PENDING:
        deeds.verify(session, university, rules, [outcome.deed["id"]])
    session.commit()


# --- 1. which academic year counts for which renewal ------------------------------------


def test_the_loan_card_says_the_last_year_is_closed_and_what_counts_next(
    student: TestClient, session: Session
) -> None:
    now, last = years()
    closes = bounds(PeriodKind.ACADEMIC_YEAR, now, DEFAULT_ACADEMIC_START).end
    assert closes is not None
    loan = text(card(student.get("/me").text, LOAN))
    # The closed year: its figure, that it is closed, which renewal it is for, no advice.
    assert f"ปีการศึกษา {last}: 30 จาก 36 ชั่วโมง" in loan
    assert "ปิดรับแล้ว" in loan
    assert f"ใช้สำหรับสิทธิ์ในปีการศึกษา {now}" in loan
    assert "อีก 6 ชั่วโมง" not in loan
    # The year open now counts toward the next renewal, and closes on its last day.
    assert f"ปีการศึกษา {now}: 0 จาก 36 ชั่วโมง" in loan
    assert f"ปิดรับ {format_date(closes)}" in loan
    assert f"ใช้สำหรับสิทธิ์ในปีการศึกษา {now + 1}" in loan
    assert f"อีก 36 ชั่วโมง ภายใน {format_date(closes)}" in loan

    # New hours change what she reads (they count in the open year).
    add_hours(session, 6, today_in_thailand() - timedelta(days=1))
    loan = text(card(student.get("/me").text, LOAN))
    assert f"ปีการศึกษา {now}: 6 จาก 36 ชั่วโมง" in loan
    assert f"อีก 30 ชั่วโมง ภายใน {format_date(closes)}" in loan
    assert f"ปีการศึกษา {last}: 30 จาก 36 ชั่วโมง" in loan  # the closed year stays


# --- 2. what she works toward first, real progress bars, the rest folded ---------------


def test_benefits_she_works_toward_come_first_and_the_others_fold_away(
    student: TestClient,
) -> None:
    page = student.get("/me").text
    folded = page.index('<details class="other-benefits">')
    assert page.index(LOAN) < folded  # her hours: the loan is hers, first of all
    first = page.split('<li class="card subject benefit')[1]
    assert LOAN in first  # the nearest first (30 of 36)
    others = page[folded : page.index("</details>", folded)]
    assert "ผู้พิชิตชาเลนจ์ 30 วัน" in others  # she never did an activity challenge
    assert LOAN not in others
    assert "สิทธิประโยชน์อื่นอีก 1 รายการ" in text(others)
    # A real progress bar with its figure, named by the line it draws.
    loan = card(page, LOAN)
    bars = re.findall(r'<progress max="([\d.]+)" value="([\d.]+)" aria-labelledby="([^"]+)"', loan)
    assert [(need, have) for need, have, _id in bars] == [("36", "30"), ("36", "0")]
    for _need, _have, label in bars:
        assert f'id="{label}"' in loan


# --- 3. who is signed in, and a sign-out everywhere under /me --------------------------


def test_every_page_of_hers_says_who_is_signed_in_and_offers_sign_out(
    student: TestClient,
) -> None:
    me = "ลงชื่อเข้าใช้: ประชาชน เกิด 1 มิ.ย. 2548"
    for path in (
        "/me",
        "/me/consents",
        "/me/access-log",
        "/me/awards",
        "/me/credentials",
        "/me/data",
        "/me/explain?subject=type:kys.volunteer_activity&period=lifetime",
    ):
        page = student.get(path)
        assert page.status_code == 200, path
        header = page.text.split('<header class="site-header">')[1].split("</header>")[0]
        assert me in text(header), path
        assert 'action="/me/sign-out"' in header, path
        assert "/staff" not in header, path  # her header, not the staff one
        assert "เจ้าหน้าที่เข้าสู่ระบบ" not in text(header), path
    token = csrf_from(student, "/me")
    out = student.post("/me/sign-out", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303
    home = student.get("/").text
    assert me not in text(home)
    assert 'action="/me/sign-out"' not in home
    assert student.get("/me", follow_redirects=False).status_code == 303


# --- 4. consent filled in from a benefit ------------------------------------------------


def test_send_to_the_fund_fills_in_the_consent_for_the_renewal(
    student: TestClient, session: Session
) -> None:
    loan = card(student.get("/me").text, LOAN)
    assert 'href="/me/consents?benefit=kys.loan_renewal"' in loan
    assert "ส่งให้ กยศ." in text(loan)
    page = student.get("/me/consents?benefit=kys.loan_renewal").text
    assert f"เพื่อ {LOAN}" in text(page)
    assert 'name="agency" value="kys"' in page
    assert 'name="scope" value="type:kys.volunteer_activity"' in page
    assert 'name="benefit" value="kys.loan_renewal"' in page
    assert 'id="f-purpose"' not in page  # no purpose to type or choose
    given = student.post(
        "/me/consents",
        data={
            "benefit": "kys.loan_renewal",
            "agency": "kys",
            "scope": "type:kys.volunteer_activity",
            "csrf_token": _CSRF.findall(page)[-1],
        },
        follow_redirects=False,
    )
    assert given.status_code == 303, given.text
    (consent,) = session.scalars(select(Consent)).all()
    assert consent.agency.code == "kys"
    assert consent.scope == ["type:kys.volunteer_activity"]
    assert consent.purpose == LOAN
    listed = text(student.get("/me/consents?done=granted").text)
    assert f"เพื่อ: {LOAN}" in listed


def test_a_health_benefit_asks_for_the_separate_tick_in_thai(student: TestClient) -> None:
    page = student.get("/me/consents?benefit=redcross.donor_privilege").text
    assert 'name="includes_health"' in page
    refused = student.post(
        "/me/consents",
        data={"benefit": "redcross.donor_privilege", "csrf_token": _CSRF.findall(page)[-1]},
    )
    assert refused.status_code == 422
    box = text(refused.text.split('role="alert"')[1].split("</div>")[0])
    assert "เป็นข้อมูลสุขภาพ ต้องติ๊กช่องแยกต่างหาก" in box
    assert "health information" not in box
    assert "request is not valid" not in box
    assert "สภากาชาดไทย" in text(refused.text)  # still the filled-in form


def test_the_bare_form_takes_a_chosen_purpose_and_a_note(
    student: TestClient, session: Session
) -> None:
    page = student.get("/me/consents").text
    assert '<select id="f-purpose" name="purpose"' in page
    given = student.post(
        "/me/consents",
        data={
            "agency": "demouniv",
            "purpose": "studies",
            "note": "ทุนเรียนดี",
            "scope": "virtue:volunteering",
            "csrf_token": _CSRF.findall(page)[-1],
        },
        follow_redirects=False,
    )
    assert given.status_code == 303, given.text
    (consent,) = session.scalars(select(Consent)).all()
    assert consent.purpose == "การศึกษาหรือการสมัครงานของฉัน (ทุนเรียนดี)"


@pytest.mark.parametrize("lang", ["th", "en"])
def test_consent_messages_are_in_the_pages_language(student: TestClient, lang: str) -> None:
    student.cookies.set("lang", lang)
    page = student.get("/me/consents").text
    refused = student.post(
        "/me/consents",
        data={"agency": "kys", "purpose": "eligibility", "csrf_token": _CSRF.findall(page)[-1]},
    )
    assert refused.status_code == 422
    box = text(refused.text.split('role="alert"')[1].split("</div>")[0])
    thai, english = "เลือกความดีที่จะให้เห็นอย่างน้อยหนึ่งประเภท", "Choose at least one kind"
    assert (thai if lang == "th" else english) in box
    assert (english if lang == "th" else thai) not in box
    unknown = student.get("/me/consents?benefit=no.such").text
    assert ("ไม่มีสิทธิประโยชน์นี้" if lang == "th" else "not offered") in text(unknown)


def test_the_consent_link_works_from_a_signed_out_start(
    demo_app: FastAPI, session: Session
) -> None:
    client = TestClient(demo_app, raise_server_exceptions=False)
    link = "/me/consents?benefit=kys.loan_renewal"
    away = client.get(link, follow_redirects=False)
    assert away.status_code == 303
    assert away.headers["location"] == "/me/sign-in?next=/me/consents%3Fbenefit%3Dkys.loan_renewal"
    page = client.get(away.headers["location"]).text
    assert f'name="next" value="{html.escape(link)}"' in page
    signed_in = client.post(
        "/me/sign-in/demo",
        data={
            "national_id": DEMO_STUDENT_ID,
            "born_on": "01/06/2548",
            "next": link,
            "csrf_token": _CSRF.findall(page)[-1],
        },
        follow_redirects=False,
    )
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == link
    assert f"เพื่อ {LOAN}" in text(client.get(link).text)


@pytest.mark.parametrize(
    "target",
    ["//evil.example/", "https://evil.example/", "/\t/evil.example", "/\\evil.example", "/\n/x"],
)
def test_sign_in_never_sends_anyone_off_the_site(
    demo_app: FastAPI, session: Session, target: str
) -> None:
    client = TestClient(demo_app, raise_server_exceptions=False)
    page = client.get("/me/sign-in").text
    signed_in = client.post(
        "/me/sign-in/demo",
        data={
            "national_id": DEMO_STUDENT_ID,
            "born_on": "01/06/2548",
            "next": target,
            "csrf_token": _CSRF.findall(page)[-1],
        },
        follow_redirects=False,
    )
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == "/"


# --- 5. birth dates typed in the Buddhist Era --------------------------------------------


def test_the_birth_date_is_typed_in_the_buddhist_era(demo_app: FastAPI, session: Session) -> None:
    client = TestClient(demo_app, raise_server_exceptions=False)
    page = client.get("/me/sign-in").text
    assert 'type="date"' not in page
    assert "วัน/เดือน/ปี พ.ศ. เช่น 01/06/2548" in text(page)
    token = _CSRF.findall(page)[-1]

    def sign_in(born_on: str):  # type: ignore[no-untyped-def]
        return client.post(
            "/me/sign-in/demo",
            data={"national_id": DEMO_STUDENT_ID, "born_on": born_on, "csrf_token": token},
            follow_redirects=False,
        )

    christian = sign_in("01/06/2005")
    assert christian.status_code == 400
    assert "กรอกปีเป็น พ.ศ. เช่น 2548 ไม่ใช่ 2005" in text(christian.text)
    assert 'value="01/06/2005"' in christian.text  # what she typed stays
    assert 'aria-invalid="true"' in christian.text  # and the field says it is the one
    assert DEMO_STUDENT_ID not in christian.text  # the ID never comes back
    no_day = sign_in("31/02/2548")
    assert "ไม่มีวันที่นี้ในปฏิทิน" in text(no_day.text)
    assert sign_in("๐๑/๐๖/๒๕๔๘").status_code == 303  # Thai digits
    session.expire_all()
    assert session.get(Citizen, KEYER.key(DEMO_STUDENT_ID)).born_on == BORN  # type: ignore[union-attr]


def test_the_ceremony_filter_takes_be_dates_too(demo_app: FastAPI, session: Session) -> None:
    """A staff page with dates (the Red Cross ceremony lists): typed in the Buddhist
    Era as well, with the message in Thai; ISO dates from links still work."""
    client = TestClient(demo_app, raise_server_exceptions=False)
    admin = make_account(session, Role.AGENCY_ADMIN, get_agency(session, "redcross"))
    sign_in(client, admin.email)
    client.cookies.set("lang", "th")
    page = client.get("/staff/ceremonies")
    assert page.status_code == 200
    assert 'type="date"' not in page.text
    asked = {"benefit": "redcross.donor_7", "until": today_in_thailand().isoformat()}
    for since in ("01/01/2543", "2000-01-01"):
        listed = client.get("/staff/ceremonies", params={**asked, "from": since})
        assert listed.status_code == 200, listed.text
        assert "มีรายชื่อ" in text(listed.text)  # the list for that period
    wrong = client.get("/staff/ceremonies", params={**asked, "from": "01/01/2000"})
    assert wrong.status_code == 422
    assert "กรอกวันที่เป็น วัน/เดือน/ปี พ.ศ." in text(wrong.text)
