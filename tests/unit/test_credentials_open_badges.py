"""The OpenBadgeCredential builder: its shape, the recipient's privacy, and a
signing round trip with both cryptosuites."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from dcatalog.credentials.cryptosuites import EDDSA_JCS_2022, EDDSA_RDFC_2022, Cryptosuite
from dcatalog.credentials.data_integrity import Verdict, create_proof, verify_proof
from dcatalog.credentials.errors import CredentialError
from dcatalog.credentials.jsonld_contexts import CREDENTIALS_V2, OPEN_BADGES_V3
from dcatalog.credentials.keys import SigningKey, StaticKeyResolver
from dcatalog.credentials.open_badges import (
    AchievementDefinition,
    Bilingual,
    IssuerProfile,
    hash_identity,
    open_badge_credential,
)
from dcatalog.credentials.rdf_canonicalization import canonicalize as rdf_canonicalize
from dcatalog.credentials.status_list import StatusListPointer

ISSUER = IssuerProfile(
    id="https://dcatalog.example/issuer",
    name="ศูนย์รวมพฤติกรรมความดี (D-Catalog)",
    url="https://dcatalog.example/",
)
VOLUNTEERING = AchievementDefinition(
    id="https://dcatalog.example/achievements/kys.volunteer-36h",
    english_edition_id="https://dcatalog.example/en/achievements/kys.volunteer-36h",
    achievement_type="CommunityService",
    name=Bilingual("จิตอาสา 36 ชั่วโมง ปีการศึกษา 2568", "36 volunteer hours, academic year 2568"),
    description=Bilingual(
        "ทำกิจกรรมจิตอาสาครบ 36 ชั่วโมงในปีการศึกษา 2568",
        "Completed 36 hours of volunteer activity in academic year 2568",
    ),
    criteria=Bilingual(
        "กิจกรรมจิตอาสาที่หัวหน้ากิจกรรมและสถานศึกษารับรอง รวมอย่างน้อย 36 ชั่วโมง",
        "At least 36 hours of volunteer activity certified by the activity head and the school",
    ),
)
CITIZEN_KEY = "9f2c" * 16  # what CitizenKeyer gives: 64 hex characters, not the ID
KEY_URL = "https://dcatalog.example/issuer#key-2026"
PRIVATE_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
SIGNING_KEY = SigningKey(KEY_URL, PRIVATE_KEY)
RESOLVER = StaticKeyResolver({KEY_URL: PRIVATE_KEY.public_key()})
ISSUED = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)

both_suites = pytest.mark.parametrize(
    "suite", [EDDSA_JCS_2022, EDDSA_RDFC_2022], ids=lambda suite: suite.name
)


def credential(**changes: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "credential_id": "urn:uuid:0195f3c2-7d1e-7a8b-9c0d-1e2f3a4b5c6d",
        "issuer": ISSUER,
        "achievement": VOLUNTEERING,
        "recipient": hash_identity(CITIZEN_KEY, salt="c0ffee"),
        "valid_from": ISSUED,
        "status": StatusListPointer("https://dcatalog.example/credentials/status/1", 94567),
    }
    arguments.update(changes)
    return open_badge_credential(**arguments)


def test_the_credential_has_the_open_badges_3_shape() -> None:
    built = credential()
    assert built["@context"] == [CREDENTIALS_V2, OPEN_BADGES_V3]
    assert built["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert built["issuer"] == {
        "id": "https://dcatalog.example/issuer",
        "type": ["Profile"],
        "name": "ศูนย์รวมพฤติกรรมความดี (D-Catalog)",
        "url": "https://dcatalog.example/",
    }
    assert built["validFrom"] == "2026-06-01T09:30:00Z"
    subject = built["credentialSubject"]
    assert subject["type"] == ["AchievementSubject"]
    achievement = subject["achievement"]
    assert achievement["achievementType"] == "CommunityService"
    assert achievement["name"] == "จิตอาสา 36 ชั่วโมง ปีการศึกษา 2568"
    assert achievement["inLanguage"] == "th"
    assert achievement["criteria"]["narrative"].startswith("กิจกรรมจิตอาสา")
    [english] = achievement["related"]
    assert english["inLanguage"] == "en"
    assert english["name"] == "36 volunteer hours, academic year 2568"
    assert built["credentialStatus"]["type"] == "BitstringStatusListEntry"
    assert built["credentialStatus"]["statusListIndex"] == "94567"


def test_the_recipient_is_a_salted_hash_that_the_service_can_match() -> None:
    built = credential()
    [identity] = built["credentialSubject"]["identifier"]
    assert identity["type"] == "IdentityObject"
    assert identity["hashed"] is True
    assert identity["identityType"] == "systemId"
    assert identity["identityHash"].startswith("sha256$")
    assert CITIZEN_KEY not in str(built)
    hashed = hash_identity(CITIZEN_KEY, salt=identity["salt"])
    assert hashed.matches(CITIZEN_KEY)
    assert not hashed.matches("0" * 64)


def test_each_credential_gets_its_own_salt() -> None:
    first, second = hash_identity(CITIZEN_KEY), hash_identity(CITIZEN_KEY)
    assert first.salt != second.salt
    assert first.identity_hash != second.identity_hash  # not linkable by strangers


@pytest.mark.parametrize(
    ("identity", "identity_type"),
    [
        ("1234567890123", "systemId"),
        ("1-2345-67890-12-3", "systemId"),
        ("๑๒๓๔๕๖๗๘๙๐๑๒๓", "systemId"),
        (CITIZEN_KEY, "nationalIdentityNumber"),
    ],
)
def test_a_national_id_never_goes_into_a_credential(identity: str, identity_type: str) -> None:
    with pytest.raises(CredentialError, match="national ID"):
        hash_identity(identity, identity_type=identity_type)


@pytest.mark.parametrize(
    "changes",
    [
        {"credential_id": "not-a-uri"},
        {"issuer": IssuerProfile(id="/issuer", name="x")},
        {"issuer": IssuerProfile(id="https://dcatalog.example/issuer", name=" ")},
        {"valid_from": datetime(2026, 6, 1)},  # noqa: DTZ001 - naive on purpose
        {"valid_until": ISSUED - timedelta(days=1)},
        {
            "achievement": AchievementDefinition(
                **{**VOLUNTEERING.__dict__, "achievement_type": "GoodDeed"}
            )
        },
    ],
)
def test_bad_input_is_refused_when_building(changes: dict[str, Any]) -> None:
    with pytest.raises(CredentialError):
        credential(**changes)


def test_every_property_is_defined_by_the_shipped_contexts() -> None:
    # Safe-mode canonicalisation refuses any property the contexts do not map,
    # so this fails if the builder ever writes a term the contexts lack.
    nquads = rdf_canonicalize(credential(valid_until=ISSUED + timedelta(days=365))).decode()
    assert '<https://schema.org/inLanguage> "th"' in nquads
    assert "https://purl.imsglobal.org/spec/vc/ob/vocab.html#identityHash" in nquads
    assert "https://www.w3.org/ns/credentials/status#statusListIndex" in nquads


@both_suites
def test_signs_and_verifies_round_trip(suite: Cryptosuite) -> None:
    signed = create_proof(credential(), SIGNING_KEY, suite, created=ISSUED)
    assert signed["proof"]["cryptosuite"] == suite.name
    assert signed["proof"]["verificationMethod"] == KEY_URL
    result = verify_proof(signed, RESOLVER)
    assert result.verdict is Verdict.VALID, result.reason


@both_suites
def test_another_issuers_key_is_unknown(suite: Cryptosuite) -> None:
    stranger = SigningKey(KEY_URL.replace("2026", "forged"), Ed25519PrivateKey.generate())
    signed = create_proof(credential(), stranger, suite, created=ISSUED)
    assert verify_proof(signed, RESOLVER).verdict is Verdict.UNKNOWN_KEY
    impostor = SigningKey(KEY_URL, Ed25519PrivateKey.generate())  # claims our key URL
    signed = create_proof(credential(), impostor, suite, created=ISSUED)
    assert verify_proof(signed, RESOLVER).verdict is Verdict.TAMPERED


def _string_paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(node, str):
        return [path]
    items = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else []
    )
    return [found for key, value in items for found in _string_paths(value, (*path, key))]


SIGNED = {
    suite.name: create_proof(credential(), SIGNING_KEY, suite, created=ISSUED)
    for suite in (EDDSA_JCS_2022, EDDSA_RDFC_2022)
}


@settings(max_examples=80, deadline=None)
@given(
    suite=st.sampled_from(sorted(SIGNED)),
    which=st.integers(min_value=0),
    position=st.integers(min_value=0),
    replacement=st.characters(codec="utf-8"),
)
def test_changing_any_character_of_a_signed_badge_is_caught(
    suite: str, which: int, position: int, replacement: str
) -> None:
    signed = copy.deepcopy(SIGNED[suite])
    paths = _string_paths(signed)
    path = paths[which % len(paths)]
    parent = signed
    for step in path[:-1]:
        parent = parent[step]
    original: str = parent[path[-1]]
    assume(original)
    position %= len(original)
    assume(original[position] != replacement)
    parent[path[-1]] = original[:position] + replacement + original[position + 1 :]

    result = verify_proof(signed, RESOLVER)
    assert not result.valid, f"{path} changed, yet {result.reason}"
