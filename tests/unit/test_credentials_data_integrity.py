"""What the verifier says about proofs it cannot accept, and why."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from dcatalog.credentials.cryptosuites import EDDSA_JCS_2022, EDDSA_RDFC_2022, suites_with
from dcatalog.credentials.data_integrity import Verdict, create_proof, verify_proof, verify_proofs
from dcatalog.credentials.errors import CredentialError
from dcatalog.credentials.jsonld_contexts import ContextLibrary
from dcatalog.credentials.keys import SigningKey, resolve_did_key
from dcatalog.credentials.limits import Limits, TooComplex
from dcatalog.credentials.multikey import did_key_verification_method, encode_base58btc

PRIVATE_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
KEY = SigningKey(did_key_verification_method(PRIVATE_KEY.public_key()), PRIVATE_KEY)
CREATED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
DOCUMENT: dict[str, Any] = {
    "@context": ["https://www.w3.org/ns/credentials/v2"],
    "id": "urn:uuid:6a1f0e0a-0000-7000-8000-000000000001",
    "type": ["VerifiableCredential"],
    "issuer": "https://dcatalog.example/issuer",
    "validFrom": "2026-01-02T03:04:05Z",
    "credentialSubject": {"id": "did:example:holder"},
}


def signed(suite: Any = EDDSA_JCS_2022) -> dict[str, Any]:
    return create_proof(copy.deepcopy(DOCUMENT), KEY, suite, created=CREATED)


def verdict_of(document: Any) -> tuple[Verdict, str]:
    result = verify_proof(document, resolve_did_key)
    return result.verdict, result.reason


def test_a_fresh_proof_is_valid_and_says_which_key_and_suite() -> None:
    result = verify_proof(signed(), resolve_did_key)
    assert result.valid
    assert result.verification_method == KEY.verification_method
    assert result.cryptosuite == "eddsa-jcs-2022"


def test_the_jcs_proof_carries_the_context_and_the_rdfc_proof_does_not() -> None:
    assert signed(EDDSA_JCS_2022)["proof"]["@context"] == DOCUMENT["@context"]
    assert "@context" not in signed(EDDSA_RDFC_2022)["proof"]


def mutate(change: str) -> Any:
    document = signed()
    match change:
        case "no proof":
            del document["proof"]
        case "nine proofs":
            document["proof"] = [document["proof"]] * 9
        case "proof is text":
            document["proof"] = "signed, trust me"
        case "not base58":
            document["proof"]["proofValue"] = "z0OIl"
        case "multibase base64":
            document["proof"]["proofValue"] = "u" + document["proof"]["proofValue"][1:]
        case "short signature":
            document["proof"]["proofValue"] = encode_base58btc(bytes(63))
        case "no verification method":
            del document["proof"]["verificationMethod"]
        case "created not a date":
            document["proof"]["created"] = "yesterday"
        case "created without zone":
            document["proof"]["created"] = "2026-01-02T03:04:05"
        case "numbers out of JCS range":
            document["credentialSubject"]["count"] = 2**60
        case "not an object":
            document = ["a", "list"]
    return document


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("no proof", "no proof"),
        ("nine proofs", "more than 8 proofs"),
        ("proof is text", "not an object"),
        ("not base58", "base58btc"),
        ("multibase base64", "base58btc"),
        ("short signature", "64 bytes"),
        ("no verification method", "verificationMethod"),
        ("created not a date", "dateTimeStamp"),
        ("created without zone", "dateTimeStamp"),
        ("numbers out of JCS range", "RFC 8785"),
        ("not an object", "JSON object"),
    ],
)
def test_malformed_proofs_are_named_with_a_reason(change: str, reason: str) -> None:
    verdict, why = verdict_of(mutate(change))
    assert verdict is Verdict.MALFORMED
    assert reason in why


def test_a_single_proof_in_a_list_is_accepted() -> None:
    document = signed()
    document["proof"] = [document["proof"]]
    assert verdict_of(document)[0] is Verdict.VALID


def test_contexts_may_be_added_after_the_signed_ones_but_not_changed() -> None:
    document = signed()
    document["@context"] = [*DOCUMENT["@context"], "https://example.org/extra/v1"]
    # JCS signs the document with the proof's @context in place of the
    # document's, so an appended context alone does not break the proof...
    assert verdict_of(document)[0] is Verdict.VALID
    document["@context"] = ["https://example.org/other/v1"]
    assert verdict_of(document) == (
        Verdict.TAMPERED,
        "the document's @context differs from the proof's",
    )


def test_an_unknown_context_is_malformed_for_rdfc_not_fetched() -> None:
    document = copy.deepcopy(DOCUMENT)
    document["@context"] = [*DOCUMENT["@context"], "https://example.org/unknown/v1"]
    with pytest.raises(CredentialError, match="unknown JSON-LD context"):
        create_proof(document, KEY, EDDSA_RDFC_2022, created=CREATED)


def test_rdfc_refuses_terms_its_contexts_do_not_define() -> None:
    document = copy.deepcopy(DOCUMENT)
    document["credentialSubject"]["undefinedTerm"] = "would not be signed"
    with pytest.raises(CredentialError, match="undefinedTerm"):
        create_proof(document, KEY, EDDSA_RDFC_2022, created=CREATED)


def test_rdfc_refuses_relative_iris() -> None:
    document = copy.deepcopy(DOCUMENT)
    document["issuer"] = "issuers/1"  # would vanish from the canonical form
    with pytest.raises(CredentialError, match="absolute IRI"):
        create_proof(document, KEY, EDDSA_RDFC_2022, created=CREATED)


def test_rdfc_signs_credentials_with_many_blank_nodes() -> None:
    """Once refused past 16 blank-node mentions; real credentials have more."""
    document = copy.deepcopy(DOCUMENT)
    document["credentialSubject"] = [{"name": f"n{i}"} for i in range(60)]
    secured = create_proof(document, KEY, EDDSA_RDFC_2022, created=CREATED)
    assert verify_proof(secured, resolve_did_key).verdict is Verdict.VALID


def clique(size: int) -> dict[str, Any]:
    """Blank nodes that all point at each other: every one looks like every
    other, the worst case of RDF canonicalisation (a "poison graph")."""
    knows = "https://schema.org/knows"
    subjects = [
        {"id": f"_:b{i}", knows: [{"id": f"_:b{j}"} for j in range(size) if j != i]}
        for i in range(size)
    ]
    return {**copy.deepcopy(DOCUMENT), "credentialSubject": subjects}


def test_rdfc_refuses_a_poison_graph_by_its_work_bound() -> None:
    with pytest.raises(TooComplex, match="more work than allowed"):
        create_proof(clique(8), KEY, EDDSA_RDFC_2022, created=CREATED)
    small = create_proof(clique(3), KEY, EDDSA_RDFC_2022, created=CREATED)
    assert verify_proof(small, resolve_did_key).verdict is Verdict.VALID
    poisoned = {**small, "credentialSubject": clique(8)["credentialSubject"]}
    result = verify_proof(poisoned, resolve_did_key)
    assert result.verdict is Verdict.TOO_COMPLEX
    # The bound is a setting: a graph within the default is refused under a tighter one.
    five = create_proof(clique(5), KEY, EDDSA_RDFC_2022, created=CREATED)
    assert verify_proof(five, resolve_did_key).valid
    tight = Limits(canonicalization_work=1_000)
    assert verify_proof(five, resolve_did_key, limits=tight).verdict is Verdict.TOO_COMPLEX


def test_deep_nesting_is_refused_before_the_json_ld_processor_sees_it() -> None:
    """Nested a few hundred levels, it once overflowed pyld's recursion."""
    document = signed(EDDSA_RDFC_2022)
    nested: dict[str, Any] = {"name": "bottom"}
    for _ in range(300):
        nested = {"name": "level", "https://schema.org/hasPart": nested}
    document["credentialSubject"] = nested
    result = verify_proof(document, resolve_did_key)
    assert (result.verdict, result.reason) == (
        Verdict.TOO_COMPLEX,
        "too deeply nested: more than 32 levels",
    )


