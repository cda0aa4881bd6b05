"""The two EdDSA cryptosuites of W3C "Data Integrity EdDSA Cryptosuites v1.0".

They share everything (Ed25519 over SHA-256(proof config) ‖ SHA-256(document))
except how a JSON document becomes bytes:

- ``eddsa-jcs-2022``: RFC 8785 canonical JSON. Every byte of meaning is signed,
  no JSON-LD processing is needed, verification is fast and works on any JSON.
- ``eddsa-rdfc-2022``: JSON-LD expanded with its contexts, then RDFC-1.0. What
  Open Badges 3.0 conformance tools and most wallets expect.

The jcs proof also carries the document's ``@context`` (the spec's proof
configuration copies it in, and the verifier checks the document still starts
with it); the rdfc proof does not, as the W3C test vectors show.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from dcatalog.credentials import canonical_json, rdf_canonicalization
from dcatalog.credentials.jsonld_contexts import SHIPPED_CONTEXTS, ContextLibrary

Canonicalizer = Callable[[Mapping[str, Any]], bytes]


@dataclass(frozen=True)
class Cryptosuite:
    name: str
    canonicalize: Canonicalizer
    proof_carries_context: bool


EDDSA_JCS_2022 = Cryptosuite("eddsa-jcs-2022", canonical_json.canonicalize, True)


def eddsa_rdfc_2022(contexts: ContextLibrary = SHIPPED_CONTEXTS) -> Cryptosuite:
    """The rdfc suite using ``contexts`` (tests add the W3C vectors' example contexts)."""

    def canonicalize(document: Mapping[str, Any]) -> bytes:
        return rdf_canonicalization.canonicalize(document, contexts)

    return Cryptosuite("eddsa-rdfc-2022", canonicalize, False)


EDDSA_RDFC_2022 = eddsa_rdfc_2022()

SUPPORTED: Mapping[str, Cryptosuite] = {
    suite.name: suite for suite in (EDDSA_JCS_2022, EDDSA_RDFC_2022)
}
