"""The QR code on an award's certificate leads to its check page: /me/awards
offers to share the certificate when it is issued and afterwards, never
shares it unasked. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from dcatalog.accounts.permissions import Scope
from dcatalog.actors import Actor
from dcatalog.agencies.service import get_agency
from dcatalog.benefits.models import Award
from dcatalog.calendars.buddhist_era import format_date, today_in_thailand
from dcatalog.credentials import service as credentials
from dcatalog.credentials.models import IssuedCredential
from dcatalog.deeds import service as deeds
from dcatalog.demo.service import load_demo
from dcatalog.identity.citizen_key import CitizenKeyer
from dcatalog.identity.national_id import with_check_digit
from tests.conftest import TEST_PEPPER
from tests.factories import post_form, sign_in_citizen

pytestmark = pytest.mark.demo_data  # on the demo's reference data, loaded once

KEYER = CitizenKeyer(TEST_PEPPER.encode())
TODAY = today_in_thailand()
FIRST = TODAY - timedelta(days=90 * 8)
RULES = deeds.Rules(today=TODAY, max_age_days=90 * 9, academic_start=(5, 16))


def seven_donations(session: Session, national_id: str) -> Award:
    """Seven donations 90 days apart reach the Red Cross milestone redcross.donor_7."""
    hospital = Actor.api_key(
        "hosp", get_agency(session, "korat_hospital").id, frozenset({Scope.DEEDS_WRITE})
    )
    items = [
        deeds.DeedInput(national_id, "redcross.blood_donation", Decimal(1),
                        FIRST + timedelta(days=90 * i), "TH-30", "", f"qr-{national_id[-4:]}-{i}")
        for i in range(7)
    ]  # fmt: skip
    outcomes = deeds.record(session, hospital, KEYER, RULES, items)
    assert all(o.result == "created" for o in outcomes), [o.errors for o in outcomes]
    return session.scalars(select(Award).where(Award.citizen_key == KEYER.key(national_id))).one()


def issued_unshared(client: TestClient, session: Session, national_id: str) -> Award:
    """The demo, seven donations by ``national_id``, who signs in and asks for the
    award's certificate without sharing it."""
    load_demo(session)
    award = seven_donations(session, national_id)
    sign_in_citizen(client, session, national_id, born_on=date(1990, 1, 1))
    post_form(client, f"/me/awards/{award.id}/credential", {}, page="/me/awards")
    session.refresh(award)
    assert award.credential_id is not None
    return award


def qr_target(credential: IssuedCredential) -> str:
    """The path the certificate's QR code carries (credentials.short_url, without the host)."""
    return f"/c/{credential.short_id}"


def test_sharing_on_issue_makes_the_certificates_qr_open_its_check_page(
    client: TestClient, session: Session
) -> None:
    load_demo(session)
    award = seven_donations(session, with_check_digit("310060055571"))
    sign_in_citizen(client, session, with_check_digit("310060055571"), born_on=date(1990, 1, 1))
    page = client.get("/me/awards").text
    assert 'name="share"' in page  # the choice is offered where the certificate is asked for
    issued = post_form(
        client, f"/me/awards/{award.id}/credential", {"share": "true"}, page="/me/awards"
    )
    assert issued.status_code == 303
    session.refresh(award)
    assert award.credential_id is not None
    credential = credentials.get_credential(session, award.credential_id)
    assert credential is not None
    checked = client.get(qr_target(credential))
    assert checked.status_code == 200
    assert "ไม่มีใบรับรองที่นี่" not in checked.text


def test_an_award_certificate_issued_unshared_can_be_shared_from_my_milestones(
    client: TestClient, session: Session
) -> None:
    award = issued_unshared(client, session, with_check_digit("310060066682"))
    assert award.credential_id is not None
    credential = credentials.get_credential(session, award.credential_id)
    assert credential is not None
    assert client.get(qr_target(credential)).status_code == 404  # never shared unasked
    page = client.get("/me/awards").text
    assert f"/me/credentials/{credential.id}/certificate.pdf" in page
    assert f'action="/me/awards/{award.id}/share"' in page
    shared = post_form(
        client, f"/me/awards/{award.id}/share", {"shared": "true"}, page="/me/awards"
    )
    assert shared.status_code == 303
    assert client.get(qr_target(credential)).status_code == 200
    page = client.get("/me/awards").text
    assert f"/c/{credential.short_id}" in page  # the link its QR code carries
    stopped = post_form(
        client, f"/me/awards/{award.id}/share", {"shared": "false"}, page="/me/awards"
    )
    assert stopped.status_code == 303
    assert client.get(qr_target(credential)).status_code == 410


def test_the_award_certificate_names_the_partner_who_thanks_and_the_day_it_was_reached(
    client: TestClient, session: Session
) -> None:
    award = issued_unshared(client, session, with_check_digit("310060077793"))
    pdf = client.get(f"/me/credentials/{award.credential_id}/certificate.pdf")
    assert pdf.status_code == 200
    Path("/tmp/award-certificate.pdf").write_bytes(pdf.content)  # noqa: S108 (for a person to look at)
    document = pdfium.PdfDocument(pdf.content)
    text = "".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    text = " ".join(text.split())
    partner = award.benefit.agency
    assert f"ด้วยความขอบคุณจาก {partner.name_th}" in text, text
    assert partner.name_en in text, text  # the partner's English name, for the English line
    reached = format_date(award.reached_on, "th", "long")
    assert f"ถึงเกณฑ์เมื่อ {reached}" in text, text


def test_the_holder_may_have_her_name_printed_and_only_a_sensible_one(
    client: TestClient, session: Session
) -> None:
    """The certificate's page offers a name field; the name typed is printed as the
    holder's, with the note that the signed credential names nobody; without one the
    certificate names nobody; a name too long is refused on the page, in Thai."""
    award = issued_unshared(client, session, with_check_digit("310060088804"))
    url = f"/me/credentials/{award.credential_id}/certificate.pdf"
    page = client.get("/me/credentials").text
    assert f'action="{url}"' in page
    assert 'name="name" maxlength="100"' in page

    def text_of(pdf: bytes) -> str:
        document = pdfium.PdfDocument(pdf)
        found = "".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
        return " ".join(found.split())

    named = client.get(url, params={"name": "  สมศรี   ใจดี "})
    assert named.status_code == 200
    Path("/tmp/named-certificate.pdf").write_bytes(named.content)  # noqa: S108 (for a person to look at)
    assert named.headers["content-type"] == "application/pdf"
    text = text_of(named.content)
    assert "สมศรี ใจดี" in text  # as typed, spaces tidied
    assert "presented to" in text
    assert "the signed credential names nobody" in text
    plain = text_of(client.get(url).content)
    assert "presented to" not in plain
    assert "สมศรี" not in plain
    refused = client.get(url, params={"name": "ก" * 101})
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("text/html")
    assert "กรอกชื่อที่จะพิมพ์ หรือเว้นว่างไว้" in refused.text
    nul = client.get(url, params={"name": "Som\x00sri"})
    assert nul.status_code == 422  # the request guard: no control character gets in
