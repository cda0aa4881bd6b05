"""Milestones are listed by their number, not as text: a ladder at 16, 72 and 108
runs 16, 72, 108 on every list (the partner's benefits, the eligibility check, the
ceremony lists, the citizen's progress and milestones), where sorting the codes
as text gave 108, 16, 72."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from dcatalog.accounts.permissions import Role, Scope
from dcatalog.actors import Actor
from dcatalog.agencies.service import get_agency
from dcatalog.benefits import service as benefits
from dcatalog.calendars.buddhist_era import today_in_thailand
from dcatalog.deeds import service as deeds
from dcatalog.demo.service import load_demo
from dcatalog.identity.citizen_key import CitizenKeyer
from dcatalog.identity.national_id import with_check_digit
from tests.conftest import TEST_PEPPER
from tests.factories import make_account, make_milestone, sign_in, sign_in_citizen

pytestmark = pytest.mark.demo_data  # on the demo's reference data, loaded once

KEYER = CitizenKeyer(TEST_PEPPER.encode())
TODAY = today_in_thailand()
RULES = deeds.Rules(today=TODAY, max_age_days=730, academic_start=(5, 16))
LADDER = (108, 16, 72)  # defined out of order on purpose
IN_ORDER = ["kys.credits_16", "kys.credits_72", "kys.credits_108"]


def ladder(session: Session) -> None:
    """Milestones of the Student Loan Fund at 16, 72 and 108 credits of volunteer
    activity (one 12-hour activity, 120 credits, reaches all three on one day)."""
    for step in LADDER:
        make_milestone(
            session,
            agency=get_agency(session, "kys"),
            code=f"kys.credits_{step}",
            name_th=f"ขั้น {step} เครดิต",
            name_en=f"Step {step} credits",
            rule={
                "deed_type": "kys.volunteer_activity",
                "measure": "credits",
                "period": "lifetime",
                "at_least": step,
            },
        )


def volunteer(session: Session, national_id: str) -> None:
    """Twelve hours recorded by the university, then verified there."""
    scopes = frozenset({Scope.DEEDS_WRITE, Scope.DEEDS_VERIFY})
    school = Actor.api_key("uni", get_agency(session, "demouniv").id, scopes)
    item = deeds.DeedInput(
        national_id,
        "kys.volunteer_activity",
        Decimal(12),
        TODAY - timedelta(days=2),
        "TH-10",
        "certificate 1",
        "order-1",
    )
    (outcome,) = deeds.record(session, school, KEYER, RULES, [item])
    assert outcome.result == "created", outcome.errors
    assert outcome.deed is not None
    deeds.verify(session, school, RULES, [outcome.deed["id"]])


def order_on(html: str, codes: list[str]) -> list[str]:
    """The codes in the order the page shows them (each where it first appears)."""
    found = {code: html.find(f'"{code}"') for code in codes}
    assert all(at >= 0 for at in found.values()), found
    return sorted(codes, key=found.__getitem__)


def names_in_order(html: str) -> list[str]:
    return re.findall(r"Step (\d+) credits", html)


def test_a_ladder_of_milestones_is_listed_by_number(app: FastAPI, session: Session) -> None:
    load_demo(session)
    ladder(session)
    assert [b.code for b in benefits.offered(session, TODAY) if b.code in IN_ORDER] == IN_ORDER
    staff = TestClient(app, raise_server_exceptions=False)
    admin = make_account(session, Role.AGENCY_ADMIN, get_agency(session, "kys"))
    sign_in(staff, admin.email)
    staff.get("/lang/en")
    # The agency's own benefits, its eligibility check and its ceremony lists.
    listed = staff.get("/staff/benefits").text
    assert _dedup(names_in_order(listed)) == ["16", "72", "108"]
    assert order_on(staff.get("/staff/eligibility").text, IN_ORDER) == IN_ORDER
    assert order_on(staff.get("/staff/ceremonies").text, IN_ORDER) == IN_ORDER

    # The citizen: all three reached with one deed, on one day.
    national_id = with_check_digit("410000000001")
    volunteer(session, national_id)
    citizen = TestClient(app, raise_server_exceptions=False)
    sign_in_citizen(citizen, session, national_id)
    citizen.get("/lang/en")
    home = citizen.get("/me").text
    milestones, _, progress = home.partition("Benefits and thanks you can reach")
    assert _dedup(names_in_order(progress)) == ["16", "72", "108"]
    # Milestones: the latest first; reached on the same day, the highest step first
    # (a ladder read from the top), never 72 above 108 as text would put them.
    assert names_in_order(milestones) == ["108", "72", "16"]
    assert names_in_order(citizen.get("/me/awards").text) == ["108", "72", "16"]


def _dedup(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
