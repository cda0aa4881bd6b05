"""The partner's counter. A check refused for want of consent asks for it: the counter page shows the
consent page's address for the benefit (as a QR code and as text, never naming
the citizen), and once the citizen consents, "Check again" answers without the ID
being typed or shown again. (The QR code itself is decoded in the browser test,
tests/browser/test_journey_counter.py.)"""

from __future__ import annotations

import html
import re
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from dcatalog.accounts.permissions import Role
from dcatalog.agencies.service import get_agency
from dcatalog.app import create_app
from dcatalog.citizens import consent, disclosure
from dcatalog.config import Settings
from dcatalog.db import Database
from dcatalog.demo.data import DEMO_DONOR_BORN, DEMO_DONOR_ID
from dcatalog.demo.service import load_demo
from tests.factories import make_account, post_form, sign_in, sign_in_citizen

pytestmark = pytest.mark.demo_data  # on the demo's reference data, loaded once

BENEFIT = "redcross.donor_privilege"  # 3 donations in 365 days: the donor has 4
FORM = {"national_id": DEMO_DONOR_ID, "benefit": BENEFIT, "purpose": "ช่องบริการพิเศษ"}


def counter(client: TestClient, session: Session, agency: str = "redcross") -> TestClient:
    staff = TestClient(client.app)
    sign_in(staff, make_account(session, Role.AGENCY_ADMIN, get_agency(session, agency)).email)
    return staff


def sealed_of(page: str) -> str:
    found = re.search(r'name="sealed" value="([^"]+)"', page)
    assert found, "no “Check again” on the page"
    return html.unescape(found.group(1))


def test_no_consent_asks_for_it_and_check_again_answers(
    client: TestClient, session: Session
) -> None:
    load_demo(session)
    staff = counter(client, session)
    refused = post_form(staff, "/staff/eligibility", FORM, page="/staff/eligibility")
    assert refused.status_code == 200
    assert 'data-outcome="refused"' in refused.text
    # The consent request: the consent page of this benefit, an absolute address
    # (the request's own here: no public URL is set), shown as text beside the QR.
    url = f"http://testserver/me/consents?benefit={BENEFIT}"
    assert f'<code class="consent-url">{url}</code>' in refused.text
    assert 'alt="คิวอาร์โค้ดของหน้าให้ความยินยอมสำหรับสิทธิประโยชน์นี้"' in refused.text
    assert "ให้ประชาชนสแกนคิวอาร์โค้ดนี้ด้วยกล้องโทรศัพท์มือถือของตนเอง" in refused.text
    assert DEMO_DONOR_ID not in refused.text  # not in the page, the QR, the address
    sealed = sealed_of(refused.text)
    assert DEMO_DONOR_ID not in sealed

    # Still no consent: asked again, refused again (and logged again).
    again = post_form(staff, "/staff/eligibility/again", {"sealed": sealed}, "/staff/eligibility")
    assert 'data-outcome="refused"' in again.text

    # The donor consents on her phone (here through the consent service).
    donor = sign_in_citizen(client, session, DEMO_DONOR_ID, date.fromisoformat(DEMO_DONOR_BORN))
    consent.grant(
        session,
        donor,
        agency_code="redcross",
        purpose="ช่องบริการพิเศษ",
        scope=["type:redcross.blood_donation"],
        includes_health=True,
    )
    answered = post_form(
        staff, "/staff/eligibility/again", {"sealed": sealed}, "/staff/eligibility"
    )
    assert answered.status_code == 200
    assert 'data-outcome="allowed"' in answered.text
    assert "ผ่านเงื่อนไข" in answered.text
    assert "consent-request" not in answered.text  # nothing left to ask
    assert DEMO_DONOR_ID not in answered.text
    log = disclosure.access_log(session, donor.citizen_key)
    assert [entry.outcome.value for entry in log] == ["allowed", "refused", "refused"]
    assert all(entry.purpose == "ช่องบริการพิเศษ" for entry in log)


def test_check_again_is_for_the_same_agency_and_unaltered(
    client: TestClient, session: Session
) -> None:
    load_demo(session)
    staff = counter(client, session)
    refused = post_form(staff, "/staff/eligibility", FORM, page="/staff/eligibility")
    sealed = sealed_of(refused.text)
    # Another partner cannot reuse it to check the donor.
    other = counter(client, session, "kys")
    taken = post_form(other, "/staff/eligibility/again", {"sealed": sealed}, "/staff/eligibility")
    assert taken.status_code == 422
    assert "กรุณากรอกเลขประจำตัวประชาชนอีกครั้ง" in taken.text
    altered = sealed[:-2] + ("AA" if not sealed.endswith("AA") else "BB")
    bad = post_form(staff, "/staff/eligibility/again", {"sealed": altered}, "/staff/eligibility")
    assert bad.status_code == 422


def test_only_the_redeem_page_may_use_the_camera(client: TestClient, session: Session) -> None:
    load_demo(session)
    till = counter(client, session, "greenmart")
    page = till.get("/staff/redeem")
    assert page.status_code == 200
    policy = page.headers["permissions-policy"]
    assert "camera=(self)" in policy
    assert "microphone=()" in policy
    assert 'src="/static/js/redeem-scan.js' in page.text or "js/redeem-scan.js" in page.text
    redeemed = post_form(till, "/staff/redeem", {"code": "ABCDEFGHJK"}, page="/staff/redeem")
    assert "camera=(self)" in redeemed.headers["permissions-policy"]  # the page again
    for other in ("/staff", "/staff/eligibility", "/"):
        assert "camera=()" in till.get(other).headers["permissions-policy"], other


def test_the_consent_request_names_the_public_url_when_set(
    settings: Settings, database: Database, session: Session
) -> None:
    """Behind a proxy the counter may reach the service by an inner address; the
    citizen's phone needs the public one (DCATALOG_PUBLIC_URL)."""
    load_demo(session)
    public = settings.model_copy(update={"public_url": "https://dcatalog.example.go.th"})
    client = TestClient(create_app(public, database=database))
    staff = counter(client, session)
    refused = post_form(staff, "/staff/eligibility", FORM, page="/staff/eligibility")
    url = f"https://dcatalog.example.go.th/me/consents?benefit={BENEFIT}"
    assert f'<code class="consent-url">{url}</code>' in refused.text
