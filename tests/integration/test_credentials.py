"""Credentials end to end on both databases: a citizen asks for a transcript, anyone
checks it; tampering, revocation through the status list, key rotation, unknown
issuers, sharing and its withdrawal, the PDF certificate."""

from __future__ import annotations

import copy
import io
import json
import re
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from dcatalog.accounts import service as accounts
from dcatalog.accounts.permissions import Role
from dcatalog.actors import operator_for
from dcatalog.agencies.service import get_agency
from dcatalog.calendars.buddhist_era import today_in_thailand
from dcatalog.citizens import rights
from dcatalog.config import Settings
from dcatalog.credentials import keystore, status_list
from dcatalog.credentials.cryptosuites import EDDSA_RDFC_2022
from dcatalog.credentials.data_integrity import create_proof, verify_proof
from dcatalog.credentials.keys import SigningKey
from dcatalog.credentials.models import IssuedCredential, IssuerKey
from dcatalog.credentials.multikey import did_key_verification_method, encode_secret_key
from dcatalog.credentials.open_badges import HashedIdentity
from dcatalog.credentials.verification import published_key_resolver
from dcatalog.deeds import service as deeds
from dcatalog.deeds.models import Deed
from dcatalog.demo.data import DEMO_STUDENT_ID
from dcatalog.demo.service import load_demo
from dcatalog.identity.citizen_key import CitizenKeyer
from dcatalog.identity.national_id import with_check_digit
from dcatalog.instance import SecretUnavailable
from tests.conftest import TEST_PEPPER
from tests.factories import csrf_from, make_account, post_form, sign_in_citizen

pytestmark = pytest.mark.demo_data  # on the demo's reference data, loaded once

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


@pytest.fixture
def student(client: TestClient, session: Session) -> str:
    """The demo student, signed in on ``client``; returns her citizen key."""
    load_demo(session, with_accounts=True, keyer=CitizenKeyer(TEST_PEPPER.encode()))
    return sign_in_citizen(client, session, DEMO_STUDENT_ID).citizen_key


def totals(client: TestClient) -> dict[str, str]:
    page = client.get("/me/credentials")
    assert page.status_code == 200
    return dict(re.findall(r'<option value="([^"]+)">([^<]+)</option>', page.text))


def ask(client: TestClient, prefix: str, *, share: bool = True) -> dict[str, Any]:
    """Ask for the transcript of the first total whose key starts with ``prefix``;
    returns the signed credential."""
    total = next(key for key in totals(client) if key.startswith(prefix))
    data = {"total": total, "csrf_token": csrf_from(client, "/me/credentials")}
    if share:
        data["share"] = "true"
    response = client.post("/me/credentials", data=data, follow_redirects=False)
    assert response.status_code == 303, response.text
    credential_id = response.headers["location"].rsplit("#c-", 1)[1]
    document = client.get(f"/me/credentials/{credential_id}/credential.json")
    assert document.status_code == 200
    return {**document.json(), "_row": credential_id}


def signed(document: dict[str, Any]) -> dict[str, Any]:
    """The credential as issued (without the row id that ``ask`` adds)."""
    return {k: v for k, v in document.items() if k != "_row"}


