"""Create and verify W3C Data Integrity proofs with the EdDSA cryptosuites.

The steps follow "Data Integrity EdDSA Cryptosuites v1.0" (§3.2 for
eddsa-rdfc-2022, §3.3 for eddsa-jcs-2022), which differ only in the
canonicaliser (see ``cryptosuites``):

1. transformation: canonicalise the document without its proof;
2. proof configuration: the proof options plus the document's ``@context``,
   canonicalised the same way;
3. hashing: SHA-256(proof configuration) ‖ SHA-256(document), 64 bytes;
4. serialisation: the Ed25519 signature of those 64 bytes, written in the
   proof as ``proofValue``, multibase base58btc (``z…``).

``proof_inputs`` exposes every intermediate value so tests can hold them to
the W3C test vectors.

Verification returns a ``VerificationResult`` rather than raising: a tampered
or foreign credential is an expected input, and the caller needs to know which
of valid / tampered / unknown key / malformed it is, with a reason.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from cryptography.exceptions import InvalidSignature

from dcatalog.credentials.cryptosuites import SUPPORTED, Cryptosuite
from dcatalog.credentials.errors import CredentialError
from dcatalog.credentials.keys import KeyResolver, SigningKey
from dcatalog.credentials.multikey import decode_base58btc, encode_base58btc
from dcatalog.credentials.timestamps import format_date_time

DATA_INTEGRITY_PROOF = "DataIntegrityProof"
ASSERTION_METHOD = "assertionMethod"
ED25519_SIGNATURE_LENGTH = 64

# XML Schema 1.1 dateTimeStamp: a dateTime that must carry its time zone.
_DATE_TIME_STAMP = re.compile(
    r"^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
)


class Verdict(StrEnum):
    VALID = "valid"
    TAMPERED = "tampered"  # well formed, known key, but the signature does not match
    UNKNOWN_KEY = "unknown_key"  # no trusted key for the proof's verification method
    MALFORMED = "malformed"  # not a proof we can check at all


@dataclass(frozen=True)
class VerificationResult:
    verdict: Verdict
    reason: str
    verification_method: str | None = None
    cryptosuite: str | None = None

    @property
    def valid(self) -> bool:
        return self.verdict is Verdict.VALID


@dataclass(frozen=True)
class ProofInputs:
    """Every intermediate value of one proof, named as in the W3C test vectors."""

    canonical_document: bytes  # canonDoc…
    proof_configuration: dict[str, Any]  # proofConfig…
    canonical_proof_configuration: bytes  # proofCanon…
    hash_data: bytes  # combinedHash… = proofHash… ‖ docHash…


def proof_inputs(
    unsecured_document: Mapping[str, Any], options: Mapping[str, Any], suite: Cryptosuite
) -> ProofInputs:
    """Steps 1 to 3 for ``unsecured_document`` (no ``proof``) under ``options``
    (the proof without ``proofValue``). Raises ``CredentialError``."""
    config = proof_configuration(unsecured_document, options, suite)
    canonical_document = suite.canonicalize(unsecured_document)
    canonical_config = suite.canonicalize(config)
    hash_data = (
        hashlib.sha256(canonical_config).digest() + hashlib.sha256(canonical_document).digest()
    )
    return ProofInputs(canonical_document, config, canonical_config, hash_data)


def proof_configuration(
    unsecured_document: Mapping[str, Any], options: Mapping[str, Any], suite: Cryptosuite
) -> dict[str, Any]:
    if options.get("type") != DATA_INTEGRITY_PROOF:
        raise CredentialError(f"the proof type must be {DATA_INTEGRITY_PROOF}")
    if options.get("cryptosuite") != suite.name:
        raise CredentialError(f"the proof cryptosuite must be {suite.name}")
    for name in ("created", "expires"):
        if name in options:
            _check_date_time_stamp(options[name], name)
    config = {key: value for key, value in options.items() if key != "proofValue"}
    if "@context" in unsecured_document:
        config["@context"] = unsecured_document["@context"]
    return config


def create_proof(
    document: Mapping[str, Any],
    key: SigningKey,
    suite: Cryptosuite,
    *,
    created: datetime,
    proof_purpose: str = ASSERTION_METHOD,
) -> dict[str, Any]:
    """A copy of ``document`` with a ``proof`` by ``key``. The document must not
    already have a proof: proof sets and chains are not supported."""
    if "proof" in document:
        raise CredentialError("the document already has a proof")
    options: dict[str, Any] = {
        "type": DATA_INTEGRITY_PROOF,
        "cryptosuite": suite.name,
        "created": format_date_time(created),
        "verificationMethod": key.verification_method,
        "proofPurpose": proof_purpose,
    }
    inputs = proof_inputs(document, options, suite)
    proof = dict(inputs.proof_configuration) if suite.proof_carries_context else options
    proof["proofValue"] = encode_base58btc(key.sign(inputs.hash_data))
    return {**document, "proof": proof}


def verify_proof(
    secured_document: Mapping[str, Any],
    resolve_key: KeyResolver,
    *,
    suites: Mapping[str, Cryptosuite] = SUPPORTED,
    expected_proof_purpose: str = ASSERTION_METHOD,
) -> VerificationResult:
    """Check the one proof of ``secured_document``. Never raises for bad input."""
    if not isinstance(secured_document, Mapping):
        return _malformed("the credential is not a JSON object")
    proof = secured_document.get("proof")
    if isinstance(proof, list) and len(proof) == 1:
        proof = proof[0]
    if isinstance(proof, list):
        return _malformed("proof sets and chains (several proofs) are not supported")
    if not isinstance(proof, Mapping):
        return _malformed("the credential has no proof")

    method = proof.get("verificationMethod")
    suite_name = proof.get("cryptosuite")
    method = method if isinstance(method, str) else None
    suite_name = suite_name if isinstance(suite_name, str) else None

    def result(verdict: Verdict, reason: str) -> VerificationResult:
        return VerificationResult(verdict, reason, method, suite_name)

    if proof.get("type") != DATA_INTEGRITY_PROOF:
        return result(Verdict.MALFORMED, f"the proof type is not {DATA_INTEGRITY_PROOF}")
    suite = suites.get(suite_name) if suite_name is not None else None
    if suite is None:
        return result(Verdict.MALFORMED, f"unsupported cryptosuite {suite_name!r}")
    if method is None:
        return result(Verdict.MALFORMED, "the proof has no verificationMethod")
    if proof.get("proofPurpose") != expected_proof_purpose:
        return result(
            Verdict.MALFORMED,
            f"the proof purpose is {proof.get('proofPurpose')!r}, not {expected_proof_purpose!r}",
        )
    proof_value = proof.get("proofValue")
    if not isinstance(proof_value, str):
        return result(Verdict.MALFORMED, "the proof has no proofValue")
    try:
        signature = decode_base58btc(proof_value)
    except CredentialError as exc:
        return result(Verdict.MALFORMED, f"proofValue: {exc}")
    if len(signature) != ED25519_SIGNATURE_LENGTH:
        return result(Verdict.MALFORMED, "proofValue is not an Ed25519 signature (64 bytes)")

    unsecured = {key: value for key, value in secured_document.items() if key != "proof"}
    options = {key: value for key, value in proof.items() if key != "proofValue"}
    if "@context" in options:
        # The proof signs the contexts it names; the document may add more after them.
        if not _starts_with(secured_document.get("@context"), options["@context"]):
            return result(Verdict.TAMPERED, "the document's @context differs from the proof's")
        unsecured["@context"] = options["@context"]

    public_key = resolve_key(method)
    if public_key is None:
        return result(Verdict.UNKNOWN_KEY, f"no trusted key for {method}")
    try:
        inputs = proof_inputs(unsecured, options, suite)
    except CredentialError as exc:
        return result(Verdict.MALFORMED, str(exc))
    try:
        public_key.verify(signature, inputs.hash_data)
    except InvalidSignature:
        return result(Verdict.TAMPERED, "the signature does not match the credential")
    return result(Verdict.VALID, "the signature matches the credential")


def _malformed(reason: str) -> VerificationResult:
    return VerificationResult(Verdict.MALFORMED, reason)


def _check_date_time_stamp(value: Any, name: str) -> None:
    if not (isinstance(value, str) and _DATE_TIME_STAMP.match(value)):
        raise CredentialError(f"the proof's {name} is not an XML Schema dateTimeStamp")
    try:
        datetime.fromisoformat(value)
    except ValueError as exc:
        raise CredentialError(f"the proof's {name} is not a real date and time") from exc


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _starts_with(document_context: Any, proof_context: Any) -> bool:
    document_items, proof_items = _as_list(document_context), _as_list(proof_context)
    return document_items[: len(proof_items)] == proof_items
