"""Staff accounts, sign-in, sessions and API keys, on both databases."""

import hashlib
import importlib.util

import pytest
from argon2 import extract_parameters, profiles
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from dcatalog.accounts import passwords, service
from dcatalog.accounts.models import ApiKey, StaffAccount, WebSession
from dcatalog.accounts.permissions import Role
from dcatalog.actors import SYSTEM
from dcatalog.audit.models import AuditEvent
from dcatalog.problems import Conflict, Forbidden, NotFound, ValidationProblem
from tests.factories import PASSWORD, csrf_from, make_account, make_agency, post_form, sign_in


def test_passwords_are_argon2_hashes_and_emails_are_lowercased(session: Session) -> None:
    kys = make_agency(session)
    account = make_account(session, Role.AGENCY_ADMIN, kys, email="Admin@KYS.or.th")
    assert account.email == "admin@kys.or.th"
    assert account.password_hash.startswith("$argon2id$")
    assert PASSWORD not in account.password_hash
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "account.create")).one()
    assert "password_hash" not in (event.after or {})


def test_the_shipped_hasher_uses_argon2s_recommended_cost() -> None:
    """The test process hashes at the smallest cost (tests/conftest.py); the module
    as shipped, loaded afresh, hashes at the library's defaults (RFC 9106's
    low-memory choice: 64 MiB, 3 passes, 4 lanes), and its timing decoy too."""
    spec = importlib.util.spec_from_file_location("shipped_passwords", passwords.__file__)
    assert spec is not None
    assert spec.loader is not None
    shipped = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(shipped)
    hashed = shipped.hash_password(PASSWORD)
    assert extract_parameters(hashed) == profiles.RFC_9106_LOW_MEMORY
    assert extract_parameters(shipped._DUMMY_HASH) == profiles.RFC_9106_LOW_MEMORY
    assert shipped.verify_password(hashed, PASSWORD)
    assert passwords.verify_password(hashed, PASSWORD)  # the test process verifies it too


def test_account_rules(session: Session) -> None:
    kys, redcross = make_agency(session, "kys"), make_agency(session, "redcross", "ngo")
    admin = service.actor_for(make_account(session, Role.AGENCY_ADMIN, kys))
    with pytest.raises(ValidationProblem, match="12"):
        service.create_account(
            session,
            admin,
            email="a@kys.or.th",
            display_name="A",
            role=Role.RECORDER,
            password="short",
            agency=kys,
        )
    with pytest.raises(Forbidden, match="own agency"):
        service.create_account(
            session,
            admin,
            email="b@rc.or.th",
            display_name="B",
            role=Role.RECORDER,
            password=PASSWORD,
            agency=redcross,
        )
    with pytest.raises(Forbidden):
        service.create_account(
            session,
            admin,
            email="c@pmdu.go.th",
            display_name="C",
            role=Role.PROGRAM_ADMIN,
            password=PASSWORD,
        )
    with pytest.raises(ValidationProblem, match="Agency roles need an agency"):
        service.create_account(
            session,
            SYSTEM,
            email="d@x.org",
            display_name="D",
            role=Role.RECORDER,
            password=PASSWORD,
        )
    service.create_account(
        session,
        admin,
        email="e@kys.or.th",
        display_name="E",
        role=Role.RECORDER,
        password=PASSWORD,
        agency=kys,
    )
    with pytest.raises(Conflict):
        service.create_account(
            session,
            admin,
            email="E@kys.or.th",
            display_name="E",
            role=Role.VERIFIER,
            password=PASSWORD,
            agency=kys,
        )
    recorder = service.actor_for(
        session.scalars(select(StaffAccount).where(StaffAccount.email == "e@kys.or.th")).one()
    )
    with pytest.raises(Forbidden):
        service.list_accounts(session, recorder)
    assert {a.email for a in service.list_accounts(session, admin)} == {
        "agency_admin.kys@example.org",
        "e@kys.or.th",
    }