def verify(client: TestClient, document: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/api/v1/credentials/verify", json=signed(document))
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def short_path(document: dict[str, Any]) -> str:
    return str(document["id"]).replace("http://testserver", "")


def test_a_transcript_is_issued_and_verifies(
    client: TestClient, session: Session, student: str
) -> None:
    assert any(
        key.startswith("type:kys.volunteer_activity|academic_year:") for key in totals(client)
    )
    issued = ask(client, "type:kys.volunteer_activity|academic_year:")
    document = signed(issued)

    assert document["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert document["proof"][0]["cryptosuite"] == "eddsa-rdfc-2022"
    assert document["issuer"]["id"] == "did:web:testserver"
    assert document["proof"][0]["verificationMethod"].startswith("did:web:testserver#z6Mk")
    subject = document["credentialSubject"]
    assert subject["achievement"]["achievementType"] == "CommunityService"
    assert [r["value"] for r in subject["result"]] == ["30", "4", "300"]
    assert subject["term"].startswith("ปีการศึกษา")
    assert re.fullmatch(r"http://testserver/c/[2-9a-z]{12}", document["id"])
    # The recipient is the citizen key, hashed with a salt; never the national ID.
    identity = subject["identifier"][0]
    hashed = HashedIdentity(identity["identityType"], identity["identityHash"], identity["salt"])
    assert hashed.matches(student)
    assert DEMO_STUDENT_ID not in json.dumps(document)
    entry = document["credentialStatus"]
    assert entry["statusPurpose"] == "revocation"
    assert 0 <= int(entry["statusListIndex"]) < status_list.MIN_ENTRIES

    result = verify(client, document)
    assert result["outcome"] == "valid", result
    assert result["status_checked"] is True
    assert result["attests"]["results"][0] == {"label": "ชั่วโมง / hours", "value": "30"}

    row = session.scalar(
        select(IssuedCredential).where(IssuedCredential.short_id == document["id"][-12:])
    )
    assert row is not None
    assert len(row.deed_ids) == 4
    assert row.citizen_key == student
    # Asking again for the same, unchanged total gives the same credential.
    again = ask(client, "type:kys.volunteer_activity|academic_year:")
    assert again["_row"] == issued["_row"]
    assert again["id"] == issued["id"]


def test_tampering_is_caught(client: TestClient, student: str) -> None:
    document = signed(ask(client, "type:kys.volunteer_activity|academic_year:"))
    changed = copy.deepcopy(document)
    changed["credentialSubject"]["result"][0]["value"] = "36"
    result = verify(client, changed)
    assert (result["outcome"], result["problem"]) == ("invalid", "tampered")
    # The public form says so too, in Thai.
    page = client.post(
        "/verify",
        data={"credential": json.dumps(changed), "csrf_token": csrf_from(client, "/verify")},
    )
    assert page.status_code == 200
    assert 'data-outcome="invalid" data-problem="tampered"' in page.text
    assert "ถูกแก้ไข" in page.text
    uploaded = client.post(
        "/verify",
        data={"csrf_token": csrf_from(client, "/verify")},
        files={"file": ("credential.json", json.dumps(document).encode(), "application/json")},
    )
    assert 'data-outcome="valid"' in uploaded.text
    renamed = copy.deepcopy(document)
    renamed["issuer"]["name"] = "Someone else"
    assert verify(client, renamed)["problem"] == "tampered"


def test_revoking_a_deed_revokes_the_credential_through_the_status_list(
    client: TestClient, session: Session, settings: Settings, student: str
) -> None:
    hours = signed(ask(client, "type:kys.volunteer_activity|academic_year:"))
    blood = signed(ask(client, "type:redcross.blood_donation|lifetime"))
    deed = session.scalar(select(Deed).where(Deed.external_id == "demo-student-hours-2"))
    assert deed is not None
    rules = deeds.Rules(
        today=today_in_thailand(),
        max_age_days=730,
        academic_start=settings.academic_year_start_month_day,
    )
    university = operator_for(get_agency(session, "demouniv").id)
    deeds.revoke(session, university, rules, deed.id, "The activity was recorded twice")

    result = verify(client, hours)
    assert result["outcome"] == "revoked", result
    assert verify(client, blood)["outcome"] == "valid"
    page = client.get(short_path(hours))
    assert 'data-outcome="revoked"' in page.text
    assert "recorded twice" not in page.text  # the reason is the citizen's, not the public's
    mine = client.get("/me/credentials").text
    assert "The activity was recorded twice" in mine

    # The published list is a signed credential whose bit for it is set.
    url = hours["credentialStatus"]["statusListCredential"]
    listed = client.get(url.replace("http://testserver", "")).json()
    keys = [k.public_key for k in session.scalars(select(IssuerKey))]
    assert verify_proof(listed, published_key_resolver(keys)).valid
    assert listed["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    bits = status_list.decode(listed["credentialSubject"]["encodedList"])
    assert status_list.entry_count(bits) >= 131_072
    assert status_list.is_flagged(hours["credentialStatus"], listed)
    assert not status_list.is_flagged(blood["credentialStatus"], listed)
    # A transcript asked for now rests on the three deeds left.
    renewed = signed(ask(client, "type:kys.volunteer_activity|academic_year:"))
    assert renewed["id"] != hours["id"]
    assert renewed["credentialSubject"]["result"][0]["value"] == "22"
    assert verify(client, renewed)["outcome"] == "valid"


def test_rotating_the_key_keeps_old_credentials_valid(
    app: FastAPI, client: TestClient, session: Session, settings: Settings, student: str
) -> None:
    old = signed(ask(client, "type:kys.volunteer_activity|academic_year:"))
    key_file = settings.instance_dir / keystore.KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    before = key_file.read_bytes()

    new_key = keystore.new_private_key()
    keystore.publish(session, new_key.public_key())
    keystore.write_key_file(settings, new_key)
    del app.state.issuer_private_key  # a restarted process reads the new key
    assert key_file.read_bytes() != before
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600

    new = signed(ask(client, "type:redcross.blood_donation|lifetime"))
    assert new["proof"][0]["verificationMethod"] != old["proof"][0]["verificationMethod"]
    assert verify(client, old)["outcome"] == "valid"
    assert verify(client, new)["outcome"] == "valid"
    did = client.get("/.well-known/did.json").json()
    methods = [m["id"] for m in did["verificationMethod"]]
    assert old["proof"][0]["verificationMethod"] in methods
    assert new["proof"][0]["verificationMethod"] in did["assertionMethod"]
    listed = client.get("/credentials/keys").json()["keys"]
    assert listed[0]["id"] == new["proof"][0]["verificationMethod"]
    assert listed[0]["retired"] is None
    assert listed[1]["retired"] is not None
    # The private key is in neither the database nor the published documents.
    secret = encode_secret_key(new_key)
    assert secret not in json.dumps(did)
    assert secret not in json.dumps(listed)
    assert all(not row.public_key.startswith("z3u2") for row in session.scalars(select(IssuerKey)))


def test_a_credential_of_an_unknown_issuer(client: TestClient, student: str) -> None:
    document = signed(ask(client, "type:kys.volunteer_activity|academic_year:"))
    stranger = Ed25519PrivateKey.generate()
    unsigned = {k: v for k, v in document.items() if k != "proof"}
    for method in (
        did_key_verification_method(stranger.public_key()),
        keystore.verification_method("did:web:testserver", stranger.public_key()),
    ):
        forged = create_proof(
            unsigned, SigningKey(method, stranger), EDDSA_RDFC_2022, created=datetime.now(UTC)
        )
        result = verify(client, forged)
        # Not ours: the signature cannot be checked here, so it is unknown, not valid.
        assert (result["outcome"], result["problem"]) == ("unknown", "unknown_issuer"), result
    page = client.post(
        "/verify",
        data={"credential": json.dumps(forged), "csrf_token": csrf_from(client, "/verify")},
    )
    assert 'data-outcome="unknown" data-problem="unknown_issuer"' in page.text


def test_the_api_refuses_what_is_not_a_json_object(client: TestClient) -> None:
    assert client.post("/api/v1/credentials/verify", content=b"nope").status_code in (400, 422)
    result = client.post("/api/v1/credentials/verify", json={"hello": "world"}).json()
    assert (result["outcome"], result["problem"]) == ("invalid", "malformed")


def test_sharing_is_chosen_and_can_be_withdrawn(
    app: FastAPI, client: TestClient, session: Session, student: str
) -> None:
    document = ask(client, "type:kys.volunteer_activity|academic_year:", share=False)
    stranger = TestClient(app)
    path = short_path(document)
    assert stranger.get(path).status_code == 404
    assert stranger.get(path + "/credential.json").status_code == 404

    def share(on: bool) -> None:
        response = client.post(
            f"/me/credentials/{document['_row']}/share",
            data={"shared": str(on).lower(), "csrf_token": csrf_from(client, "/me/credentials")},
            follow_redirects=False,
        )
        assert response.status_code == 303

    share(True)
    page = stranger.get(path)
    assert page.status_code == 200
    assert 'data-outcome="valid"' in page.text
    assert DEMO_STUDENT_ID not in page.text
    assert stranger.get(path + "/credential.json").json()["id"].endswith(path)
    share(False)
    gone = stranger.get(path)
    assert gone.status_code == 410
    assert 'data-outcome="withdrawn"' in gone.text
    assert "ไม่ได้แบ่งปันแล้ว" in gone.text
    assert stranger.get(path + "/credential.json").status_code == 410
    # Another citizen can neither share it nor download it.
    other = TestClient(app)
    sign_in_citizen(other, session, with_check_digit("110170023070"))
    attempt = other.post(
        f"/me/credentials/{document['_row']}/share",
        data={"shared": "true", "csrf_token": csrf_from(other)},
        follow_redirects=False,
    )
    assert attempt.status_code == 404
    assert other.get(f"/me/credentials/{document['_row']}/certificate.pdf").status_code == 404
    assert stranger.get(path).status_code == 410


def test_nothing_to_attest_is_refused(client: TestClient, session: Session, student: str) -> None:
    response = client.post(
        "/me/credentials",
        data={
            "total": "type:kys.volunteer_activity|calendar_year:2400",
            "csrf_token": csrf_from(client, "/me/credentials"),
        },
    )
    assert response.status_code == 422
    assert session.scalar(select(IssuedCredential)) is None


def test_the_pdf_certificate(client: TestClient, backend: str, student: str) -> None:
    document = ask(client, "type:kys.volunteer_activity|academic_year:")
    response = client.get(f"/me/credentials/{document['_row']}/certificate.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    pdf = pdfium.PdfDocument(io.BytesIO(response.content))
    assert len(pdf) == 1
    page = pdf[0]
    text = page.get_textpage().get_text_range()
    for expected in ("ใบรับรองผลความดี", "ปีการศึกษา", "ชั่วโมง", "Certificate of good deeds"):
        assert expected in text, expected
    assert document["id"] in text.replace("\r", "").replace("\n", "")
    image = page.render(scale=1).to_pil().convert("L")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    image.save(SCREENSHOTS / f"certificate-{backend}.png")
    histogram = image.histogram()
    dark = sum(histogram[:128]) / (image.width * image.height)
    assert 0.01 < dark < 0.5, f"{dark:.3f} of the page is dark: blank or garbled"
    # The signed credential travels inside the PDF and still verifies.
    assert pdf.count_attachments() == 1
    attachment = pdf.get_attachment(0)
    assert attachment.get_name() == "credential.json"
    attached = json.loads(bytes(attachment.get_data()).decode("utf-8"))
    assert attached == signed(document)
    assert verify(client, attached)["outcome"] == "valid"


def test_the_issuers_published_documents(
    client: TestClient, session: Session, student: str
) -> None:
    ask(client, "type:kys.volunteer_activity|academic_year:")
    did = client.get("/.well-known/did.json")
    assert did.status_code == 200
    assert did.headers["content-type"].startswith("application/did+json")
    assert did.json()["id"] == "did:web:testserver"
    profile = client.get("/credentials/issuer").json()
    assert profile["id"] == "did:web:testserver"
    assert profile["type"] == ["Profile"]
    assert client.get("/credentials/status/99").status_code == 404


def test_postgresql_needs_the_issuer_key_from_a_setting(tmp_path: Path) -> None:
    on_postgres = Settings(
        instance_dir=tmp_path, database_url="postgresql://db.example/dcatalog", pepper=TEST_PEPPER
    )
    with pytest.raises(SecretUnavailable, match="DCATALOG_ISSUER_KEY"):
        keystore.load_private_key(on_postgres)
    assert not (tmp_path / keystore.KEY_FILE).exists()
    key = Ed25519PrivateKey.generate()
    configured = Settings(
        instance_dir=tmp_path,
        database_url="postgresql://db.example/dcatalog",
        issuer_key=encode_secret_key(key),  # type: ignore[arg-type]
    )
    assert keystore.load_private_key(configured).public_key() == key.public_key()
    assert encode_secret_key(key) not in repr(configured)
    assert encode_secret_key(key) not in str(configured.model_dump())


def test_the_issuer_is_the_did_web_of_the_public_address() -> None:
    assert keystore.did_web("https://dcatalog.example.go.th") == "did:web:dcatalog.example.go.th"
    assert keystore.did_web("http://127.0.0.1:8000") == "did:web:127.0.0.1%3A8000"
    # https as the DID Web method says, also for a demo on a loopback address:
    # the fetch guard, not the URL, decides whether such an address may be used.
    assert (
        keystore.did_web_document_url("did:web:127.0.0.1%3A8000")
        == "https://127.0.0.1:8000/.well-known/did.json"
    )
    assert (
        keystore.did_web_document_url("did:web:dcatalog.example.go.th")
        == "https://dcatalog.example.go.th/.well-known/did.json"
    )
    assert Settings(public_url="https://example.org/").public_url == "https://example.org"
    with pytest.raises(ValueError, match="no path"):
        Settings(public_url="https://example.org/dcatalog")


def test_erasure_revokes_and_empties_the_holders_credentials(
    client: TestClient, session: Session, student: str
) -> None:
    document = ask(client, "type:kys.volunteer_activity")
    assert verify(client, document)["outcome"] == "valid"
    post_form(client, "/me/erasure", {"confirm": "true"}, page="/me/data")
    office = accounts.actor_for(make_account(session, Role.PROGRAM_ADMIN))
    (request,) = rights.erasure_requests(session, office)
    rights.erase(session, office, request.id)
    session.expire_all()
    kept = session.scalars(select(IssuedCredential)).one()
    assert kept.citizen_key != student
    assert kept.document == "{}"
    assert kept.revoked_at is not None
    # A copy someone kept now reads as revoked; the public link is no longer shared.
    assert verify(client, document)["outcome"] == "revoked"
    assert client.get(short_path(document)).status_code == 410


def nested_related(document: dict[str, Any], levels: int) -> dict[str, Any]:
    """``achievement.related`` nested ``levels`` deep: once a RecursionError in
    the canonicalisation, an unauthenticated 500."""
    deep = copy.deepcopy(document)
    related: dict[str, Any] = {"id": "https://x.example/r", "type": ["Related"]}
    for _ in range(levels):
        related = {"id": "https://x.example/r", "type": ["Related"], "related": [related]}
    deep["credentialSubject"]["achievement"]["related"] = [related]
    return deep


def test_a_too_deeply_nested_credential_is_an_answer_not_a_500(
    client: TestClient, student: str
) -> None:
    document = signed(ask(client, "type:kys.volunteer_activity|academic_year:"))
    for levels in (40, 300):
        deep = nested_related(document, levels)
        # The API refuses a body nested past DCATALOG_MAX_JSON_DEPTH at the door,
        # before any parser or walker could recurse on it.
        response = client.post("/api/v1/credentials/verify", json=deep)
        assert response.status_code == 422, response.text
        assert response.json()["type"] == "/problems/validation-error"
        assert "levels deep" in response.json()["detail"]
        page = client.post(
            "/verify",
            data={"credential": json.dumps(deep), "csrf_token": csrf_from(client, "/verify")},
        )
        assert page.status_code == 200
        assert 'data-outcome="invalid" data-problem="too_complex"' in page.text
        assert "ซ้อนกันลึกเกิน" in page.text
    # Deeper than Python's own JSON parser reads: still an answer on the page.
    beyond = "[" * 5000 + "]" * 5000
    page = client.post(
        "/verify", data={"credential": beyond, "csrf_token": csrf_from(client, "/verify")}
    )
    assert page.status_code == 200
    assert 'data-problem="too_complex"' in page.text
    assert client.post("/api/v1/credentials/verify", content=beyond).status_code < 500


def test_our_credentials_pass_the_official_open_badges_schema(
    client: TestClient, student: str
) -> None:
    document = signed(ask(client, "type:kys.volunteer_activity|academic_year:"))
    assert isinstance(document["proof"], list)  # the schema's form
    result = verify(client, document)
    model = next(line for line in result["checks"] if line["check"] == "data_model")
    assert model["result"] == "passed", model
    # Credentials issued before, with one proof object, still verify.
    older = {**document, "proof": document["proof"][0]}
    assert verify(client, older)["outcome"] == "valid"
