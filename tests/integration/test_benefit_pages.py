"""Managing benefits on pages: an agency defines (the rule checked live, with the
place and reason of a mistake), edits and submits; the programme office approves
or sends back with a note; either retires. Agencies never see each other's, and a
recorder defines nothing."""

from __future__ import annotations

import json
from datetime import date

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dcatalog.accounts.permissions import Role
from dcatalog.audit.models import AuditEvent
from dcatalog.benefits import claims
from dcatalog.benefits import service as benefits
from dcatalog.benefits.models import Benefit
from dcatalog.calendars.buddhist_era import today_in_thailand
from dcatalog.demo.service import load_demo
from dcatalog.review import ReviewStatus
from tests.factories import csrf_from, post_form, staff_browser
from tests.integration.test_claims import SECRET, donor

pytestmark = pytest.mark.demo_data  # on the demo's reference data, loaded once

HOURS = {
    "all": [
        {
            "deed_type": "kys.volunteer_activity",
            "measure": "quantity",
            "period": "academic_year",
            "offset": -1,
            "at_least": 20,
        }
    ]
}
# The rule above in words, as the pages say it in English.
IN_WORDS = "at least 20 hours · Volunteer activity (Student Loan Fund hours) · last academic year"


def form(**overrides: object) -> dict[str, object]:
    """A new benefit's form as a browser sends it."""
    fields: dict[str, object] = {
        "name": "volunteer_thanks",
        "kind": "recognition",
        "name_th": "เกียรติบัตรจิตอาสา",
        "name_en": "Volunteer certificate",
        "description_th": "สำหรับผู้มีชั่วโมงจิตอาสา 20 ชั่วโมง",
        "description_en": "For 20 volunteer hours",
        "thanks_th": "ขอบคุณที่อุทิศเวลาให้สังคม",
        "thanks_en": "Thank you for giving your time to others.",
        "rule": json.dumps(HOURS),
        "quota": "",
        "per_citizen_limit": "1",
        "valid_from": "",
        "valid_until": "",
    }
    fields.update(overrides)
    return fields


@pytest.fixture
def demo(session: Session) -> None:
    load_demo(session)


@pytest.fixture
def kys_admin(app: FastAPI, session: Session, demo: None) -> TestClient:
    return staff_browser(app, session, Role.AGENCY_ADMIN)


@pytest.fixture
def office(app: FastAPI, session: Session, demo: None) -> TestClient:
    return staff_browser(app, session, Role.PROGRAM_ADMIN, None)


def define(client: TestClient, **overrides: object):  # type: ignore[no-untyped-def]
    return post_form(client, "/staff/benefits/new", form(**overrides), page="/staff/benefits/new")


def benefit(session: Session, code: str) -> Benefit | None:
    session.expire_all()
    return session.scalar(select(Benefit).where(Benefit.code == code))


def events(session: Session, action: str) -> int:
    return session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == action)) or 0


def offered_codes(session: Session) -> set[str]:
    session.expire_all()
    return {b.code for b in benefits.offered(session, today_in_thailand())}


def test_a_bad_rule_shows_where_and_why_and_writes_nothing(
    kys_admin: TestClient, session: Session
) -> None:
    defined = events(session, "benefit.define")
    wrong = {"all": [{**HOURS["all"][0], "measure": "hours"}]}  # type: ignore[dict-item]
    refused = define(kys_admin, rule=json.dumps(wrong))
    assert refused.status_code == 422
    assert "/all/0/measure" in refused.text
    assert "must be one of count, quantity, credits" in refused.text
    assert "Volunteer certificate" in refused.text  # what was typed is kept
    not_json = define(kys_admin, rule='{"all": [')
    assert not_json.status_code == 422
    assert "not valid JSON" in not_json.text
    unknown = define(kys_admin, rule=json.dumps({**HOURS["all"][0], "deed_type": "kys.nope"}))
    assert unknown.status_code == 422
    assert "type:kys.nope is not in the catalog" in unknown.text
    assert benefit(session, "kys.volunteer_thanks") is None
    assert events(session, "benefit.define") == defined


