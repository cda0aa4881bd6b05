"""The verifier fails closed and checks the whole Open Badges model, as a
verifier of someone else's credential sees it: ``dcatalog verify`` against
credentials signed here with did:keys of the test's own, their status lists
served by a real local HTTPS server (a test CA, trusted as a lab's)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from dcatalog.cli import app as cli_app
from dcatalog.credentials.cryptosuites import (
    ECDSA_RDFC_2019,
    ED25519_2020,
    EDDSA_2022,
    EDDSA_JCS_2022,
    EDDSA_RDFC_2022,
    SUPPORTED,
)
from dcatalog.credentials.data_integrity import create_proof
from dcatalog.credentials.jsonld_contexts import (
    CREDENTIALS_V2,
    OPEN_BADGES_EXTENSIONS,
    OPEN_BADGES_V3,
)
from dcatalog.credentials.keys import SigningKey
from dcatalog.credentials.limits import Limits
from dcatalog.credentials.multikey import (
    did_key,
    did_key_verification_method,
    encode_p256_public_key,
)
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
from tests.tls import HttpsServer, LabCA, https_server

ISSUER_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(7, 39)))
ISSUER = did_key(ISSUER_KEY.public_key())
SIGNER = SigningKey(did_key_verification_method(ISSUER_KEY.public_key()), ISSUER_KEY)
ISSUED = datetime(2026, 3, 1, tzinfo=UTC)
INDEX = 70_001
ACHIEVEMENT = AchievementDefinition(
    id="https://school.example/achievements/first-aid",
    english_edition_id="https://school.example/en/achievements/first-aid",
    achievement_type="Certificate",
    name=Bilingual("ปฐมพยาบาล", "First aid"),
    description=Bilingual("ผ่านการอบรมปฐมพยาบาล", "Completed first-aid training"),
    criteria=Bilingual("อบรมครบ 6 ชั่วโมง", "Six hours of training"),
)


@pytest.fixture
def served(lab_fetching: LabCA) -> Iterator[HttpsServer]:
    """A real HTTPS server on a free local port, trusted as a lab's (test CA,
    private addresses allowed): the status lists other issuers publish."""
    with https_server(lab_fetching) as server:
        yield server


def third_party_credential(list_url: str, **changes: Any) -> dict[str, Any]:
    """An Open Badges credential as another issuer writes it: did:key issuer,
    an integer ``statusListIndex`` (lenient reading), signed eddsa-rdfc-2022."""
    unsigned = open_badge_credential(
        credential_id="urn:uuid:0193c3a4-0000-7000-8000-00000000abcd",
        issuer=IssuerProfile(id=ISSUER, name="School of Examples"),
        achievement=ACHIEVEMENT,
        recipient=hash_identity("b" * 64),
        valid_from=ISSUED,
        status=StatusListPointer(list_url, INDEX),
    )
    unsigned["credentialStatus"]["statusListIndex"] = INDEX
    unsigned.update(changes)
    return create_proof(unsigned, SIGNER, EDDSA_RDFC_2022, created=ISSUED, as_list=True)


def signed_list(revoked: list[int], *, signer: SigningKey = SIGNER, issuer: str = ISSUER) -> Any:
    # Its id is not the URL it is served at: the specification does not ask it to be.
    unsigned = status_list_credential(
        list_credential_url="https://school.example/status/3",
        issuer=issuer,
        bitstring=with_bits(empty_bitstring(), revoked),
        valid_from=ISSUED,
    )
    return create_proof(unsigned, signer, EDDSA_RDFC_2022, created=ISSUED)


def verify_cli(tmp_path: Path, document: Any, *extra: str) -> tuple[int, dict[str, Any]]:
    path = tmp_path / "credential.json"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    result = CliRunner().invoke(cli_app, ["verify", str(path), "--json", *extra])
    return result.exit_code, json.loads(result.output)


def check_of(answer: dict[str, Any], name: str) -> dict[str, Any]:
    return next(line for line in answer["checks"] if line["check"] == name)


def test_a_revoked_third_party_credential_is_revoked(served: HttpsServer, tmp_path: Path) -> None:
    """It was reported valid (exit 0): the code wanted the list's id to be its
    URL and refused the integer index, and then called the status unchecked."""
    url = served.put("/lists/3", signed_list([INDEX]))
    code, answer = verify_cli(tmp_path, third_party_credential(url))
    assert (code, answer["outcome"]) == (3, "revoked"), answer
    served.put("/lists/3", signed_list([INDEX + 1]))
    code, answer = verify_cli(tmp_path, third_party_credential(url))
    assert (code, answer["outcome"]) == (0, "valid"), answer
    assert check_of(answer, "status")["result"] == "passed"


@pytest.mark.parametrize(
    ("serve", "why"),
    [
        ("nothing", "404"),
        ("not json", "not JSON"),
        ("another signer", "not the credential issuer's"),
        ("tampered", "own proof does not hold"),
        ("not understood", "multibase"),
    ],
)
def test_a_status_that_cannot_be_determined_is_unknown_never_valid(
    served: HttpsServer, tmp_path: Path, serve: str, why: str
) -> None:
    path = "/lists/3"
    url = served.base + path
    stranger_key = Ed25519PrivateKey.generate()
    stranger = SigningKey(did_key_verification_method(stranger_key.public_key()), stranger_key)
    match serve:
        case "not json":
            served.files[path] = b"<html>maintenance</html>"
        case "another signer":
            served.put(path, signed_list([], signer=stranger, issuer=did_key(stranger.public_key)))
        case "tampered":
            listed = signed_list([])
            listed["validFrom"] = "2020-01-01T00:00:00Z"
            served.put(path, listed)
        case "not understood":
            listed = {k: v for k, v in signed_list([]).items() if k != "proof"}
            listed["credentialSubject"]["encodedList"] = "H4sIAAAAAAAAA-3BMQEAAADCoPVPbQ"
            served.put(path, create_proof(listed, SIGNER, EDDSA_RDFC_2022, created=ISSUED))
    code, answer = verify_cli(tmp_path, third_party_credential(url))
    assert (code, answer["outcome"], answer["problem"]) == (4, "unknown", "status_unknown")
    assert why in answer["reason"], answer["reason"]


def test_offline_the_status_list_is_given_as_a_file(tmp_path: Path) -> None:
    document = third_party_credential("https://school.example/status/3")
    code, answer = verify_cli(tmp_path, document, "--offline")
    assert (code, answer["outcome"]) == (4, "unknown")
    listed = tmp_path / "list.json"
    listed.write_text(json.dumps(signed_list([INDEX])), encoding="utf-8")
    code, answer = verify_cli(tmp_path, document, "--offline", "--status-list", str(listed))
    assert (code, answer["outcome"]) == (3, "revoked")


def forged(change: str) -> dict[str, Any]:
    """A credential signed with a did:key of the forger's choosing: the
    signature holds, the shape is not an Open Badge."""
    document = third_party_credential("https://school.example/status/3")
    unsigned = {k: v for k, v in copy.deepcopy(document).items() if k != "proof"}
    match change:
        case "no OpenBadgeCredential type":
            unsigned["type"] = ["VerifiableCredential"]
        case "no validFrom":
            del unsigned["validFrom"]
        case "no achievement":
            del unsigned["credentialSubject"]["achievement"]
        case "subject typed Profile":
            unsigned["credentialSubject"]["type"] = ["Profile"]
        case "issuer typed Achievement":
            unsigned["issuer"]["type"] = ["Achievement"]
    # eddsa-jcs-2022: no JSON-LD, so any shape can be signed.
    return create_proof(unsigned, SIGNER, EDDSA_JCS_2022, created=ISSUED, as_list=True)


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        ("no OpenBadgeCredential type", "/type"),
        ("no validFrom", ""),
        ("no achievement", "/credentialSubject"),
        ("subject typed Profile", "/credentialSubject/type"),
        ("issuer typed Achievement", "/issuer"),
    ],
)
def test_a_well_signed_credential_that_is_not_an_open_badge_is_invalid(
    tmp_path: Path, change: str, pointer: str
) -> None:
    """All five were reported valid: only the signature was checked."""
    listed = tmp_path / "list.json"
    listed.write_text(json.dumps(signed_list([])), encoding="utf-8")
    code, answer = verify_cli(tmp_path, forged(change), "--offline", "--status-list", str(listed))
    assert (code, answer["outcome"], answer["problem"]) == (1, "invalid", "data_model"), answer
    assert check_of(answer, "signature")["result"] == "passed"
    errors = check_of(answer, "data_model")["errors"]
    assert pointer in [error["pointer"] for error in errors], errors


def test_not_yet_valid_is_not_expired(tmp_path: Path) -> None:
    later = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    code, answer = verify_cli(
        tmp_path, third_party_credential("https://x.example/l", validFrom=later)
    )
    assert (code, answer["problem"]) == (1, "not_yet_valid")
    assert "not valid yet" in answer["reason"]
    past = "2026-04-01T00:00:00Z"
    code, answer = verify_cli(
        tmp_path, third_party_credential("https://x.example/l", validUntil=past)
    )
    assert (code, answer["problem"]) == (1, "expired")


def test_verify_source_reads_the_same_answer(
    served: HttpsServer, lab_ca: LabCA, tmp_path: Path
) -> None:
    url = served.put("/lists/3", signed_list([INDEX]))
    path = tmp_path / "c.json"
    path.write_text(json.dumps(third_party_credential(url)), encoding="utf-8")
    lab = Limits(fetch_allow_private=True, fetch_ca_file=str(lab_ca.ca_file))
    check = verify_source(str(path), [], offline=False, limits=lab)
    assert check.outcome.value == "revoked"
    assert check.status_checked


P256_KEY = ec.derive_private_key(
    0x1F2E3D4C5B6A79880102030405060708090A0B0C0D0E0F101112131415161718, ec.SECP256R1()
)
P256_DID = "did:key:" + encode_p256_public_key(P256_KEY.public_key())
P256_SIGNER = SigningKey(f"{P256_DID}#{P256_DID[8:]}", P256_KEY)
SUITE_CASES = {
    "eddsa-2022": (EDDSA_2022, SIGNER, []),
    "Ed25519Signature2020": (
        ED25519_2020,
        SIGNER,
        ["https://w3id.org/security/suites/ed25519-2020/v1"],
    ),
    "ecdsa-rdfc-2019": (ECDSA_RDFC_2019, P256_SIGNER, []),
    "ecdsa-jcs-2019": (SUPPORTED["ecdsa-jcs-2019"], P256_SIGNER, []),
    "eddsa-jcs-2022": (EDDSA_JCS_2022, SIGNER, []),
}


@pytest.mark.parametrize("name", SUITE_CASES)
def test_credentials_of_other_suites_and_contexts_verify(
    served: HttpsServer, tmp_path: Path, name: str
) -> None:
    """Once "unknown cryptosuite" or "unknown JSON-LD context": the suites other
    issuers sign with, with 1EdTech's extensions context added."""
    suite, signer, contexts = SUITE_CASES[name]
    issuer = signer.verification_method.split("#")[0]
    url = served.base + "/lists/3"
    document = third_party_credential(url)
    unsigned = {k: v for k, v in document.items() if k != "proof"}
    unsigned["@context"] = [*unsigned["@context"], OPEN_BADGES_EXTENSIONS, *contexts]
    unsigned["issuer"] = {**unsigned["issuer"], "id": issuer}
    secured = create_proof(unsigned, signer, suite, created=ISSUED, as_list=True)
    listed = {k: v for k, v in signed_list([INDEX]).items() if k != "proof"}
    listed["issuer"] = issuer
    listed["@context"] = [*listed["@context"], *contexts]
    served.put("/lists/3", create_proof(listed, signer, suite, created=ISSUED))
    code, answer = verify_cli(tmp_path, secured)
    assert (code, answer["outcome"]) == (3, "revoked"), answer
    before_status = answer["checks"][:-1]
    assert all(line["result"] in ("passed", "not_applicable") for line in before_status), answer

    changed = copy.deepcopy(secured)
    changed["credentialSubject"]["achievement"]["name"] = "อื่น"
    code, answer = verify_cli(tmp_path, changed)
    assert (code, answer["problem"]) == (1, "tampered")


