from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from dcatalog.credentials.errors import CredentialError
from dcatalog.credentials.keys import SigningKey, StaticKeyResolver, first_of, resolve_did_key
from dcatalog.credentials.multikey import (
    decode_base58btc,
    decode_public_key,
    decode_secret_key,
    did_key,
    did_key_verification_method,
    encode_base58btc,
    encode_public_key,
    encode_secret_key,
    public_key_from_did_key,
)


def _raw(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes_raw()


@given(st.binary(max_size=80))
def test_base58btc_round_trips_any_bytes(data: bytes) -> None:
    encoded = encode_base58btc(data)
    assert encoded.startswith("z")
    assert decode_base58btc(encoded) == data


def test_ed25519_multikeys_have_the_well_known_prefixes() -> None:
    key = Ed25519PrivateKey.generate()
    public, secret = encode_public_key(key.public_key()), encode_secret_key(key)
    assert public.startswith("z6Mk")
    assert secret.startswith("z3u2")
    assert _raw(decode_secret_key(secret)) == _raw(key)
    assert decode_public_key(public).public_bytes_raw() == _raw(key)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "u6Mk",  # base64url, not base58btc
        "z0OIl",  # characters outside the base58 alphabet
        encode_base58btc(b"\xed\x01" + bytes(31)),  # one byte short
        encode_base58btc(b"\x80\x26" + bytes(32)),  # a secret key where a public one is due
    ],
)
def test_malformed_public_multikeys_are_refused(bad: str) -> None:
    with pytest.raises(CredentialError):
        decode_public_key(bad)


def test_did_key_resolves_only_its_own_key() -> None:
    key = Ed25519PrivateKey.generate().public_key()
    method = did_key_verification_method(key)
    assert method == f"{did_key(key)}#{encode_public_key(key)}"
    resolved = public_key_from_did_key(method)
    assert resolved is not None
    assert resolved.public_bytes_raw() == key.public_bytes_raw()
    other = encode_public_key(Ed25519PrivateKey.generate().public_key())
    assert public_key_from_did_key(f"{did_key(key)}#{other}") is None
    assert public_key_from_did_key("did:web:example.org#key-1") is None
    assert public_key_from_did_key("did:key:zNotAKey") is None


def test_static_resolver_knows_rotated_keys_and_nothing_else() -> None:
    old, new = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    resolver = StaticKeyResolver.from_multikeys(
        {
            "https://dcatalog.example/issuer#key-2025": encode_public_key(old.public_key()),
            "https://dcatalog.example/issuer#key-2026": encode_public_key(new.public_key()),
        }
    )
    found = resolver("https://dcatalog.example/issuer#key-2025")
    assert found is not None
    assert found.public_bytes_raw() == _raw(old)
    assert resolver("https://dcatalog.example/issuer#key-2027") is None
    either = first_of(resolver, resolve_did_key)
    assert either(did_key_verification_method(old.public_key())) is not None


def test_signing_key_never_shows_its_secret() -> None:
    key = Ed25519PrivateKey.generate()
    signing = SigningKey(did_key_verification_method(key.public_key()), key)
    secret = encode_secret_key(key)
    assert secret not in repr(signing)
    assert secret[1:] not in str(signing)
    assert signing.public_multikey == encode_public_key(key.public_key())