def test_the_live_check_explains_the_rule_or_the_mistake(kys_admin: TestClient) -> None:
    token = csrf_from(kys_admin, "/staff/benefits/new")

    def check(rule: object) -> str:
        text = rule if isinstance(rule, str) else json.dumps(rule)
        answer = kys_admin.post(
            "/staff/benefits/rule-check",
            data={"rule": text},
            headers={"X-CSRF-Token": token, "HX-Request": "true"},
        )
        assert answer.status_code == 200
        assert "<html" not in answer.text  # a fragment for htmx
        return answer.text

    words = check(
        {"any": [HOURS, {"virtue": "volunteering", "measure": "count", "period": "lifetime", "at_least": 3, "not_recorded_by": "kys"}]}
    )  # fmt: skip
    assert "Any one of these:" in words
    assert "All of these:" in words
    assert IN_WORDS in words
    assert "at least 3 records" in words
    assert "only deeds not recorded by" in words
    mixed = {"virtue": "volunteering", "measure": "quantity", "period": "fiscal_year", "offset": -2, "at_least": 5}  # fmt: skip
    assert "at least 5 · Volunteering · the fiscal year 2 years back" in check(mixed)
    mistake = check({"all": [{**HOURS["all"][0], "at_least": 0}]})
    assert "/all/0/at_least" in mistake
    assert "must be a number above 0" in mistake
    assert "write the rule as JSON" in check(" ")
    assert "nests far too deeply" in check("[" * 19_000)
    assert "at most 20000 characters" in check("[" * 20_001)
    # Without the CSRF token nothing is checked.
    assert kys_admin.post("/staff/benefits/rule-check", data={"rule": "{}"}).status_code == 403


def test_define_submit_approve_and_it_is_offered(
    kys_admin: TestClient, office: TestClient, session: Session
) -> None:
    created = define(kys_admin)
    assert created.status_code == 303
    assert created.headers["location"] == "/staff/benefits/kys.volunteer_thanks?saved=1"
    drafted = benefit(session, "kys.volunteer_thanks")
    assert drafted is not None
    assert drafted.status is ReviewStatus.DRAFT
    assert drafted.rule == HOURS
    page = kys_admin.get("/staff/benefits/kys.volunteer_thanks").text
    assert IN_WORDS in page
    assert "&#34;at_least&#34;: 20" in page  # the JSON too
    assert "kys.volunteer_thanks" in kys_admin.get("/staff/benefits").text
    # Not with the programme office until the agency submits it.
    waiting = office.get("/admin/benefits").text.split("Every benefit")[0]
    assert "kys.volunteer_thanks" not in waiting
    assert "not submitted" in office.get("/admin/benefits/kys.volunteer_thanks").text

    submitted = post_form(kys_admin, "/staff/benefits/kys.volunteer_thanks/submit", {})
    assert submitted.status_code == 303
    assert "Waiting for the programme office" in kys_admin.get(submitted.headers["location"]).text
    frozen = post_form(kys_admin, "/staff/benefits/kys.volunteer_thanks", form(name_en="Changed"))
    assert frozen.status_code == 409
    assert benefit(session, "kys.volunteer_thanks").name_en == "Volunteer certificate"  # type: ignore[union-attr]
    queue = office.get("/admin/benefits").text
    assert "kys.volunteer_thanks" in queue.split("Every benefit")[0]
    review = office.get("/admin/benefits/kys.volunteer_thanks").text
    assert IN_WORDS in review
    assert "kys.volunteer_thanks" not in offered_codes(session)
    approvals = events(session, "benefit.approve")

    decided = post_form(
        office, "/admin/benefits/kys.volunteer_thanks/decision", {"decision": "approve"}
    )
    assert decided.status_code == 303
    assert "kys.volunteer_thanks" in offered_codes(session)
    approved = benefit(session, "kys.volunteer_thanks")
    assert approved is not None
    assert approved.decided_by == "staff:program_admin.office@example.org"
    # The confirmation names the benefit and the decision, not its code; in Thai on Thai pages.
    confirmed = office.get(decided.headers["location"]).text
    assert f"Approved: {approved.name_en}." in confirmed
    office.get("/lang/th")
    assert f"อนุมัติแล้ว: {approved.name_th}" in office.get(decided.headers["location"]).text
    office.get("/lang/en")
    assert events(session, "benefit.approve") == approvals + 1
    assert "Nothing is waiting." in office.get("/admin/benefits").text
    # The public deed type page says what it leads to, with the thanks.
    public = TestClient(kys_admin.app)
    public.get("/lang/en")
    detail = public.get("/catalog/kys.volunteer_activity").text
    assert "What it leads to" in detail
    assert "Volunteer certificate" in detail
    assert "Thank you for giving your time to others." in detail
    assert "Pin for 7 blood donations" not in detail  # another deed type's