def test_an_earlier_open_badges_context_and_vc_1_1_verify(
    served: HttpsServer, tmp_path: Path
) -> None:
    """OB 3.0 as first issued: VC 1.1, context-3.0.1, issuanceDate, Ed25519Signature2020."""
    url = served.put("/lists/3", signed_list([]))
    unsigned = {k: v for k, v in third_party_credential(url).items() if k != "proof"}
    unsigned["@context"] = [
        "https://www.w3.org/2018/credentials/v1",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json",
        "https://w3id.org/security/suites/ed25519-2020/v1",
    ]
    unsigned["issuanceDate"] = unsigned.pop("validFrom")
    del unsigned["credentialStatus"]  # VC 1.1 has no BitstringStatusListEntry term
    del unsigned["credentialSubject"]["achievement"]["inLanguage"]  # not in 3.0.1
    del unsigned["credentialSubject"]["achievement"]["related"][0]["inLanguage"]
    secured = create_proof(unsigned, SIGNER, ED25519_2020, created=ISSUED)
    code, answer = verify_cli(tmp_path, secured)
    assert (code, answer["outcome"]) == (0, "valid"), answer


def test_several_proofs_must_all_verify(tmp_path: Path) -> None:
    document = third_party_credential("https://school.example/status/3")
    endorser = SigningKey(did_key_verification_method(STRANGER.public_key()), STRANGER)
    unsigned = {k: v for k, v in document.items() if k != "proof"}
    second = create_proof(unsigned, endorser, EDDSA_RDFC_2022, created=ISSUED)["proof"]
    both = {**document, "proof": [*document["proof"], second]}
    listed = tmp_path / "list.json"
    listed.write_text(json.dumps(signed_list([])), encoding="utf-8")
    code, answer = verify_cli(tmp_path, both, "--offline", "--status-list", str(listed))
    assert (code, answer["outcome"]) == (0, "valid"), answer
    assert "all 2 signatures match" in check_of(answer, "signature")["detail"]
    second_bad = {**second, "proofValue": document["proof"][0]["proofValue"]}
    bad = {**document, "proof": [*document["proof"], second_bad]}
    code, answer = verify_cli(tmp_path, bad, "--offline", "--status-list", str(listed))
    assert (code, answer["problem"]) == (1, "tampered")