def test_failures_leave_the_account_usable(session: Session) -> None:
    # No lockout in the account itself (throttling is per client: test_throttling.py),
    # so nobody can lock an account by failing on purpose.
    account = make_account(session, Role.PROGRAM_ADMIN)
    for _ in range(6):
        with pytest.raises(service.SignInRefused) as refused:
            service.authenticate(session, account.email, "wrong password!!")
        assert refused.value.reason == "invalid"
    assert service.authenticate(session, account.email, PASSWORD).id == account.id


def test_unknown_email_and_wrong_password_look_the_same(session: Session) -> None:
    make_account(session, Role.PROGRAM_ADMIN)
    for email in ("nobody@example.org", "program_admin.office@example.org"):
        with pytest.raises(service.SignInRefused) as refused:
            service.authenticate(session, email, "not the password")
        assert refused.value.reason == "invalid"


def test_api_keys_are_stored_hashed_and_scoped(session: Session) -> None:
    kys, redcross = make_agency(session, "kys"), make_agency(session, "redcross", "ngo")
    key, plain = service.create_api_key(session, SYSTEM, kys, "KYS system", ["deeds:write"])
    stored = session.scalars(select(ApiKey)).one()
    assert plain.startswith(f"dck_{stored.prefix}_")
    assert stored.key_hash == hashlib.sha256(plain.encode()).hexdigest()
    assert plain not in repr(stored.__dict__)
    assert service.authenticate_api_key(session, plain) is not None
    assert service.authenticate_api_key(session, plain[:-1] + "x") is None
    assert service.authenticate_api_key(session, "dck_nope_nope") is None
    # Authenticating only reads; the use is written in a session meant for writing.
    assert stored.last_used_at is None
    assert service.key_use_is_stale(stored)
    service.note_key_use(session, stored.id)
    session.refresh(stored)
    assert stored.last_used_at is not None
    assert not service.key_use_is_stale(stored)
    with pytest.raises(ValidationProblem, match="catalog:approve"):
        service.create_api_key(session, SYSTEM, kys, "bad", ["catalog:approve"])
    other_admin = service.actor_for(make_account(session, Role.AGENCY_ADMIN, redcross))
    with pytest.raises(Forbidden):
        service.create_api_key(session, other_admin, kys, "sneaky", ["deeds:write"])
    with pytest.raises(NotFound):  # another agency's key does not exist for you
        service.revoke_api_key(session, other_admin, key.prefix)
    service.revoke_api_key(session, SYSTEM, key.prefix, reason="rotated")
    assert service.authenticate_api_key(session, plain) is None
    actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.at)).all()
    assert "api_key.create" in actions
    assert "api_key.revoke" in actions


def test_sign_in_and_out_on_the_web(client: TestClient, session: Session) -> None:
    account = make_account(session, Role.PROGRAM_ADMIN)
    assert client.get("/staff", follow_redirects=False).headers["location"] == "/login?next=/staff"
    sign_in(client, account.email)
    cookie = client.cookies.get("dcatalog_session")
    assert cookie
    stored = session.scalars(select(WebSession)).one()
    assert stored.token_hash == hashlib.sha256(cookie.encode()).hexdigest()
    page = client.get("/staff")
    assert page.status_code == 200
    assert account.email in page.text
    out = post_form(client, "/logout", {}, page="/staff")
    assert out.status_code == 303
    assert client.get("/staff", follow_redirects=False).status_code == 303


def test_login_form_says_what_went_wrong(client: TestClient, session: Session) -> None:
    account = make_account(session, Role.PROGRAM_ADMIN)
    token = csrf_from(client)
    wrong = client.post(
        "/login", data={"email": account.email, "password": "nope nope nope", "csrf_token": token}
    )
    assert wrong.status_code == 400
    assert "อีเมลหรือรหัสผ่านไม่ถูกต้อง" in wrong.text
    for _ in range(5):  # four more failures are answered; the sixth attempt is not
        last = client.post(
            "/login",
            data={"email": account.email, "password": "nope nope nope", "csrf_token": token},
        )
    assert last.status_code == 429
    assert "พยายามหลายครั้งเกินไป" in last.text
    assert int(last.headers["retry-after"]) > 0


