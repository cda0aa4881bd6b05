"""Issuer keys looked up on the web (did:web, ``https://…#key`` controller
documents), as ``dcatalog verify`` fetches them: from a real HTTPS server with a
test CA, and never from a private or loopback address unless a lab allows it."""

from __future__ import annotations

import base64
import ipaddress
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from dcatalog.cli import app as cli_app
from dcatalog.config import get_settings
from dcatalog.credentials.cryptosuites import ECDSA_RDFC_2019, EDDSA_RDFC_2022
from dcatalog.credentials.data_integrity import create_proof
from dcatalog.credentials.fetching import FetchFailed, fetch_json, is_public
from dcatalog.credentials.keys import SigningKey
from dcatalog.credentials.keystore import did_web_document_url
from dcatalog.credentials.multikey import encode_public_key
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
from tests.tls import HttpsServer, LabCA, silent_server

ISSUED = datetime(2026, 3, 1, tzinfo=UTC)
INDEX = 4_321
ED_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(40, 72)))
P256_KEY = ec.derive_private_key(
    0x5EED0F1E2D3C4B5A69788796A5B4C3D2E1F00112233445566778899AABBCCDD, ec.SECP256R1()
)
ACHIEVEMENT = AchievementDefinition(
    id="https://lab.example/achievements/first-aid",
    english_edition_id="https://lab.example/en/achievements/first-aid",
    achievement_type="Certificate",
    name=Bilingual("ปฐมพยาบาล", "First aid"),
    description=Bilingual("ผ่านการอบรมปฐมพยาบาล", "Completed first-aid training"),
    criteria=Bilingual("อบรมครบ 6 ชั่วโมง", "Six hours of training"),
)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def ed25519_jwk(key: Ed25519PrivateKey) -> dict[str, str]:
    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return {"kty": "OKP", "crv": "Ed25519", "x": _b64url(raw)}


def p256_jwk(key: ec.EllipticCurvePrivateKey) -> dict[str, str]:
    numbers = key.public_key().public_numbers()
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": _b64url(numbers.x.to_bytes(32, "big")),
        "y": _b64url(numbers.y.to_bytes(32, "big")),
    }


def controller_document(controller: str, method: dict[str, Any]) -> dict[str, Any]:
    method = {"id": f"{controller}#key-1", "controller": controller, **method}
    return {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": controller,
        "verificationMethod": [method],
        "assertionMethod": [method["id"]],
    }


def signed_by(
    controller: str, key: Any, suite: Any = EDDSA_RDFC_2022, list_url: str | None = None
) -> dict[str, Any]:
    unsigned = open_badge_credential(
        credential_id="urn:uuid:0193c3a4-0000-7000-8000-00000000f00d",
        issuer=IssuerProfile(id=controller, name="Lab school"),
        achievement=ACHIEVEMENT,
        recipient=hash_identity("c" * 64),
        valid_from=ISSUED,
        status=StatusListPointer(list_url or "https://lab.example/status/1", INDEX),
    )
    if list_url is None:
        del unsigned["credentialStatus"]
    signer = SigningKey(f"{controller}#key-1", key)
    return create_proof(unsigned, signer, suite, created=ISSUED, as_list=True)


def signed_list(controller: str, key: Any, revoked: list[int]) -> dict[str, Any]:
    unsigned = status_list_credential(
        list_credential_url="https://lab.example/status/1",
        issuer=controller,
        bitstring=with_bits(empty_bitstring(), revoked),
        valid_from=ISSUED,
    )
    return create_proof(
        unsigned, SigningKey(f"{controller}#key-1", key), EDDSA_RDFC_2022, created=ISSUED
    )


