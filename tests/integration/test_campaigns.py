"""Campaigns and the public thank-you page (on SQLite and PostgreSQL): an agency
drafts and submits, the programme office approves or sends back with a note,
progress equals a hand count of verified deeds, agencies never reach each
other's campaigns, no public figure counts fewer than ten people, and a
recognition is public only while its citizen chooses it."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from dcatalog.accounts.permissions import Role, Scope
from dcatalog.actors import SYSTEM, Actor
from dcatalog.agencies.service import get_agency
from dcatalog.audit.models import AuditEvent
from dcatalog.benefits.awards import set_public_name
from dcatalog.benefits.models import AwardStatus
from dcatalog.calendars.buddhist_era import today_in_thailand
from dcatalog.campaigns import service, thank_you
from dcatalog.campaigns.cache import figures
from dcatalog.campaigns.models import Campaign, GoalMeasure
from dcatalog.campaigns.schemas import NewCampaign
from dcatalog.citizens import rights
from dcatalog.deeds import service as deeds
from dcatalog.deeds.models import Deed, DeedStatus
from dcatalog.demo.service import load_demo
from dcatalog.identity.national_id import with_check_digit
from dcatalog.problems import Conflict, NotFound
from dcatalog.review import ReviewStatus
from tests.factories import make_principal, post_form, sign_in_citizen, staff_browser
from tests.integration.test_awards import KEYER, awards_of, donate, hospital, national_id
from tests.integration.test_awards import national_id as donor_id

pytestmark = pytest.mark.demo_data  # on the demo's reference data, loaded once

TODAY = today_in_thailand()
RULES = deeds.Rules(today=TODAY, max_age_days=730, academic_start=(5, 16))
START, END = TODAY - timedelta(days=100), TODAY + timedelta(days=10)


def person(n: int) -> str:
    return with_check_digit(f"7{n:011d}")


def university(session: Session) -> Actor:
    """A school records (and verifies) the Student Loan Fund's volunteer hours."""
    return Actor.api_key(
        "uni",
        get_agency(session, "demouniv").id,
        frozenset({Scope.DEEDS_WRITE, Scope.DEEDS_VERIFY}),
    )


def hours(
    session: Session,
    n: int,
    amount: int,
    day: date,
    province: str = "TH-10",
    *,
    verify: bool = True,
) -> uuid.UUID:
    """One record of volunteer hours of person ``n`` (pending until verified)."""
    item = deeds.DeedInput(
        person(n),
        "kys.volunteer_activity",
        Decimal(amount),
        day,
        province,
        "certificate",
        f"h-{n}-{day.isoformat()}-{province}",
    )
    (outcome,) = deeds.record(session, university(session), KEYER, RULES, [item])
    assert outcome.result == "created", outcome.errors
    assert outcome.deed is not None
    deed_id: uuid.UUID = outcome.deed["id"]
    if verify:
        deeds.verify(session, university(session), RULES, [deed_id])
    return deed_id


def form(**overrides: object) -> dict[str, object]:
    """A new campaign's form as a browser sends it."""
    fields: dict[str, object] = {
        "name": "volunteer_drive",
        "title_th": "ชวนกันเป็นจิตอาสา",
        "title_en": "Volunteer together",
        "description_th": "ชั่วโมงจิตอาสาในกรุงเทพฯ และนครราชสีมา",
        "description_en": "Volunteer hours in Bangkok and Nakhon Ratchasima",
        "deed_types": ["kys.volunteer_activity"],
        "provinces_text": "กรุงเทพมหานคร, TH-30",
        "starts_on": START.isoformat(),
        "ends_on": END.isoformat(),
        "goal_measure": "quantity",
        "goal": "200",
    }
    fields.update(overrides)
    return fields


@pytest.fixture
def demo(session: Session) -> None:
    load_demo(session)


def approved(session: Session, name: str = "drive", **overrides: object) -> Campaign:
    """An approved campaign of the Student Loan Fund, made through the services."""
    values: dict[str, object] = {
        "name": name,
        "title_th": f"แคมเปญ {name}",
        "title_en": f"Campaign {name}",
        "deed_types": ["kys.volunteer_activity"],
        "provinces": [],
        "starts_on": START,
        "ends_on": END,
        "goal_measure": GoalMeasure.CITIZENS,
        "goal": 20,
    }
    values.update(overrides)
    campaign = service.create(session, SYSTEM, get_agency(session, "kys"), NewCampaign(**values))  # type: ignore[arg-type]
    service.submit(session, SYSTEM, campaign)
    service.approve(session, SYSTEM, campaign)
    return campaign