STRANGER = Ed25519PrivateKey.from_private_bytes(bytes(range(40, 72)))


ENDORSER_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(100, 132)))
ENDORSER = SigningKey(did_key_verification_method(ENDORSER_KEY.public_key()), ENDORSER_KEY)


def an_endorsement(**changes: Any) -> dict[str, Any]:
    """An EndorsementCredential by another school, signed by its own did:key."""
    unsigned = {
        "@context": [CREDENTIALS_V2, OPEN_BADGES_V3],
        "id": "urn:uuid:0193c3a4-0000-7000-8000-0000000e0d05",
        "type": ["VerifiableCredential", "EndorsementCredential"],
        "name": "Endorsed by the Red Cross school",
        "issuer": {
            "id": did_key(ENDORSER_KEY.public_key()),
            "type": ["Profile"],
            "name": "Red Cross school",
        },
        "validFrom": "2026-02-01T00:00:00Z",
        "credentialSubject": {
            "id": ACHIEVEMENT.id,
            "type": ["EndorsementSubject"],
            "endorsementComment": "A sound first-aid course.",
        },
    }
    unsigned.update(changes)
    return create_proof(unsigned, ENDORSER, EDDSA_RDFC_2022, created=ISSUED, as_list=True)


def endorsed(endorsement: dict[str, Any], where: str = "credential") -> dict[str, Any]:
    """The third-party credential carrying ``endorsement``, signed by its issuer."""
    unsigned = {
        k: v
        for k, v in third_party_credential("https://school.example/status/3").items()
        if k not in ("proof", "credentialStatus")
    }
    if where == "issuer":
        unsigned["issuer"] = {**unsigned["issuer"], "endorsement": [endorsement]}
    else:
        unsigned["endorsement"] = [endorsement]
    return create_proof(unsigned, SIGNER, EDDSA_RDFC_2022, created=ISSUED, as_list=True)