def test_sent_back_with_a_note_then_edited_and_resubmitted(
    kys_admin: TestClient, office: TestClient, session: Session
) -> None:
    define(kys_admin)
    post_form(kys_admin, "/staff/benefits/kys.volunteer_thanks/submit", {})
    path = "/admin/benefits/kys.volunteer_thanks/decision"
    empty = post_form(office, path, {"decision": "send_back", "note": " "})
    assert empty.status_code == 422
    assert "Say what the agency should change." in empty.text
    note = "Count 36 hours, like the loan renewal."
    assert post_form(office, path, {"decision": "send_back", "note": note}).status_code == 303
    assert benefit(session, "kys.volunteer_thanks").status is ReviewStatus.DRAFT  # type: ignore[union-attr]
    page = kys_admin.get("/staff/benefits/kys.volunteer_thanks").text
    assert f"Programme office: {note}" in page
    assert "Sent back" in kys_admin.get("/staff/benefits").text
    assert "Nothing is waiting." in office.get("/admin/benefits").text
    # The agency changes the rule (a bad change is refused with its place) and resubmits.
    bad = {"all": [{**HOURS["all"][0], "offset": 1}]}  # type: ignore[dict-item]
    refused = post_form(
        kys_admin, "/staff/benefits/kys.volunteer_thanks", form(rule=json.dumps(bad))
    )
    assert refused.status_code == 422
    assert "/all/0/offset" in refused.text
    assert benefit(session, "kys.volunteer_thanks").rule == HOURS  # type: ignore[union-attr]
    fixed = {"all": [{**HOURS["all"][0], "at_least": 36}]}  # type: ignore[dict-item]
    saved = post_form(
        kys_admin, "/staff/benefits/kys.volunteer_thanks", form(rule=json.dumps(fixed))
    )
    assert saved.status_code == 303
    assert benefit(session, "kys.volunteer_thanks").rule == fixed  # type: ignore[union-attr]
    assert events(session, "benefit.update") == 1
    post_form(kys_admin, "/staff/benefits/kys.volunteer_thanks/submit", {})
    review = office.get("/admin/benefits/kys.volunteer_thanks").text
    assert "at least 36 hours" in review
    assert note in review  # the office sees what it asked for last time
    assert "kys.volunteer_thanks" in office.get("/admin/benefits").text.split("Every benefit")[0]


def test_retiring_takes_it_off_offer(
    kys_admin: TestClient, office: TestClient, session: Session
) -> None:
    assert {"kys.loan_renewal", "kys.new_borrower"} <= offered_codes(session)
    no_reason = post_form(kys_admin, "/staff/benefits/kys.loan_renewal/retire", {"reason": ""})
    assert no_reason.status_code == 422
    assert "kys.loan_renewal" in offered_codes(session)
    retired = post_form(
        kys_admin, "/staff/benefits/kys.loan_renewal/retire", {"reason": "The fund's new rules"}
    )
    assert retired.status_code == 303
    assert "kys.loan_renewal" not in offered_codes(session)
    assert benefit(session, "kys.loan_renewal").status is ReviewStatus.RETIRED  # type: ignore[union-attr]
    page = kys_admin.get(retired.headers["location"]).text
    assert "The fund&#39;s new rules" in page  # in the history, from the audit trail
    again = post_form(kys_admin, "/staff/benefits/kys.loan_renewal/retire", {"reason": "twice"})
    assert again.status_code == 409
    # The programme office retires too.
    by_office = post_form(
        office,
        "/admin/benefits/kys.new_borrower/decision",
        {"decision": "retire", "note": "An illustration only"},
    )
    assert by_office.status_code == 303
    assert "kys.new_borrower" not in offered_codes(session)
    assert events(session, "benefit.retire") == 2


def test_quota_used_counts_claims(app: FastAPI, office: TestClient, session: Session) -> None:
    redcross = staff_browser(app, session, Role.AGENCY_ADMIN, "redcross")
    rule = {"deed_type": "redcross.blood_donation", "measure": "count", "period": "lifetime", "at_least": 1}  # fmt: skip
    created = define(redcross, name="voucher", kind="privilege", quota="3", rule=json.dumps(rule))
    assert created.status_code == 303
    post_form(redcross, "/staff/benefits/redcross.voucher/submit", {})
    post_form(office, "/admin/benefits/redcross.voucher/decision", {"decision": "approve"})
    claims.claim(
        session, donor(session, 1), SECRET, "redcross.voucher",
        today=today_in_thailand(), academic_start=(5, 16),
    )  # fmt: skip
    assert "1 of 3" in redcross.get("/staff/benefits").text
    assert "1 of 3" in redcross.get("/staff/benefits/redcross.voucher").text
    (item,) = [m for m in benefits.managed(session, _actor(session, "redcross")) if m.benefit.code == "redcross.voucher"]  # fmt: skip
    assert (item.claims, item.awards) == (1, 0)


