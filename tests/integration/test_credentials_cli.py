"""``dcatalog credentials rotate-key`` and ``dcatalog verify``, as an operator and a
verifier use them."""

from __future__ import annotations

import copy
import json
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from dcatalog.actors import operator_for
from dcatalog.agencies.service import get_agency
from dcatalog.calendars.buddhist_era import today_in_thailand
from dcatalog.cli import app as cli_app
from dcatalog.config import Settings
from dcatalog.credentials import keystore
from dcatalog.credentials.certificate import render_pdf
from dcatalog.credentials.cryptosuites import EDDSA_RDFC_2022
from dcatalog.credentials.data_integrity import create_proof
from dcatalog.credentials.keys import SigningKey
from dcatalog.credentials.models import IssuerKey
from dcatalog.credentials.multikey import decode_secret_key, encode_public_key
from dcatalog.credentials.offline import verify_source
from dcatalog.credentials.open_badges import (
    AchievementDefinition,
    Bilingual,
    IssuerProfile,
    hash_identity,
    open_badge_credential,
)
from dcatalog.credentials.status_list import (
    StatusListPointer,
    empty_bitstring,
    status_list_credential,
    with_bits,
)
from dcatalog.db import create_db_engine
from dcatalog.deeds import service as deeds
from dcatalog.deeds.models import Deed
from tests.conftest import TEST_PEPPER, TEST_SECRET_KEY
from tests.helpers import run_cli
from tests.integration.test_credentials import ask, signed, student  # noqa: F401 (fixture)

DID = "did:web:issuer.example"


def a_credential(key: Ed25519PrivateKey) -> dict[str, Any]:
    achievement = AchievementDefinition(
        id="https://issuer.example/catalog/kys.volunteer_activity#transcript",
        english_edition_id="https://issuer.example/catalog/kys.volunteer_activity?lang=en#t",
        achievement_type="CommunityService",
        name=Bilingual("กิจกรรมจิตอาสา", "Volunteer activity"),
        description=Bilingual("ชั่วโมงจิตอาสา", "Volunteer hours"),
        criteria=Bilingual("นับเฉพาะที่ยืนยันแล้ว", "Verified deeds only"),
    )
    unsigned = open_badge_credential(
        credential_id="https://issuer.example/c/abcdefghjkmn",
        issuer=IssuerProfile(id=DID, name="D-Catalog test"),
        achievement=achievement,
        recipient=hash_identity("a" * 64),
        valid_from=datetime(2026, 1, 1, tzinfo=UTC),
        status=StatusListPointer("https://issuer.example/credentials/status/1", 4242),
    )
    method = keystore.verification_method(DID, key.public_key())
    return create_proof(
        unsigned, SigningKey(method, key), EDDSA_RDFC_2022, created=datetime(2026, 1, 1, tzinfo=UTC)
    )


def a_status_list(key: Ed25519PrivateKey, revoked: list[int] | None = None) -> dict[str, Any]:
    unsigned = status_list_credential(
        list_credential_url="https://issuer.example/credentials/status/1",
        issuer=DID,
        bitstring=with_bits(empty_bitstring(), revoked or []),
        valid_from=datetime(2026, 1, 1, tzinfo=UTC),
    )
    method = keystore.verification_method(DID, key.public_key())
    return create_proof(
        unsigned, SigningKey(method, key), EDDSA_RDFC_2022, created=datetime(2026, 1, 1, tzinfo=UTC)
    )