VECTORS = Path(__file__).resolve().parents[1] / "data" / "credentials" / "vectors"
EXAMPLE_SUITES = suites_with(
    ContextLibrary.with_files(
        {
            "https://www.w3.org/ns/credentials/examples/v2": VECTORS.parent
            / "contexts"
            / "credentials-examples-v2.jsonld"
        }
    )
)


@pytest.mark.parametrize("name", ["signedProofSet2.json", "signedProofChain2.json"])
def test_w3c_proof_sets_and_chains_verify_every_proof(name: str) -> None:
    document = json.loads((VECTORS / "proof-set-chain" / name).read_text("utf-8"))
    results = verify_proofs(document, resolve_did_key, suites=EXAMPLE_SUITES)
    assert len(results) == len(document["proof"]) >= 2
    assert all(result.valid for result in results), results
    # Each proof must hold: break one and the whole document fails.
    document["proof"][1]["proofValue"] = document["proof"][0]["proofValue"]
    assert verify_proof(document, resolve_did_key, suites=EXAMPLE_SUITES).verdict is (
        Verdict.TAMPERED
    )


@pytest.mark.parametrize("proof_id", [{"a": 1}, ["x"], 7, None])
def test_a_proof_id_that_is_not_text_is_malformed_not_a_crash(proof_id: Any) -> None:
    """Found by fuzzing: a proof set whose proof carried an object as its id crashed
    the verifier (an unhashable dict key) instead of answering."""
    document = signed()
    second = {**document["proof"], "id": proof_id}
    chained = {**document["proof"], "previousProof": "urn:proof:1"}
    document["proof"] = [second, chained]
    results = verify_proofs(document, resolve_did_key)
    assert not all(result.valid for result in results)
    assert results[1].verdict is Verdict.MALFORMED


def test_a_second_proof_is_refused_when_signing() -> None:
    with pytest.raises(CredentialError, match="already has a proof"):
        create_proof(signed(), KEY, EDDSA_JCS_2022, created=CREATED)


def test_signing_times_must_carry_a_zone() -> None:
    with pytest.raises(CredentialError, match="timezone"):
        create_proof(DOCUMENT, KEY, EDDSA_JCS_2022, created=datetime(2026, 1, 2))  # noqa: DTZ001