def thanks(client: TestClient, session: Session) -> str:
    """The public page in English, with figures counted now."""
    figures(session).clear()
    client.cookies.set("lang", "en")
    response = client.get("/thanks")
    assert response.status_code == 200
    return response.text


# --- the lifecycle -----------------------------------------------------------------------


def test_create_submit_approve_and_progress_is_a_hand_count(
    app: FastAPI, session: Session, demo: None
) -> None:
    agency = staff_browser(app, session, Role.AGENCY_ADMIN)
    office = staff_browser(app, session, Role.PROGRAM_ADMIN, None)
    created = post_form(agency, "/staff/campaigns/new", form(), page="/staff/campaigns/new")
    assert created.status_code == 303, created.text
    assert created.headers["location"] == "/staff/campaigns/kys.volunteer_drive?saved=1"
    campaign = service.get(session, "kys.volunteer_drive")
    assert campaign.status is ReviewStatus.DRAFT
    assert campaign.provinces == ["TH-10", "TH-30"]
    page = agency.get("/staff/campaigns/kys.volunteer_drive").text
    assert "Volunteer together" in page
    assert "Bangkok, Nakhon Ratchasima" in page

    # Not on the public page before the programme office approves it.
    assert "Volunteer together" not in thanks(TestClient(app), session)
    submitted = post_form(agency, "/staff/campaigns/kys.volunteer_drive/submit", {})
    assert submitted.status_code == 303
    queue = office.get("/admin/campaigns").text
    assert "/admin/campaigns/kys.volunteer_drive" in queue
    decided = post_form(
        office, "/admin/campaigns/kys.volunteer_drive/decision", {"decision": "approve"}
    )
    assert decided.status_code == 303
    session.refresh(campaign)
    assert campaign.status is ReviewStatus.APPROVED
    assert campaign.decided_by == "staff:program_admin.office@example.org"
    # The confirmation names the campaign and the decision, not its code; in Thai on Thai pages.
    confirmed = office.get(decided.headers["location"]).text
    assert f"Approved: {campaign.title('en')}." in confirmed
    office.get("/lang/th")
    assert f"อนุมัติแล้ว: {campaign.title('th')}" in office.get(decided.headers["location"]).text
    office.get("/lang/en")
    actions = session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.entity_id == str(campaign.id))
        .order_by(AuditEvent.id)
    ).all()
    assert actions == ["campaign.create", "campaign.submit", "campaign.approve"]

    # Deeds: what counts and what does not.
    counted: list[tuple[int, int]] = []  # (person, hours)
    for n in range(12):
        hours(session, n, 2 + n % 3, TODAY - timedelta(days=n + 1), "TH-10" if n % 2 else "TH-30")
        counted.append((n, 2 + n % 3))
    hours(session, 1, 5, START, "TH-30")  # the first day counts
    counted.append((1, 5))
    hours(session, 20, 4, TODAY - timedelta(days=3), verify=False)  # pending
    revoked = hours(session, 21, 6, TODAY - timedelta(days=3))
    deeds.revoke(session, university(session), RULES, revoked, "wrong person")
    hours(session, 22, 7, START - timedelta(days=1))  # before the period
    hours(session, 23, 8, TODAY - timedelta(days=2), "TH-50")  # another province
    (found,) = service.progress(session, [campaign], fresh=True).values()
    assert found.deeds == len(counted) == 13
    assert found.quantity == sum(amount for _, amount in counted)
    assert found.citizens == len({n for n, _ in counted}) == 12
    assert found.value == found.quantity
    assert found.percent == int(found.quantity * 100 // 200)

    # The same by SQL the long way, from the stored deeds themselves.
    rows = session.scalars(select(Deed).where(Deed.deed_type_code == "kys.volunteer_activity"))
    by_hand = [
        d
        for d in rows
        if d.status is DeedStatus.VERIFIED
        and START <= d.occurred_on <= END
        and d.province in ("TH-10", "TH-30")
    ]
    assert found.deeds == len(by_hand)
    assert found.citizens == len({d.citizen_key for d in by_hand})

    # On the public page, with an accessible progress bar, and over the API.
    page = thanks(TestClient(app), session)
    assert "Volunteer together" in page
    assert f"{found.quantity.normalize():f} of 200 hours" in page
    assert re.search(rf'<progress max="200" value="{found.quantity}"', page)
    api = TestClient(app).get("/api/v1/campaigns").json()
    (entry,) = [c for c in api if c["code"] == "kys.volunteer_drive"]
    assert entry["progress"]["citizens"] == 12
    assert Decimal(entry["progress"]["value"]) == found.quantity
    assert entry["unit"] == "hour"
    assert entry["state"] == "running"


def test_progress_is_kept_a_minute_and_says_as_of_when(session: Session, demo: None) -> None:
    campaign = approved(session)
    for n in range(10):
        hours(session, n, 1, TODAY - timedelta(days=1))
    first = service.progress(session, [campaign], fresh=True)[campaign.id]
    hours(session, 10, 1, TODAY - timedelta(days=1))
    cached = service.progress(session, [campaign])[campaign.id]
    assert (cached.citizens, cached.as_of) == (first.citizens, first.as_of) == (10, first.as_of)
    again = service.progress(session, [campaign], fresh=True)[campaign.id]
    assert again.citizens == 11
    assert again.as_of >= first.as_of


def test_the_office_sends_back_with_a_note_and_the_agency_resubmits(
    app: FastAPI, session: Session, demo: None
) -> None:
    agency = staff_browser(app, session, Role.AGENCY_ADMIN)
    office = staff_browser(app, session, Role.PROGRAM_ADMIN, None)
    post_form(agency, "/staff/campaigns/new", form(), page="/staff/campaigns/new")
    post_form(agency, "/staff/campaigns/kys.volunteer_drive/submit", {})
    path = "/admin/campaigns/kys.volunteer_drive/decision"
    silent = post_form(office, path, {"decision": "send_back", "note": " "})
    assert silent.status_code == 422
    assert "Say what the agency should change." in silent.text
    note = "Please add Chiang Mai: the university has a campus there."
    assert post_form(office, path, {"decision": "send_back", "note": note}).status_code == 303
    campaign = service.get(session, "kys.volunteer_drive")
    session.refresh(campaign)
    assert (campaign.status, campaign.decision_note) == (ReviewStatus.DRAFT, note)
    page = agency.get("/staff/campaigns/kys.volunteer_drive").text
    assert note in page
    assert "Sent back" in page
    changed = post_form(
        agency,
        "/staff/campaigns/kys.volunteer_drive",
        form(provinces_text="Bangkok, TH-30, เชียงใหม่"),
    )
    assert changed.status_code == 303
    session.refresh(campaign)
    assert campaign.provinces == ["TH-10", "TH-30", "TH-50"]
    assert post_form(agency, "/staff/campaigns/kys.volunteer_drive/submit", {}).status_code == 303
    session.refresh(campaign)
    assert campaign.status is ReviewStatus.SUBMITTED
    # Submitted: frozen for the agency until the office decides.
    frozen = post_form(agency, "/staff/campaigns/kys.volunteer_drive", form(title_en="Other"))
    assert frozen.status_code == 409


def test_a_form_with_mistakes_says_where(app: FastAPI, session: Session, demo: None) -> None:
    agency = staff_browser(app, session, Role.AGENCY_ADMIN)
    wrong = post_form(
        agency,
        "/staff/campaigns/new",
        form(provinces_text="Atlantis", ends_on=(START - timedelta(days=1)).isoformat()),
        page="/staff/campaigns/new",
    )
    assert wrong.status_code == 422
    assert "is not a province" in wrong.text
    mixed = post_form(
        agency,
        "/staff/campaigns/new",
        form(deed_types=["kys.volunteer_activity", "redcross.blood_donation"]),
        page="/staff/campaigns/new",
    )
    assert mixed.status_code == 422
    assert "one unit" in mixed.text
    assert 'value="Volunteer together"' in mixed.text  # what was typed stays
    assert session.scalar(select(Campaign.id).where(Campaign.code.like("kys.%"))) is None


def test_agencies_never_reach_each_others_campaigns(
    app: FastAPI, session: Session, demo: None
) -> None:
    campaign = service.create(
        session,
        SYSTEM,
        get_agency(session, "kys"),
        NewCampaign(
            name="private_draft",
            title_th="ร่าง",
            title_en="A draft of the Fund",
            deed_types=["kys.volunteer_activity"],
            starts_on=START,
            ends_on=END,
            goal_measure=GoalMeasure.COUNT,
            goal=10,
        ),
    )
    other = staff_browser(app, session, Role.AGENCY_ADMIN, "redcross")
    assert other.get("/staff/campaigns/kys.private_draft").status_code == 404
    assert "A draft of the Fund" not in other.get("/staff/campaigns").text
    assert post_form(other, "/staff/campaigns/kys.private_draft", form()).status_code == 404
    assert post_form(other, "/staff/campaigns/kys.private_draft/submit", {}).status_code == 404
    session.refresh(campaign)
    assert campaign.status is ReviewStatus.DRAFT
    with pytest.raises(NotFound):
        service.get_own(
            session,
            Actor.api_key(
                "x", get_agency(session, "redcross").id, frozenset({Scope.CATALOG_WRITE})
            ),
            "kys.private_draft",
        )
    recorder = staff_browser(app, session, Role.RECORDER)
    assert recorder.get("/staff/campaigns").status_code == 403
    assert post_form(recorder, "/staff/campaigns/new", form()).status_code == 403
    agency = staff_browser(app, session, Role.AGENCY_ADMIN)
    assert (
        post_form(
            agency, "/admin/campaigns/kys.private_draft/decision", {"decision": "approve"}
        ).status_code
        == 403
    )
    # The office approves only what was submitted.
    with pytest.raises(Conflict):
        service.approve(session, SYSTEM, campaign)


# --- the public page ---------------------------------------------------------------------


def test_the_public_page_shows_approved_campaigns_only(
    client: TestClient, session: Session, demo: None
) -> None:
    shown = approved(session, "shown")
    retired = approved(session, "retired")
    service.retire(session, SYSTEM, retired, "replaced by another drive")
    old = approved(
        session,
        "long_ago",
        starts_on=TODAY - timedelta(days=400),
        ends_on=TODAY - timedelta(days=200),
    )
    soon = approved(
        session, "soon", starts_on=TODAY + timedelta(days=5), ends_on=TODAY + timedelta(days=50)
    )
    kys = get_agency(session, "kys")
    draft = service.create(
        session,
        SYSTEM,
        kys,
        NewCampaign(
            name="draft",
            title_th="ร่าง",
            title_en="Campaign draft",
            deed_types=["kys.volunteer_activity"],
            starts_on=START,
            ends_on=END,
            goal_measure=GoalMeasure.COUNT,
            goal=5,
        ),
    )
    waiting = service.create(
        session,
        SYSTEM,
        kys,
        NewCampaign(
            name="waiting",
            title_th="รอ",
            title_en="Campaign waiting",
            deed_types=["kys.volunteer_activity"],
            starts_on=START,
            ends_on=END,
            goal_measure=GoalMeasure.COUNT,
            goal=5,
        ),
    )
    service.submit(session, SYSTEM, waiting)
    page = thanks(client, session)
    assert "Campaign shown" in page
    assert "Campaign soon" in page
    assert "Starting soon" in page
    for hidden in (retired, old, draft, waiting):
        assert hidden.title_en not in page, hidden.code
    codes = [c["code"] for c in client.get("/api/v1/campaigns").json()]
    ours = [code for code in codes if code.startswith("kys.")]
    assert ours == ["kys.shown", "kys.soon"]  # running first, then upcoming
    assert shown.code in codes
    assert soon.state_on(TODAY) == "upcoming"


def test_figures_counting_fewer_than_ten_people_are_not_shown(
    client: TestClient, session: Session, demo: None
) -> None:
    campaign = approved(session, "small", goal_measure=GoalMeasure.QUANTITY, goal=100)
    for n in range(9):
        hours(session, n, 3, TODAY - timedelta(days=1))
    national = thank_you.national_counters(session, fresh=True)
    assert national["volunteer_hours"].citizens == 9
    assert not national["volunteer_hours"].shown
    page = thanks(client, session)
    counters = page.split('class="counters"')[1].split("</ul>")[0]
    assert "&lt;10" in counters
    assert ">27<" not in counters  # 9 people × 3 hours: never published
    card = page.split('id="c-kys.small"')[1].split("</li>")[0]
    assert "<progress" not in card
    assert "27 of 100" not in card
    assert "Fewer than 10 people so far" in card
    (entry,) = [c for c in client.get("/api/v1/campaigns").json() if c["code"] == "kys.small"]
    assert entry["progress"]["suppressed"] is True
    assert entry["progress"]["value"] is None
    assert entry["progress"]["citizens"] is None

    hours(session, 9, 3, TODAY - timedelta(days=1))  # the tenth person
    page = thanks(client, session)
    counters = page.split('class="counters"')[1].split("</ul>")[0]
    assert '<span class="counter-figure">30</span>' in counters
    card = page.split(f'id="c-{campaign.code}"')[1].split("</li>")[0]
    assert "30 of 100 hours" in card
    assert "<progress" in card
    (entry,) = [c for c in client.get("/api/v1/campaigns").json() if c["code"] == "kys.small"]
    assert entry["progress"]["suppressed"] is False
    assert entry["progress"]["citizens"] == 10


def test_national_counters_add_up_this_years_verified_deeds(session: Session, demo: None) -> None:
    first = date(TODAY.year, 1, 1)
    for n in range(10):
        hours(session, n, 2, max(first, TODAY - timedelta(days=2)))
    hours(session, 30, 9, max(first, TODAY - timedelta(days=2)), verify=False)  # pending
    hours(session, 31, 9, date(TODAY.year - 1, 12, 31))  # last year
    donate_ids = donate(session, 40, 1)  # long ago (test_awards' dates): not this year
    assert donate_ids
    found = thank_you.national_counters(session, fresh=True)
    assert found.year == TODAY.year
    assert found["volunteer_hours"].value == 20
    assert found["volunteer_hours"].citizens == 10
    assert found["citizens"].value == 10  # the donor gave last year or before
    assert found["blood_donations"].citizens == 0


# --- recognitions citizens choose to show --------------------------------------------------


def test_a_recognition_is_public_only_while_its_citizen_chooses_it(
    client: TestClient, session: Session, demo: None
) -> None:
    ids = donate(session, 50, 7, province="TH-50")
    award = awards_of(session, 50)["redcross.donor_7"]
    sign_in_citizen(client, session, donor_id(50), born_on=date(1990, 1, 1))
    client.cookies.set("lang", "en")
    mine = client.get("/me/awards").text
    assert "Show it on the public thank-you page" in mine
    assert "คุณสมศรี" not in thanks(client, session)  # nothing is public by default

    chosen = post_form(
        client,
        f"/me/awards/{award.id}/public",
        {"shown": "true", "public_name": "  คุณสมศรี  "},
        page="/me/awards",
    )
    assert chosen.status_code == 303
    assert chosen.headers["location"].startswith("/me/awards?done=shown")
    session.refresh(award)
    assert (award.public_name, award.public_since is not None) == ("คุณสมศรี", True)
    page = thanks(client, session)
    shared = page.split('class="recognitions"')[1].split("</ul>")[0]
    assert "คุณสมศรี" in shared
    assert "Pin for 7 blood donations" in shared
    assert "Chiang Mai" in shared
    reached = award.reached_on
    assert f"Chiang Mai · {reached:%B} {reached.year}</span>" in shared  # the month, no day

    hidden = post_form(client, f"/me/awards/{award.id}/public", {}, page="/me/awards")
    assert hidden.headers["location"].startswith("/me/awards?done=hidden")
    assert "คุณสมศรี" not in thanks(client, session)

    empty = post_form(
        client,
        f"/me/awards/{award.id}/public",
        {"shown": "true", "public_name": " "},
        page="/me/awards",
    )
    assert empty.status_code == 422
    post_form(
        client,
        f"/me/awards/{award.id}/public",
        {"shown": "true", "public_name": "คุณสมศรี"},
        page="/me/awards",
    )
    assert "คุณสมศรี" in thanks(client, session)
    # The award withdrawn (a deed behind it revoked): off the page at once.
    deeds.revoke(session, hospital(session), RULES, ids[0], "recorded twice")
    session.refresh(award)
    assert award.status is AwardStatus.WITHDRAWN
    assert "คุณสมศรี" not in thanks(client, session)
    again = post_form(
        client, f"/me/awards/{award.id}/public", {"shown": "true", "public_name": "x"}
    )
    assert again.status_code == 409


def test_another_citizen_cannot_show_my_award(
    client: TestClient, session: Session, demo: None
) -> None:
    donate(session, 51, 7)
    award = awards_of(session, 51)["redcross.donor_7"]
    stranger = make_principal(session, national_id(52), born_on=date(1990, 1, 1))
    with pytest.raises(NotFound):
        set_public_name(session, stranger, award.id, "not mine")
    sign_in_citizen(client, session, donor_id(52), born_on=date(1990, 1, 1))
    response = post_form(
        client, f"/me/awards/{award.id}/public", {"shown": "true", "public_name": "x"}
    )
    assert response.status_code == 404
    session.refresh(award)
    assert award.public_name is None


def test_erasure_takes_the_recognition_off_the_page(
    client: TestClient, session: Session, demo: None
) -> None:
    donate(session, 53, 7)
    award = awards_of(session, 53)["redcross.donor_7"]
    citizen = make_principal(session, national_id(53), born_on=date(1990, 1, 1))
    set_public_name(session, citizen, award.id, "คุณลบแล้ว")
    assert "คุณลบแล้ว" in thanks(client, session)
    request = rights.request_erasure(session, citizen)
    rights.erase(session, SYSTEM, request.id)
    session.refresh(award)
    assert (award.public_name, award.public_since) == (None, None)
    assert "คุณลบแล้ว" not in thanks(client, session)