@pytest.fixture
def fetch_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Settings as a test sets them, read afresh by ``dcatalog verify``."""
    for name in ("ALLOW_PRIVATE", "CA_FILE", "TIMEOUT_SECONDS", "MAX_BYTES"):
        monkeypatch.delenv(f"DCATALOG_CREDENTIAL_FETCH_{name}", raising=False)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def verify_cli(
    env: pytest.MonkeyPatch, tmp_path: Path, document: Any, **settings: str
) -> tuple[int, dict[str, Any]]:
    for name, value in settings.items():
        env.setenv(f"DCATALOG_CREDENTIAL_FETCH_{name.upper()}", value)
    get_settings.cache_clear()
    path = tmp_path / "credential.json"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    result = CliRunner().invoke(cli_app, ["verify", str(path), "--json"])
    return result.exit_code, json.loads(result.output)


def signature_line(answer: dict[str, Any]) -> dict[str, Any]:
    return next(line for line in answer["checks"] if line["check"] == "signature")


def test_a_path_based_did_web_with_a_port_verifies_through_a_lab_ca(
    tls: HttpsServer, lab_ca: LabCA, fetch_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """did:web:127.0.0.1%3A<port>:issuers:lab → https://127.0.0.1:<port>/issuers/lab/did.json;
    its status list (signed by the same key) is fetched from the same server."""
    did = f"did:web:127.0.0.1%3A{tls.port}:issuers:lab"
    document = {"type": "Multikey", "publicKeyMultibase": encode_public_key(ED_KEY.public_key())}
    tls.put("/issuers/lab/did.json", controller_document(did, document))
    list_url = tls.put("/status/1", signed_list(did, ED_KEY, revoked=[]))
    credential = signed_by(did, ED_KEY, list_url=list_url)
    lab = {"ca_file": str(lab_ca.ca_file), "allow_private": "true"}
    code, answer = verify_cli(fetch_env, tmp_path, credential, **lab)
    assert (code, answer["outcome"]) == (0, "valid"), answer
    assert answer["verification_method"] == f"{did}#key-1"
    # One lookup of the key for the credential and its status list (the run's cache).
    assert tls.requests.count("/issuers/lab/did.json") == 1
    tls.put("/status/1", signed_list(did, ED_KEY, revoked=[INDEX]))
    code, answer = verify_cli(fetch_env, tmp_path, credential, **lab)
    assert (code, answer["outcome"]) == (3, "revoked"), answer


@pytest.mark.parametrize("kind", ["Multikey", "JsonWebKey OKP Ed25519", "JsonWebKey EC P-256"])
def test_keys_of_a_well_known_did_web_and_of_an_https_controller_document(
    tls: HttpsServer, lab_ca: LabCA, fetch_env: pytest.MonkeyPatch, tmp_path: Path, kind: str
) -> None:
    key: Any = P256_KEY if "P-256" in kind else ED_KEY
    suite = ECDSA_RDFC_2019 if "P-256" in kind else EDDSA_RDFC_2022
    match kind:
        case "Multikey":
            method = {
                "type": "Multikey",
                "publicKeyMultibase": encode_public_key(ED_KEY.public_key()),
            }
        case "JsonWebKey OKP Ed25519":
            method = {"type": "JsonWebKey", "publicKeyJwk": ed25519_jwk(ED_KEY)}
        case _:
            method = {"type": "JsonWebKey", "publicKeyJwk": p256_jwk(P256_KEY)}
    lab = {"ca_file": str(lab_ca.ca_file), "allow_private": "true"}
    did = f"did:web:127.0.0.1%3A{tls.port}"
    tls.put("/.well-known/did.json", controller_document(did, method))
    code, answer = verify_cli(fetch_env, tmp_path, signed_by(did, key, suite), **lab)
    assert (code, answer["outcome"]) == (0, "valid"), answer
    controller = f"{tls.base}/issuers/lab"
    tls.put("/issuers/lab", controller_document(controller, method))
    code, answer = verify_cli(fetch_env, tmp_path, signed_by(controller, key, suite), **lab)
    assert (code, answer["outcome"]) == (0, "valid"), answer


def test_without_the_allowance_a_private_address_is_refused(
    tls: HttpsServer, lab_ca: LabCA, fetch_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The CA alone is not enough: 127.0.0.1 (or a name resolving to it) is never
    fetched from by default, so a credential cannot make the verifier probe a network."""
    method = {"type": "Multikey", "publicKeyMultibase": encode_public_key(ED_KEY.public_key())}
    for host in ("127.0.0.1", "localhost"):
        did = f"did:web:{host}%3A{tls.port}"
        tls.put("/.well-known/did.json", controller_document(did, method))
        code, answer = verify_cli(
            fetch_env, tmp_path, signed_by(did, ED_KEY), ca_file=str(lab_ca.ca_file)
        )
        assert (code, answer["outcome"], answer["problem"]) == (4, "unknown", "unknown_issuer")
        assert "private or otherwise non-public address: refused" in answer["reason"], answer
    assert tls.requests == []  # not one request reached the server