def _actor(session: Session, agency: str):  # type: ignore[no-untyped-def]
    from dcatalog.accounts import service as accounts
    from dcatalog.accounts.models import StaffAccount

    account = session.scalar(
        select(StaffAccount).where(StaffAccount.email == f"agency_admin.{agency}@example.org")
    )
    assert account is not None
    return accounts.actor_for(account)


def test_one_agency_never_reaches_anothers_benefits(
    app: FastAPI, session: Session, demo: None
) -> None:
    redcross = staff_browser(app, session, Role.AGENCY_ADMIN, "redcross")
    listing = redcross.get("/staff/benefits").text
    assert "redcross.donor_7" in listing
    assert "kys.loan_renewal" not in listing
    assert redcross.get("/staff/benefits/kys.loan_renewal").status_code == 404
    for path, data in [
        ("/staff/benefits/kys.loan_renewal", form(name_en="Taken over")),
        ("/staff/benefits/kys.loan_renewal/submit", {}),
        ("/staff/benefits/kys.loan_renewal/retire", {"reason": "not ours"}),
    ]:
        assert post_form(redcross, path, data).status_code == 404, path
    found = benefit(session, "kys.loan_renewal")
    assert found is not None
    assert (found.status, found.name_en) == (
        ReviewStatus.APPROVED,
        "Renew your student loan for the next academic year",
    )
    # Its own new benefit carries its own code, whatever the form says.
    define(redcross, name="thanks_card", kind="thanks")
    assert benefit(session, "redcross.thanks_card") is not None


def test_who_may_do_what(app: FastAPI, session: Session, demo: None) -> None:
    recorder = staff_browser(app, session, Role.RECORDER)
    assert recorder.get("/staff/benefits").status_code == 403
    assert define(recorder).status_code == 403
    assert recorder.get("/staff/benefits/kys.loan_renewal").status_code == 403
    assert benefit(session, "kys.volunteer_thanks") is None
    admin = staff_browser(app, session, Role.AGENCY_ADMIN)
    assert admin.get("/admin/benefits").status_code == 403  # agencies don't approve
    retire = {"decision": "retire", "note": "x"}
    assert post_form(admin, "/admin/benefits/kys.loan_renewal/decision", retire).status_code == 403
    anonymous = TestClient(app, raise_server_exceptions=False)
    for path in ("/staff/benefits", "/staff/benefits/kys.loan_renewal", "/admin/benefits"):
        answer = anonymous.get(path, follow_redirects=False)
        assert answer.status_code == 303, path
        assert answer.headers["location"].startswith("/login"), path
    # A form without its CSRF token changes nothing.
    forged = admin.post("/staff/benefits/new", data=form(), follow_redirects=False)
    assert forged.status_code == 403
    assert benefit(session, "kys.volunteer_thanks") is None
    # The staff home links to what each may do.
    assert "/staff/benefits" in admin.get("/staff").text
    office = staff_browser(app, session, Role.PROGRAM_ADMIN, None)
    home = office.get("/staff").text
    assert "/admin/benefits" in home
    assert 'href="/staff/benefits"' not in home


def test_only_a_recognition_is_a_milestone(kys_admin: TestClient, session: Session) -> None:
    refused = define(kys_admin, kind="privilege", awarded_automatically="on")
    assert refused.status_code == 422
    assert "Only a recognition can be awarded automatically" in refused.text
    ends_early = define(kys_admin, valid_from="2026-06-01", valid_until="2026-05-01")
    assert ends_early.status_code == 422
    assert benefit(session, "kys.volunteer_thanks") is None
    made = define(kys_admin, awarded_automatically="on", valid_from="2026-06-01")
    assert made.status_code == 303
    found = benefit(session, "kys.volunteer_thanks")
    assert found is not None
    assert found.awarded_automatically
    assert found.valid_from == date(2026, 6, 1)