def test_forms_without_the_csrf_token_are_refused(client: TestClient, session: Session) -> None:
    account = make_account(session, Role.PROGRAM_ADMIN)
    client.get("/login")
    response = client.post("/login", data={"email": account.email, "password": PASSWORD})
    assert response.status_code == 403
    forged = client.post(
        "/login", data={"email": account.email, "password": PASSWORD, "csrf_token": "0" * 64}
    )
    assert forged.status_code == 403
    assert client.cookies.get("dcatalog_session") is None


def test_agency_admin_creates_staff_and_a_key_on_the_pages(
    client: TestClient, session: Session
) -> None:
    kys = make_agency(session)
    admin = make_account(session, Role.AGENCY_ADMIN, kys)
    sign_in(client, admin.email)
    created = post_form(
        client,
        "/staff/accounts",
        {
            "email": "recorder@kys.or.th",
            "display_name": "Recorder",
            "role": "recorder",
            "password": PASSWORD,
        },
        page="/staff/accounts",
    )
    assert created.status_code == 303
    assert "recorder@kys.or.th" in client.get(created.headers["location"]).text
    bad = post_form(
        client,
        "/staff/accounts",
        {"email": "x@kys.or.th", "display_name": "X", "role": "recorder", "password": "short"},
        page="/staff/accounts",
    )
    assert bad.status_code == 422
    assert "12" in bad.text
    key_page = post_form(
        client, "/staff/keys", {"name": "KYS system", "scopes": ["deeds:write"]}, page="/staff/keys"
    )
    assert key_page.status_code == 201
    assert key_page.headers["cache-control"] == "no-store"
    assert "dck_" in key_page.text
    prefix = session.scalars(select(ApiKey.prefix)).one()
    revoked = post_form(client, f"/staff/keys/{prefix}/revoke", {}, page="/staff/keys")
    assert revoked.status_code == 303
    assert session.scalars(select(ApiKey)).one().revoked_at is not None


def test_program_office_onboards_an_agency(client: TestClient, session: Session) -> None:
    admin = make_account(session, Role.PROGRAM_ADMIN)
    sign_in(client, admin.email)
    response = post_form(
        client,
        "/admin/agencies",
        {
            "code": "hospital_korat",
            "name_th": "โรงพยาบาลมหาราชนครราชสีมา",
            "name_en": "Maharat Nakhon Ratchasima Hospital",
            "kind": "government",
        },
        page="/admin/agencies",
    )
    assert response.status_code == 303
    page = client.get(response.headers["location"])
    assert "โรงพยาบาลมหาราชนครราชสีมา" in page.text
    suspended = post_form(
        client,
        "/admin/agencies/hospital_korat",
        {
            "name_th": "โรงพยาบาลมหาราชนครราชสีมา",
            "name_en": "Maharat Hospital",
            "kind": "government",
            "status": "suspended",
            "reason": "paperwork",
        },
        page="/admin/agencies/hospital_korat",
    )
    assert suspended.status_code == 303
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "agency.update")).all()
    assert len(events) == 1
    assert events[0].before["status"] == "active"
    assert events[0].after["status"] == "suspended"
    assert events[0].reason == "paperwork"
    assert events[0].actor == f"staff:{admin.email}"
    duplicate = post_form(
        client,
        "/admin/agencies",
        {"code": "hospital_korat", "name_th": "x", "name_en": "x", "kind": "government"},
        page="/admin/agencies",
    )
    assert duplicate.status_code == 409


def test_the_audit_trail_is_readable_by_auditors_only(app, session: Session) -> None:  # type: ignore[no-untyped-def]
    kys = make_agency(session, "kys")
    service.create_api_key(session, SYSTEM, kys, "KYS system", ["deeds:write"])
    auditor = make_account(session, Role.AUDITOR)
    admin = make_account(session, Role.AGENCY_ADMIN, kys)
    with TestClient(app) as client:
        sign_in(client, auditor.email)
        page = client.get("/admin/audit")
        assert page.status_code == 200
        assert "api_key.create" in page.text
        assert "agency.create" in page.text
        filtered = client.get("/admin/audit", params={"entity": str(kys.id)}).text
        assert "agency.create" in filtered
        assert "api_key.create" not in filtered
    with TestClient(app) as client:
        sign_in(client, admin.email)
        assert client.get("/admin/audit").status_code == 403