def test_verify_works_offline_given_the_key_and_the_status_list(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    public = encode_public_key(key.public_key())
    good = tmp_path / "credential.json"
    good.write_text(json.dumps(a_credential(key), ensure_ascii=False), encoding="utf-8")
    clear = tmp_path / "status.json"
    clear.write_text(json.dumps(a_status_list(key)), encoding="utf-8")
    runner = CliRunner()

    result = runner.invoke(
        cli_app, ["verify", str(good), "--key", public, "--offline", "--status-list", str(clear)]
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("valid")
    assert "กิจกรรมจิตอาสา" in result.output
    # Without the list its status cannot be known: never "valid" (it once was, exit 0).
    result = runner.invoke(cli_app, ["verify", str(good), "--key", public, "--offline", "--json"])
    assert result.exit_code == 4, result.output
    answer = json.loads(result.output)
    assert (answer["outcome"], answer["problem"]) == ("unknown", "status_unknown")
    revoked = tmp_path / "revoked.json"
    revoked.write_text(json.dumps(a_status_list(key, [4242])), encoding="utf-8")
    result = runner.invoke(
        cli_app, ["verify", str(good), "--key", public, "--offline", "--status-list", str(revoked)]
    )
    assert result.exit_code == 3, result.output
    assert result.output.startswith("revoked")

    changed = a_credential(key)
    changed["credentialSubject"]["achievement"]["name"] = "กิจกรรมอื่น"
    bad = tmp_path / "changed.json"
    bad.write_text(json.dumps(changed), encoding="utf-8")
    result = runner.invoke(cli_app, ["verify", str(bad), "--key", public, "--offline", "--json"])
    assert result.exit_code == 1
    assert json.loads(result.output)["problem"] == "tampered"

    someone_else = encode_public_key(Ed25519PrivateKey.generate().public_key())
    for keys in (["--key", someone_else], []):
        result = runner.invoke(cli_app, ["verify", str(good), *keys, "--offline", "--json"])
        assert result.exit_code == 4
        assert json.loads(result.output)["problem"] == "unknown_issuer"

    did_file = tmp_path / "did.json"
    did_file.write_text(json.dumps(keystore.did_document(DID, [IssuerKey(public_key=public)])))
    result = runner.invoke(
        cli_app,
        ["verify", str(good), "--key", str(did_file), "--offline", "--status-list", str(clear)],
    )
    assert result.exit_code == 0, result.output

    result = runner.invoke(cli_app, ["verify", str(tmp_path / "missing.json"), "--offline"])
    assert result.exit_code == 5


def test_verify_reads_the_credential_attached_to_a_pdf_certificate(tmp_path: Path) -> None:
    """The paper certificate carries its proof: `dcatalog verify certificate.pdf`."""
    key = Ed25519PrivateKey.generate()
    public = encode_public_key(key.public_key())
    document = a_credential(key)
    pdf = render_pdf(document, "https://issuer.example/c/abcdefghjkmn", issued_at=datetime.now(UTC))
    certificate = tmp_path / "certificate.pdf"
    certificate.write_bytes(pdf)
    runner = CliRunner()
    status = tmp_path / "status.json"
    status.write_text(json.dumps(a_status_list(key)), encoding="utf-8")
    result = runner.invoke(
        cli_app,
        ["verify", str(certificate), "--key", public, "--offline", "--status-list", str(status)],
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("valid")
    assert "กิจกรรมจิตอาสา" in result.output
    # A PDF that is not one of our certificates says so, and fails.
    (tmp_path / "other.pdf").write_bytes(b"%PDF-1.7\n%%EOF\n")
    result = runner.invoke(cli_app, ["verify", str(tmp_path / "other.pdf"), "--offline"])
    assert result.exit_code == 5
    assert "PDF" in result.output


def test_verify_online_reads_the_did_document_and_the_status_list(
    client: TestClient,
    session: Session,
    student: str,  # noqa: F811
) -> None:
    document = signed(ask(client, "type:kys.volunteer_activity|academic_year:"))

    def fetch(url: str) -> Any:
        path = "/" + url.split("://", 1)[1].split("/", 1)[1]  # same service, any host
        response = client.get(path)
        if response.status_code != 200 or "json" not in response.headers["content-type"]:
            return None  # as fetch_json: the /c/<id> page is HTML, its JSON is beside it
        return response.json()

    found = verify_source(document["id"], [], offline=False, fetch=fetch)
    assert found.outcome.value == "valid"
    assert found.status_checked
    deed = session.scalar(select(Deed).where(Deed.external_id == "demo-student-hours-1"))
    assert deed is not None
    rules = deeds.Rules(today=today_in_thailand(), max_age_days=730, academic_start=(5, 16))
    deeds.revoke(
        session, operator_for(get_agency(session, "demouniv").id), rules, deed.id, "wrong date"
    )
    assert verify_source(document["id"], [], offline=False, fetch=fetch).outcome.value == "revoked"
    tampered = copy.deepcopy(document)
    tampered["validFrom"] = "2020-01-01T00:00:00Z"
    path = Path(client.app.state.settings.instance_dir) / "tampered.json"  # type: ignore[attr-defined]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(tampered))
    assert verify_source(str(path), [], offline=False, fetch=fetch).problem == "tampered"


def test_rotate_key(fresh_database_url: str, backend: str, tmp_path: Path) -> None:
    env = {
        "DCATALOG_DATABASE_URL": fresh_database_url,
        "DCATALOG_INSTANCE_DIR": str(tmp_path / "var"),
        "DCATALOG_PEPPER": TEST_PEPPER,
        "DCATALOG_SECRET_KEY": TEST_SECRET_KEY,
    }
    assert run_cli("migrate", env=env).returncode == 0
    key_file = tmp_path / "var" / keystore.KEY_FILE
    first = run_cli("credentials", "rotate-key", env=env)
    assert first.returncode == 0, first.stderr
    if backend == "sqlite":  # the key store is a file of the instance
        assert "New issuer key z6Mk" in first.stdout
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        before = key_file.read_bytes()
        second = run_cli("credentials", "rotate-key", env=env)
        assert second.returncode == 0, second.stderr
        assert key_file.read_bytes() != before
        secrets_printed = ""
    else:  # PostgreSQL: the operator puts the printed key into the setting
        assert not key_file.exists()
        secret = first.stdout.strip().splitlines()[-1]
        decode_secret_key(secret)
        assert "DCATALOG_ISSUER_KEY" in first.stderr
        second = run_cli("credentials", "rotate-key", env={**env, "DCATALOG_ISSUER_KEY": secret})
        assert second.returncode == 0, second.stderr
        secrets_printed = first.stdout + second.stdout
    engine = create_db_engine(fresh_database_url)
    try:
        with Session(engine) as session:
            keys = list(session.scalars(select(IssuerKey).order_by(IssuerKey.created_at)))
            assert len(keys) == 2
            assert keys[0].retired_at is not None
            assert keys[1].retired_at is None
            dump = " ".join(str(row) for row in session.execute(select(IssuerKey.public_key)))
    finally:
        engine.dispose()
    assert "z3u2" not in dump
    for line in secrets_printed.splitlines():
        assert line.strip() not in dump


def test_a_rotated_key_file_signs_without_a_restart(
    client: TestClient,
    student: str,  # noqa: F811
    settings: Settings,
) -> None:
    """`dcatalog credentials rotate-key` replaces the key file; the running
    service signs the next credential with the new key, and the older one still
    verifies."""
    first = ask(client, "type:")
    keystore.write_key_file(settings, keystore.new_private_key())
    second = ask(client, "virtue:")
    assert first["proof"][0]["verificationMethod"] != second["proof"][0]["verificationMethod"]
    for document in (first, second):
        response = client.post("/api/v1/credentials/verify", json=signed(document))
        assert response.json()["outcome"] == "valid", response.text
