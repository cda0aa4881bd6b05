"""Create and verify W3C Data Integrity proofs (and Ed25519Signature2020).

The steps follow "Data Integrity EdDSA Cryptosuites v1.0" (§3.2 for
eddsa-rdfc-2022, §3.3 for eddsa-jcs-2022); the other suites (see
``cryptosuites``) differ only in the canonicaliser and the key:

1. transformation: canonicalise the document without its proof;
2. proof configuration: the proof options plus the document's ``@context``,
   canonicalised the same way;
3. hashing: SHA-256(proof configuration) ‖ SHA-256(document), 64 bytes;
4. serialisation: the signature of those 64 bytes, written in the proof as
   ``proofValue``, multibase base58btc (``z…``).

``proof_inputs`` exposes every intermediate value so tests can hold them to
the W3C test vectors.

Several proofs (VC Data Integrity §4.3, proof sets and chains): every one must
verify. A proof in a set signs the document without any proof; a proof with
``previousProof`` signs it with the proofs it names.

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
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ec import ECDSA, EllipticCurvePublicKey
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from dcatalog.credentials.cryptosuites import (
    DATA_INTEGRITY_PROOF,
    SIGNATURE_LENGTH,
    SUPPORTED,
    Cryptosuite,
)
from dcatalog.credentials.errors import CredentialError
from dcatalog.credentials.keys import KeyResolver, KeyUnavailable, PublicKey, SigningKey
from dcatalog.credentials.limits import DEFAULT_LIMITS, Limits, TooComplex
from dcatalog.credentials.multikey import decode_base58btc, encode_base58btc
from dcatalog.credentials.timestamps import format_date_time

ASSERTION_METHOD = "assertionMethod"
MAX_PROOFS = 8  # a proof set of issuer and endorsers; more is not a credential

# XML Schema 1.1 dateTimeStamp: a dateTime that must carry its time zone.
_DATE_TIME_STAMP = re.compile(
    r"^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
)


class Verdict(StrEnum):
    VALID = "valid"
    TAMPERED = "tampered"  # well formed, known key, but the signature does not match
    UNKNOWN_KEY = "unknown_key"  # no trusted key for the proof's verification method
    MALFORMED = "malformed"  # not a proof we can check at all
    TOO_COMPLEX = "too_complex"  # beyond the verifier's work bounds (``limits``)


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
    unsecured_document: Mapping[str, Any],
    options: Mapping[str, Any],
    suite: Cryptosuite,
    limits: Limits = DEFAULT_LIMITS,
) -> ProofInputs:
    """Steps 1 to 3 for ``unsecured_document`` (no ``proof``) under ``options``
    (the proof without ``proofValue``). Raises ``CredentialError``."""
    config = proof_configuration(unsecured_document, options, suite)
    canonical_document = suite.canonicalize(unsecured_document, limits)
    canonical_config = suite.canonicalize(config, limits)
    hash_data = (
        hashlib.sha256(canonical_config).digest() + hashlib.sha256(canonical_document).digest()
    )
    return ProofInputs(canonical_document, config, canonical_config, hash_data)


def proof_configuration(
    unsecured_document: Mapping[str, Any], options: Mapping[str, Any], suite: Cryptosuite
) -> dict[str, Any]:
    if options.get("type") != suite.proof_type:
        raise CredentialError(f"the proof type must be {suite.proof_type}")
    if suite.has_cryptosuite_property and options.get("cryptosuite") != suite.name:
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
    as_list: bool = False,
) -> dict[str, Any]:
    """A copy of ``document`` with a ``proof`` by ``key``. The document must not
    already have a proof (we sign alone; we verify proof sets others make).
    ``as_list`` writes ``proof`` as a one-element list, the form the Open Badges
    3.0 JSON Schema requires (VC Data Integrity allows both)."""
    if "proof" in document:
        raise CredentialError("the document already has a proof")
    options: dict[str, Any] = {"type": suite.proof_type}
    if suite.has_cryptosuite_property:
        options["cryptosuite"] = suite.name
    options.update(
        {
            "created": format_date_time(created),
            "verificationMethod": key.verification_method,
            "proofPurpose": proof_purpose,
        }
    )
    inputs = proof_inputs(document, options, suite)
    proof = dict(inputs.proof_configuration) if suite.proof_carries_context else options
    proof["proofValue"] = encode_base58btc(key.sign(inputs.hash_data))
    return {**document, "proof": [proof] if as_list else proof}


def proofs_of(secured_document: Mapping[str, Any]) -> list[Any]:
    proof = secured_document.get("proof")
    if proof is None:
        return []
    return proof if isinstance(proof, list) else [proof]


def verify_proofs(
    secured_document: Mapping[str, Any],
    resolve_key: KeyResolver,
    *,
    suites: Mapping[str, Cryptosuite] = SUPPORTED,
    expected_proof_purpose: str = ASSERTION_METHOD,
    limits: Limits = DEFAULT_LIMITS,
) -> list[VerificationResult]:
    """One result per proof (a set or a chain); the document is verified only
    if every one is valid. Never raises for bad input."""
    if not isinstance(secured_document, Mapping):
        return [_malformed("the credential is not a JSON object")]
    proofs = proofs_of(secured_document)
    if not proofs:
        return [_malformed("the credential has no proof")]
    if len(proofs) > MAX_PROOFS:
        return [_malformed(f"more than {MAX_PROOFS} proofs")]
    unsecured = {key: value for key, value in secured_document.items() if key != "proof"}
    # Only text ids name a proof (a fuzzed id of another JSON type must not crash).
    by_id = {p["id"]: p for p in proofs if isinstance(p, Mapping) and isinstance(p.get("id"), str)}
    results = []
    for proof in proofs:
        document = unsecured
        previous = proof.get("previousProof") if isinstance(proof, Mapping) else None
        if previous is not None:
            wanted = previous if isinstance(previous, list) else [previous]
            found = [by_id.get(name) for name in wanted if isinstance(name, str)]
            if len(found) != len(wanted) or any(p is None for p in found):
                results.append(_malformed("a proof's previousProof names no proof here"))
                continue
            document = {**unsecured, "proof": found}
        results.append(
            _verify_one(document, proof, resolve_key, suites, expected_proof_purpose, limits)
        )
    return results


def verify_proof(
    secured_document: Mapping[str, Any],
    resolve_key: KeyResolver,
    *,
    suites: Mapping[str, Cryptosuite] = SUPPORTED,
    expected_proof_purpose: str = ASSERTION_METHOD,
    limits: Limits = DEFAULT_LIMITS,
) -> VerificationResult:
    """The one answer for all the proofs of ``secured_document``: the first that
    is not valid, else the first. Never raises for bad input."""
    results = verify_proofs(
        secured_document,
        resolve_key,
        suites=suites,
        expected_proof_purpose=expected_proof_purpose,
        limits=limits,
    )
    for result in results:
        if not result.valid:
            return result
    return results[0]


def _verify_one(
    unsecured: dict[str, Any],
    proof: Any,
    resolve_key: KeyResolver,
    suites: Mapping[str, Cryptosuite],
    expected_proof_purpose: str,
    limits: Limits,
) -> VerificationResult:
    if not isinstance(proof, Mapping):
        return _malformed("a proof is not an object")
    method = proof.get("verificationMethod")
    proof_type = proof.get("type")
    suite_name = proof.get("cryptosuite") if proof_type == DATA_INTEGRITY_PROOF else proof_type
    method = method if isinstance(method, str) else None
    suite_name = suite_name if isinstance(suite_name, str) else None

    def result(verdict: Verdict, reason: str) -> VerificationResult:
        return VerificationResult(verdict, reason, method, suite_name)

    suite = suites.get(suite_name) if suite_name is not None else None
    if suite is None or suite.proof_type != proof_type:
        if proof_type != DATA_INTEGRITY_PROOF and suite is None:
            return result(Verdict.MALFORMED, f"unsupported proof type {proof_type!r}")
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
    if len(signature) != SIGNATURE_LENGTH:
        return result(Verdict.MALFORMED, f"proofValue is not a {suite.curve} signature (64 bytes)")

    options = {key: value for key, value in proof.items() if key != "proofValue"}
    document = dict(unsecured)
    if "@context" in options:
        # The proof signs the contexts it names; the document may add more after them.
        if not _starts_with(document.get("@context"), options["@context"]):
            return result(Verdict.TAMPERED, "the document's @context differs from the proof's")
        document["@context"] = options["@context"]

    try:
        public_key = resolve_key(method)
    except KeyUnavailable as exc:
        return result(Verdict.UNKNOWN_KEY, f"the key {method} could not be looked up: {exc}")
    if public_key is None:
        return result(Verdict.UNKNOWN_KEY, f"no trusted key for {method}")
    if not suite.accepts(public_key):
        return result(
            Verdict.MALFORMED, f"{method} is not a {suite.curve} key, as {suite.name} needs"
        )
    try:
        inputs = proof_inputs(document, options, suite, limits)
    except TooComplex as exc:
        return result(Verdict.TOO_COMPLEX, str(exc))
    except CredentialError as exc:
        return result(Verdict.MALFORMED, str(exc))
    if not _signature_matches(public_key, signature, inputs.hash_data):
        return result(Verdict.TAMPERED, "the signature does not match the credential")
    return result(Verdict.VALID, "the signature matches the credential")


def _signature_matches(key: PublicKey, signature: bytes, data: bytes) -> bool:
    try:
        if isinstance(key, EllipticCurvePublicKey):
            half = SIGNATURE_LENGTH // 2
            der = encode_dss_signature(
                int.from_bytes(signature[:half], "big"), int.from_bytes(signature[half:], "big")
            )
            key.verify(der, data, ECDSA(hashes.SHA256()))
        else:
            key.verify(signature, data)
    except InvalidSignature:
        return False
    return True


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