@pytest.mark.parametrize(
    ("where", "pointer"), [("credential", "/endorsement/0"), ("issuer", "/issuer/endorsement/0")]
)
def test_an_embedded_endorsement_is_verified_like_a_credential(
    tmp_path: Path, where: str, pointer: str
) -> None:
    """Once only its shape was checked: its proof was never verified, so a
    forged endorsement inside a genuine credential passed."""
    code, answer = verify_cli(tmp_path, endorsed(an_endorsement(), where))
    assert (code, answer["outcome"]) == (0, "valid"), answer
    line = check_of(answer, "endorsements")
    assert line["result"] == "passed"
    assert line["errors"] == [
        {
            "pointer": pointer,
            "message": f"verified: endorsed by {did_key(ENDORSER_KEY.public_key())}",
        }
    ]
    # The issuer re-signs a credential whose endorsement was changed after the
    # endorser signed it: the outer signature holds, the endorsement does not.
    forged_endorsement = an_endorsement()
    forged_endorsement["credentialSubject"]["endorsementComment"] = "The best course in Asia."
    code, answer = verify_cli(tmp_path, endorsed(forged_endorsement, where))
    assert (code, answer["outcome"], answer["problem"]) == (1, "invalid", "endorsement"), answer
    assert check_of(answer, "signature")["result"] == "passed"
    line = check_of(answer, "endorsements")
    assert line["errors"][0]["pointer"] == pointer
    assert "its signature" in line["errors"][0]["message"]