def test_without_the_lab_ca_the_certificate_is_not_trusted(
    tls: HttpsServer, fetch_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    did = f"did:web:127.0.0.1%3A{tls.port}"
    method = {"type": "Multikey", "publicKeyMultibase": encode_public_key(ED_KEY.public_key())}
    tls.put("/.well-known/did.json", controller_document(did, method))
    code, answer = verify_cli(fetch_env, tmp_path, signed_by(did, ED_KEY), allow_private="true")
    assert (code, answer["outcome"]) == (4, "unknown")
    assert "certificate is not trusted" in answer["reason"], answer


def test_a_key_document_over_the_size_cap_is_unknown(
    tls: HttpsServer, lab_ca: LabCA, fetch_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    did = f"did:web:127.0.0.1%3A{tls.port}"
    method = {"type": "Multikey", "publicKeyMultibase": encode_public_key(ED_KEY.public_key())}
    big = {**controller_document(did, method), "padding": "x" * 20_000}
    tls.put("/.well-known/did.json", big)
    lab = {"ca_file": str(lab_ca.ca_file), "allow_private": "true", "max_bytes": "16384"}
    code, answer = verify_cli(fetch_env, tmp_path, signed_by(did, ED_KEY), **lab)
    assert (code, answer["outcome"]) == (4, "unknown")
    assert "larger than 16384 bytes" in signature_line(answer)["detail"], answer


def test_a_server_that_never_answers_is_unknown(
    lab_ca: LabCA, fetch_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with silent_server() as base:
        port = base.rsplit(":", 1)[1]
        did = f"did:web:127.0.0.1%3A{port}"
        lab = {"ca_file": str(lab_ca.ca_file), "allow_private": "true", "timeout_seconds": "0.5"}
        code, answer = verify_cli(fetch_env, tmp_path, signed_by(did, ED_KEY), **lab)
    assert (code, answer["outcome"]) == (4, "unknown")
    assert "did not answer within 0.5 s" in answer["reason"], answer


def test_plain_http_is_refused_outside_a_lab() -> None:
    with pytest.raises(FetchFailed, match="not an https URL"):
        fetch_json("http://issuer.example/.well-known/did.json")


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2001:4860:4860::8888", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),  # cloud metadata
        ("100.64.0.1", False),  # carrier-grade NAT
        ("0.0.0.0", False),  # noqa: S104 (an address checked, not bound)
        ("224.0.0.1", False),
        ("240.0.0.1", False),
        ("::1", False),
        ("fe80::1", False),
        ("fd00::1", False),
        ("::ffff:127.0.0.1", False),  # IPv4-mapped loopback
        ("::ffff:8.8.8.8", True),
        ("::", False),
    ],
)
def test_which_addresses_are_public(address: str, public: bool) -> None:
    assert is_public(ipaddress.ip_address(address)) is public


def test_did_web_document_urls() -> None:
    assert did_web_document_url("did:web:example.org") == "https://example.org/.well-known/did.json"
    assert (
        did_web_document_url("did:web:example.org%3A8443:users:alice")
        == "https://example.org:8443/users/alice/did.json"
    )
    # https as the method says, also for a loopback host (the guard decides).
    assert did_web_document_url("did:web:127.0.0.1%3A8000") == (
        "https://127.0.0.1:8000/.well-known/did.json"
    )


def test_the_web_service_never_fetches_a_key(
    client: TestClient, tls: HttpsServer, tmp_path: Path
) -> None:
    """``POST /api/v1/credentials/verify`` trusts only this service's own keys: a
    credential naming a key on another server is "unknown issuer", and that
    server hears nothing (so the endpoint cannot be used to probe a network)."""
    did = f"did:web:127.0.0.1%3A{tls.port}"
    method = {"type": "Multikey", "publicKeyMultibase": encode_public_key(ED_KEY.public_key())}
    tls.put("/.well-known/did.json", controller_document(did, method))
    response = client.post("/api/v1/credentials/verify", json=signed_by(did, ED_KEY))
    assert response.status_code == 200
    assert (response.json()["outcome"], response.json()["problem"]) == ("unknown", "unknown_issuer")
    assert tls.requests == []
