"""Ed25519 keys as Multikey strings (``z6Mk…``) and did:key identifiers.

A Multikey is a multibase string: ``z`` (base58btc, Bitcoin alphabet) followed
by the base58 of a multicodec header and the raw key. The headers are the
unsigned-varint encodings of the multicodec codes, as the W3C Controlled
Identifiers and Data Integrity EdDSA specifications give them:

- ``ed25519-pub`` (0xed) → bytes ``ed 01``, which is why every Ed25519 public
  Multikey starts with ``z6Mk``;
- ``ed25519-priv`` (0x1300) → bytes ``80 26``, so secret Multikeys start ``z3u2``;
- ``p256-pub`` (0x1200) → bytes ``80 24`` and the 33-byte compressed point, so
  P-256 public Multikeys start ``zDn`` (Data Integrity ECDSA Cryptosuites).
"""

from __future__ import annotations

import base58
from cryptography.hazmat.primitives.asymmetric.ec import (
    SECP256R1,
    EllipticCurvePublicKey,
)
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from dcatalog.credentials.errors import CredentialError

ED25519_PUBLIC_HEADER = b"\xed\x01"
ED25519_SECRET_HEADER = b"\x80\x26"
ED25519_KEY_LENGTH = 32
P256_PUBLIC_HEADER = b"\x80\x24"
P256_COMPRESSED_LENGTH = 33
BASE58BTC_PREFIX = "z"
DID_KEY_PREFIX = "did:key:"


def encode_base58btc(data: bytes) -> str:
    """Multibase base58btc: ``z`` then the base58 (Bitcoin alphabet) of ``data``."""
    return BASE58BTC_PREFIX + base58.b58encode(data).decode("ascii")


def decode_base58btc(value: str) -> bytes:
    """The bytes of a multibase base58btc string; only the ``z`` base is accepted."""
    if not value.startswith(BASE58BTC_PREFIX):
        raise CredentialError("a multibase value must use base58btc (start with 'z')")
    try:
        return base58.b58decode(value[1:].encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise CredentialError("not a valid base58btc value") from exc


def encode_public_key(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return encode_base58btc(ED25519_PUBLIC_HEADER + raw)


def decode_public_key(multikey: str) -> Ed25519PublicKey:
    raw = _strip_header(decode_base58btc(multikey), ED25519_PUBLIC_HEADER, "public")
    return Ed25519PublicKey.from_public_bytes(raw)


def encode_p256_public_key(key: EllipticCurvePublicKey) -> str:
    point = key.public_bytes(Encoding.X962, PublicFormat.CompressedPoint)
    return encode_base58btc(P256_PUBLIC_HEADER + point)


def decode_any_public_key(multikey: str) -> Ed25519PublicKey | EllipticCurvePublicKey:
    """An Ed25519 (``z6Mk…``) or P-256 (``zDn…``) public Multikey."""
    data = decode_base58btc(multikey)
    if data.startswith(P256_PUBLIC_HEADER):
        point = data[len(P256_PUBLIC_HEADER) :]
        if len(point) != P256_COMPRESSED_LENGTH:
            raise CredentialError("not a P-256 public Multikey (33-byte compressed point)")
        try:
            return EllipticCurvePublicKey.from_encoded_point(SECP256R1(), point)
        except ValueError as exc:
            raise CredentialError("not a point on the P-256 curve") from exc
    return Ed25519PublicKey.from_public_bytes(_strip_header(data, ED25519_PUBLIC_HEADER, "public"))


def encode_secret_key(key: Ed25519PrivateKey) -> str:
    """The secret Multikey. It is a secret: store it only in the key store."""
    raw = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return encode_base58btc(ED25519_SECRET_HEADER + raw)


def decode_secret_key(multikey: str) -> Ed25519PrivateKey:
    raw = _strip_header(decode_base58btc(multikey), ED25519_SECRET_HEADER, "secret")
    return Ed25519PrivateKey.from_private_bytes(raw)


def did_key(key: Ed25519PublicKey) -> str:
    """``did:key:z6Mk…``: a DID whose document is derived from the key itself."""
    return DID_KEY_PREFIX + encode_public_key(key)


def did_key_verification_method(key: Ed25519PublicKey) -> str:
    """The did:key verification method URL, ``did:key:z6Mk…#z6Mk…``."""
    multikey = encode_public_key(key)
    return f"{DID_KEY_PREFIX}{multikey}#{multikey}"


def public_key_from_did_key(
    verification_method: str,
) -> Ed25519PublicKey | EllipticCurvePublicKey | None:
    """The public key named by a did:key verification method, or None if the URL
    is not an Ed25519 or P-256 did:key or its fragment does not repeat the key."""
    if not verification_method.startswith(DID_KEY_PREFIX):
        return None
    did, _, fragment = verification_method[len(DID_KEY_PREFIX) :].partition("#")
    if fragment and fragment != did:
        return None
    try:
        return decode_any_public_key(did)
    except (CredentialError, ValueError):
        return None


def _strip_header(data: bytes, header: bytes, kind: str) -> bytes:
    if not data.startswith(header) or len(data) != len(header) + ED25519_KEY_LENGTH:
        raise CredentialError(
            f"not an Ed25519 {kind} Multikey (header {header.hex()} and "
            f"{ED25519_KEY_LENGTH} key bytes expected)"
        )
    return data[len(header) :]
