"""The cryptosuites the verifier knows, and how each turns a document into bytes.

All of them sign SHA-256(canonical proof configuration) ‖ SHA-256(canonical
document); they differ in the canonicaliser, the key and the proof's shape:

- ``eddsa-rdfc-2022`` (W3C Data Integrity EdDSA v1.0 §3.2): JSON-LD expanded
  with its contexts, then RDFC-1.0; Ed25519. What we issue, and what Open
  Badges 3.0 conformance tools and most wallets expect.
- ``eddsa-jcs-2022`` (§3.3): RFC 8785 canonical JSON, no JSON-LD; the proof
  also carries the document's ``@context`` (the verifier checks the document
  still starts with it).
- ``eddsa-2022``: the name the rdfc suite had in the 2022-2023 drafts of the
  same specification, with the same algorithm; credentials issued then still
  carry it.
- ``Ed25519Signature2020`` (W3C CCG, the suite before Data Integrity): a proof
  of that *type* with no ``cryptosuite``; the same rdfc transformation and
  hashes, its terms defined by the ed25519-2020 context.
- ``ecdsa-rdfc-2019`` and ``ecdsa-jcs-2019`` (W3C Data Integrity ECDSA v1.0),
  P-256 only: ECDSA with SHA-256, the signature written as r ‖ s. P-384 (which
  hashes with SHA-384) is not supported: such a proof is reported as an
  unsupported suite.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, EllipticCurvePublicKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from dcatalog.credentials import canonical_json, rdf_canonicalization
from dcatalog.credentials.jsonld_contexts import SHIPPED_CONTEXTS, ContextLibrary
from dcatalog.credentials.limits import DEFAULT_LIMITS, Limits

Canonicalizer = Callable[[Mapping[str, Any], Limits], bytes]
DATA_INTEGRITY_PROOF = "DataIntegrityProof"
ED25519_SIGNATURE_2020 = "Ed25519Signature2020"
SIGNATURE_LENGTH = 64  # Ed25519, and P-256 r ‖ s


@dataclass(frozen=True)
class Cryptosuite:
    name: str  # the proof's ``cryptosuite``, or its ``type`` for the suites before Data Integrity
    proof_type: str
    canonicalize_with: Canonicalizer
    proof_carries_context: bool
    curve: str  # "Ed25519" or "P-256"

    def canonicalize(self, document: Mapping[str, Any], limits: Limits = DEFAULT_LIMITS) -> bytes:
        return self.canonicalize_with(document, limits)

    @property
    def has_cryptosuite_property(self) -> bool:
        return self.proof_type == DATA_INTEGRITY_PROOF

    def accepts(self, key: Any) -> bool:
        """Whether ``key`` is of the kind this suite signs with."""
        if self.curve == "Ed25519":
            return isinstance(key, Ed25519PublicKey)
        return isinstance(key, EllipticCurvePublicKey) and isinstance(key.curve, SECP256R1)


def _jcs(document: Mapping[str, Any], limits: Limits) -> bytes:
    return canonical_json.canonicalize(document)


def _rdfc(contexts: ContextLibrary) -> Canonicalizer:
    def canonicalize(document: Mapping[str, Any], limits: Limits) -> bytes:
        return rdf_canonicalization.canonicalize(document, contexts, limits)

    return canonicalize


EDDSA_JCS_2022 = Cryptosuite("eddsa-jcs-2022", DATA_INTEGRITY_PROOF, _jcs, True, "Ed25519")
ECDSA_JCS_2019 = Cryptosuite("ecdsa-jcs-2019", DATA_INTEGRITY_PROOF, _jcs, True, "P-256")


def eddsa_rdfc_2022(contexts: ContextLibrary = SHIPPED_CONTEXTS) -> Cryptosuite:
    """The rdfc suite using ``contexts`` (tests add the W3C vectors' example contexts)."""
    return Cryptosuite("eddsa-rdfc-2022", DATA_INTEGRITY_PROOF, _rdfc(contexts), False, "Ed25519")


def rdfc_suites(contexts: ContextLibrary = SHIPPED_CONTEXTS) -> list[Cryptosuite]:
    """Every RDF-canonicalising suite, canonicalising against ``contexts``."""
    rdfc = _rdfc(contexts)
    return [
        Cryptosuite("eddsa-rdfc-2022", DATA_INTEGRITY_PROOF, rdfc, False, "Ed25519"),
        Cryptosuite("eddsa-2022", DATA_INTEGRITY_PROOF, rdfc, False, "Ed25519"),
        Cryptosuite(ED25519_SIGNATURE_2020, ED25519_SIGNATURE_2020, rdfc, False, "Ed25519"),
        Cryptosuite("ecdsa-rdfc-2019", DATA_INTEGRITY_PROOF, rdfc, False, "P-256"),
    ]


def suites_with(contexts: ContextLibrary = SHIPPED_CONTEXTS) -> Mapping[str, Cryptosuite]:
    return {suite.name: suite for suite in (EDDSA_JCS_2022, ECDSA_JCS_2019, *rdfc_suites(contexts))}


SUPPORTED: Mapping[str, Cryptosuite] = suites_with()
EDDSA_RDFC_2022 = SUPPORTED["eddsa-rdfc-2022"]
EDDSA_2022 = SUPPORTED["eddsa-2022"]
ED25519_2020 = SUPPORTED[ED25519_SIGNATURE_2020]
ECDSA_RDFC_2019 = SUPPORTED["ecdsa-rdfc-2019"]