def test_an_endorsement_is_checked_against_the_endorsement_schema(tmp_path: Path) -> None:
    nameless = {k: v for k, v in an_endorsement().items() if k != "proof"}
    del nameless["name"]
    nameless = create_proof(nameless, ENDORSER, EDDSA_RDFC_2022, created=ISSUED, as_list=True)
    code, answer = verify_cli(tmp_path, endorsed(nameless))
    assert (code, answer["problem"]) == (1, "data_model"), answer  # the whole schema says so first
    line = check_of(answer, "endorsements")
    assert line["result"] == "failed"
    assert {"pointer": "/endorsement/0", "message": "'name' is a required property"} in line[
        "errors"
    ]


def test_an_endorsement_signed_by_a_key_not_its_issuers_is_invalid(tmp_path: Path) -> None:
    # Signed by the endorser's key but naming the credential's issuer as its issuer.
    impostor = an_endorsement(issuer={"id": ISSUER, "type": ["Profile"], "name": "School"})
    code, answer = verify_cli(tmp_path, endorsed(impostor))
    assert (code, answer["problem"]) == (1, "endorsement"), answer
    assert "its issuer" in check_of(answer, "endorsements")["errors"][0]["message"]


def test_an_endorsement_with_an_unknown_key_leaves_the_credential_unknown(tmp_path: Path) -> None:
    """Fail closed: an endorsement whose key cannot be had is not "valid"."""
    document = endorsed(an_endorsement())
    endorsement = document["endorsement"][0]
    endorsement["proof"][0]["verificationMethod"] = "https://nowhere.invalid/keys#1"
    unsigned = {k: v for k, v in document.items() if k != "proof"}
    resigned = create_proof(unsigned, SIGNER, EDDSA_RDFC_2022, created=ISSUED, as_list=True)
    code, answer = verify_cli(tmp_path, resigned, "--offline")
    assert (code, answer["outcome"], answer["problem"]) == (4, "unknown", "endorsement_unknown")
