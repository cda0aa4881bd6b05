"""The issuer's signing key, and how a verifier finds the public key of a proof.

A proof names its key by a verification method URL. The verifier turns that URL
into a public key through a ``KeyResolver``: the service's own published keys
(old ones stay, so key rotation keeps older credentials verifiable) or, for
keys that describe themselves, did:key. A URL no resolver knows gives "unknown
key", never a network fetch: verification must work offline.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ec import (
    ECDSA,
    EllipticCurvePrivateKey,
    EllipticCurvePublicKey,
)
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from dcatalog.credentials.multikey import (
    decode_public_key,
    decode_secret_key,
    encode_p256_public_key,
    encode_public_key,
    public_key_from_did_key,
)

PublicKey = Ed25519PublicKey | EllipticCurvePublicKey
PrivateKey = Ed25519PrivateKey | EllipticCurvePrivateKey
KeyResolver = Callable[[str], PublicKey | None]
P256_COORDINATE_BYTES = 32


class KeyUnavailable(Exception):
    """A resolver could not look the key up (network, size, a bad document): the
    signature cannot be checked, which is not the same as it being wrong."""


@dataclass(frozen=True)
class SigningKey:
    """A private key and the verification method URL that proofs will name."""

    verification_method: str
    private_key: PrivateKey = field(repr=False)

    @classmethod
    def from_secret_multikey(cls, secret_multikey: str, verification_method: str) -> SigningKey:
        return cls(verification_method, decode_secret_key(secret_multikey))

    @property
    def public_key(self) -> PublicKey:
        return self.private_key.public_key()

    @property
    def public_multikey(self) -> str:
        public = self.public_key
        if isinstance(public, EllipticCurvePublicKey):
            return encode_p256_public_key(public)
        return encode_public_key(public)

    def sign(self, data: bytes) -> bytes:
        """Ed25519, or ECDSA P-256 with SHA-256 written as r ‖ s (IEEE P1363),
        as the ECDSA cryptosuites require (not DER)."""
        if isinstance(self.private_key, EllipticCurvePrivateKey):
            r, s = decode_dss_signature(self.private_key.sign(data, ECDSA(hashes.SHA256())))
            return r.to_bytes(P256_COORDINATE_BYTES, "big") + s.to_bytes(
                P256_COORDINATE_BYTES, "big"
            )
        return self.private_key.sign(data)

    def __repr__(self) -> str:  # never print the key material, even in a traceback
        return f"SigningKey(verification_method={self.verification_method!r})"


def resolve_did_key(verification_method: str) -> PublicKey | None:
    """did:key needs no lookup: the key is in the identifier."""
    return public_key_from_did_key(verification_method)


class StaticKeyResolver:
    """Known verification methods, e.g. the issuer's current and retired keys."""

    def __init__(self, keys: Mapping[str, PublicKey]) -> None:
        self._keys = dict(keys)

    @classmethod
    def from_multikeys(cls, multikeys: Mapping[str, str]) -> StaticKeyResolver:
        return cls({url: decode_public_key(value) for url, value in multikeys.items()})

    def __call__(self, verification_method: str) -> PublicKey | None:
        return self._keys.get(verification_method)


def first_of(*resolvers: KeyResolver) -> KeyResolver:
    """A resolver that asks each of ``resolvers`` in turn."""

    def resolve(verification_method: str) -> PublicKey | None:
        unavailable: KeyUnavailable | None = None
        for resolver in resolvers:
            try:
                key = resolver(verification_method)
            except KeyUnavailable as exc:
                unavailable = exc
                continue
            if key is not None:
                return key
        if unavailable is not None:
            raise unavailable
        return None

    return resolve
