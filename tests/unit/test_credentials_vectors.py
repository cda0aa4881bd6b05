"""The W3C Data Integrity EdDSA test vectors (shipped in tests/data/credentials/vectors).

Every intermediate value is reproduced (canonical document, proof
configuration, canonical proof configuration, both hashes, the signature in
hex and base58btc, the whole signed credential), the signed examples verify,
and changing any string in them makes verification fail.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from dcatalog.credentials.cryptosuites import EDDSA_JCS_2022, Cryptosuite, eddsa_rdfc_2022
from dcatalog.credentials.data_integrity import (
    create_proof,
    proof_inputs,
    verify_proof,
)
from dcatalog.credentials.jsonld_contexts import ContextLibrary
from dcatalog.credentials.keys import SigningKey, resolve_did_key
from dcatalog.credentials.multikey import (
    decode_public_key,
    decode_secret_key,
    encode_base58btc,
    encode_public_key,
    encode_secret_key,
)

REPOSITORY = Path(__file__).resolve().parents[2]
VECTORS = REPOSITORY / "tests" / "data" / "credentials" / "vectors"
TEST_CONTEXTS = REPOSITORY / "tests" / "data" / "credentials" / "contexts"

# The example contexts the vectors name; D-Catalog itself never ships them.
VECTOR_CONTEXTS = ContextLibrary.with_files(
    {
        "https://www.w3.org/ns/credentials/examples/v2": TEST_CONTEXTS
        / "credentials-examples-v2.jsonld",
        "https://w3id.org/citizenship/v4rc1": TEST_CONTEXTS / "citizenship-v4rc1.jsonld",
    }
)
RDFC = eddsa_rdfc_2022(VECTOR_CONTEXTS)
SUITES = {suite.name: suite for suite in (EDDSA_JCS_2022, RDFC)}


@dataclass(frozen=True)
class Case:
    """One folder of vectors: which unsigned document, which suite, which file names."""

    name: str
    folder: str
    unsigned: str
    suffix: str  # "JCS" or "DataInt", as the upstream file names have it
    suite: Cryptosuite

    def text(self, stem: str, extension: str = "txt") -> str:
        return (VECTORS / self.folder / f"{stem}{self.suffix}.{extension}").read_text("utf-8")

    def json(self, stem: str) -> Any:
        return json.loads(self.text(stem, "json"))

    def hex(self, stem: str) -> str:
        return self.text(stem).strip()

    def unsigned_document(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads((VECTORS / self.unsigned).read_text("utf-8"))
        return document


CASES = [
    Case("jcs", "eddsa-jcs-2022", "unsigned.json", "JCS", EDDSA_JCS_2022),
    Case("rdfc", "eddsa-rdfc-2022", "unsigned.json", "DataInt", RDFC),
    Case("rdfc-employment", "eddsa-rdfc-2022/employ", "employmentAuth.json", "DataInt", RDFC),
]
by_name = pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])


def key_pair() -> dict[str, str]:
    pair: dict[str, str] = json.loads((VECTORS / "keyPair.json").read_text("utf-8"))
    return pair


def signing_key() -> SigningKey:
    pair = key_pair()
    public = pair["publicKeyMultibase"]
    return SigningKey.from_secret_multikey(
        pair["privateKeyMultibase"], f"did:key:{public}#{public}"
    )


def test_multikey_pair_round_trips() -> None:
    pair = key_pair()
    secret = decode_secret_key(pair["privateKeyMultibase"])
    assert encode_secret_key(secret) == pair["privateKeyMultibase"]
    assert encode_public_key(secret.public_key()) == pair["publicKeyMultibase"]
    assert (
        encode_public_key(decode_public_key(pair["publicKeyMultibase"]))
        == pair["publicKeyMultibase"]
    )


@by_name
def test_every_intermediate_value_is_reproduced(case: Case) -> None:
    options = {k: v for k, v in case.json("proofConfig").items() if k != "@context"}
    inputs = proof_inputs(case.unsigned_document(), options, case.suite)

    assert inputs.canonical_document.decode("utf-8") == case.text("canonDoc")
    assert inputs.proof_configuration == case.json("proofConfig")
    assert inputs.canonical_proof_configuration.decode("utf-8") == case.text("proofCanon")
    assert inputs.hash_data[:32].hex() == case.hex("proofHash")
    assert inputs.hash_data[32:].hex() == case.hex("docHash")
    assert inputs.hash_data.hex() == case.hex("combinedHash")

    signature = signing_key().sign(inputs.hash_data)
    assert signature.hex() == case.hex("sigHex")
    assert encode_base58btc(signature) == case.hex("sigBTC58")


@by_name
def test_signing_the_unsigned_document_gives_the_signed_vector(case: Case) -> None:
    created = datetime.fromisoformat(case.json("proofConfig")["created"])
    signed = create_proof(case.unsigned_document(), signing_key(), case.suite, created=created)
    assert signed == case.json("signed")


@by_name
def test_the_signed_vector_verifies(case: Case) -> None:
    result = verify_proof(case.json("signed"), resolve_did_key, suites=SUITES)
    assert result.valid, result.reason
    assert result.cryptosuite == case.suite.name


def _string_paths(node: Any, path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
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


def _replace(document: Any, path: tuple[str | int, ...], value: str) -> Any:
    changed = copy.deepcopy(document)
    parent = changed
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = value
    return changed


# Hypothesis draws how to tamper; the same strategy serves every case.
tampering = st.tuples(
    st.integers(min_value=0),  # which string
    st.integers(min_value=0),  # which character
    st.characters(codec="utf-8"),  # its replacement
)


@by_name
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(change=tampering)
def test_changing_any_character_of_any_string_breaks_verification(
    case: Case, change: tuple[int, int, str]
) -> None:
    signed = case.json("signed")
    paths = _string_paths(signed)
    which, position, replacement = change
    path = paths[which % len(paths)]
    original: str = _at(signed, path)
    assume(original)
    position %= len(original)
    assume(original[position] != replacement)
    tampered = _replace(signed, path, original[:position] + replacement + original[position + 1 :])

    result = verify_proof(tampered, resolve_did_key, suites=SUITES)
    assert not result.valid, f"{path} changed, yet {result.reason}"


def _at(document: Any, path: tuple[str | int, ...]) -> Any:
    for step in path:
        document = document[step]
    return document


@by_name
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("created", "2023-02-24T23:36:39Z"),
        ("proofPurpose", "authentication"),
        ("cryptosuite", "eddsa-2022"),
        ("type", "Ed25519Signature2020"),
        ("verificationMethod", "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"),
        ("proofValue", "z" + "1" * 60),
    ],
)
def test_changing_a_proof_field_breaks_verification(case: Case, field: str, value: str) -> None:
    signed = case.json("signed")
    signed["proof"][field] = value
    assert not verify_proof(signed, resolve_did_key, suites=SUITES).valid


@by_name
def test_adding_or_removing_a_claim_breaks_verification(case: Case) -> None:
    signed = case.json("signed")
    added = copy.deepcopy(signed)
    added["credentialSubject"]["extra"] = "added after signing"
    removed = copy.deepcopy(signed)
    del removed["validFrom"]
    for tampered in (added, removed):
        assert not verify_proof(tampered, resolve_did_key, suites=SUITES).valid
