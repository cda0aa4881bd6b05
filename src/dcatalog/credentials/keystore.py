"""The issuer's keys: the private one in the instance's key store, the public ones
published from the database.

- **Private key.** ``DCATALOG_ISSUER_KEY`` (a secret Multikey ``z3u2…``) when set;
  otherwise, on the embedded SQLite default, a key generated once into
  ``<instance_dir>/issuer_key`` (mode 0600, the same pattern as the pepper). On
  PostgreSQL every app process must be given the same key, so nothing is
  generated. The private key is never stored in the database and never logged
  (``SigningKey`` does not print it).
- **Public keys.** Every key that ever signed is a row of ``issuer_key``; the
  did:web document lists them all, retired ones included, so a rotation never
  invalidates what older keys signed. A key is published before its first
  signature (``publish``), whoever signs with it.
- **Identity.** The issuer is ``did:web:<host>`` of the public address; a key's
  verification method is ``<did>#<public Multikey>``, so a key names itself and
  a verifier given the key alone (``dcatalog verify --key``) can match it.
"""

from __future__ import annotations

import base64
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dcatalog.config import Settings
from dcatalog.credentials.errors import CredentialError
from dcatalog.credentials.keys import SigningKey
from dcatalog.credentials.models import IssuerKey
from dcatalog.credentials.multikey import decode_public_key, decode_secret_key, encode_public_key
from dcatalog.db import utcnow
from dcatalog.instance import SecretUnavailable, instance_secret
from dcatalog.problems import ServiceUnavailable

KEY_FILE = "issuer_key"
DID_WEB = "did:web:"
_DID_WEB_HOST = re.compile(r"^([A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\])(:\d{1,5})?$")
_DID_WEB_SEGMENT = re.compile(r"^[A-Za-z0-9._~\-%]+$")


def load_private_key(settings: Settings) -> Ed25519PrivateKey:
    """The current signing key. Raises ``SecretUnavailable`` (PostgreSQL without
    ``DCATALOG_ISSUER_KEY``) or ``CredentialError`` (a malformed setting)."""
    if settings.issuer_key is not None:
        try:
            return decode_secret_key(settings.issuer_key.get_secret_value().strip())
        except (CredentialError, ValueError) as exc:
            raise CredentialError(
                "DCATALOG_ISSUER_KEY is not an Ed25519 secret Multikey (z3u2…)"
            ) from exc
    if not settings.is_sqlite and not (settings.instance_dir / KEY_FILE).exists():
        raise SecretUnavailable(
            "DCATALOG_ISSUER_KEY must be set to issue credentials when the database is not "
            "the embedded SQLite: every app process must sign with the same key. Create one "
            "with `dcatalog credentials rotate-key` and keep it in your secret store."
        )
    seed = instance_secret(settings, KEY_FILE, None)
    return Ed25519PrivateKey.from_private_bytes(seed[:32])


def new_private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def write_key_file(settings: Settings, key: Ed25519PrivateKey) -> Path:
    """Replace the key file atomically (mode 0600): readers see the old key or
    the new one, never half a file."""
    path = settings.instance_dir / KEY_FILE
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    seed = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(base64.urlsafe_b64encode(seed).decode("ascii") + "\n")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def publish(session: Session, public_key: Ed25519PublicKey) -> IssuerKey:
    """Make sure ``public_key`` is published; a key new to the database becomes
    the current one and the others are retired (still published). The caller
    commits."""
    multikey = encode_public_key(public_key)
    row = session.get(IssuerKey, multikey)
    if row is not None:
        return row
    now = utcnow()
    session.execute(update(IssuerKey).where(IssuerKey.retired_at.is_(None)).values(retired_at=now))
    row = IssuerKey(public_key=multikey, created_at=now)
    session.add(row)
    session.flush()
    return row


def published_keys(session: Session) -> list[IssuerKey]:
    """Every published key, the current one first."""
    rows = session.scalars(select(IssuerKey)).all()
    return sorted(rows, key=lambda k: (k.retired_at is not None, -k.created_at.timestamp()))


# --- the issuer's identity -------------------------------------------------------


def did_web(public_url: str) -> str:
    """``did:web:<host>`` for a public address; a port is written ``%3A<port>``."""
    parts = urlsplit(public_url)
    if not parts.hostname:
        raise CredentialError(f"not a public address: {public_url!r}")
    host = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
    return DID_WEB + quote(host, safe="")


def did_web_document_url(did: str) -> str:
    """Where a did:web document lives (DID Web Method §3.2, "Read"):
    ``did:web:example.org`` → ``https://example.org/.well-known/did.json``;
    ``did:web:example.org%3A8443:users:alice`` →
    ``https://example.org:8443/users/alice/did.json``. Always https, as the
    method says, also for a local address (the fetch guard decides about those)."""
    if not did.startswith(DID_WEB):
        raise CredentialError(f"not a did:web: {did!r}")
    host, *path = did[len(DID_WEB) :].split(":")
    host = unquote(host)
    if not _DID_WEB_HOST.match(host) or not all(_DID_WEB_SEGMENT.match(p) for p in path):
        raise CredentialError(f"not a did:web: {did!r}")
    if not path:
        return f"https://{host}/.well-known/did.json"
    return f"https://{host}/{'/'.join(path)}/did.json"


def verification_method(did: str, public_key: Ed25519PublicKey | str) -> str:
    multikey = public_key if isinstance(public_key, str) else encode_public_key(public_key)
    return f"{did}#{multikey}"


@dataclass(frozen=True)
class Issuer:
    """The issuer as one request sees it: its address, DID, name and current key."""

    base_url: str  # no trailing slash
    name: str
    private_key: Ed25519PrivateKey | None  # None: this process cannot sign

    @property
    def did(self) -> str:
        return did_web(self.base_url)

    def signing_key(self) -> SigningKey:
        if self.private_key is None:
            raise ServiceUnavailable(
                "This service cannot sign credentials: its issuer key is not set up "
                "(DCATALOG_ISSUER_KEY)."
            )
        return SigningKey(
            verification_method(self.did, self.private_key.public_key()), self.private_key
        )

    def public_key(self) -> Ed25519PublicKey:
        """The current key's public half (the issuer signs with Ed25519 only)."""
        return self.signing_key_private().public_key()

    def signing_key_private(self) -> Ed25519PrivateKey:
        if self.private_key is None:
            self.signing_key()  # raises the clear ServiceUnavailable
        assert self.private_key is not None
        return self.private_key

    def url(self, path: str) -> str:
        return self.base_url + path


def did_document(did: str, keys: list[IssuerKey]) -> dict[str, object]:
    """The did:web document: every published key, retired ones too, may be used
    to check an assertion (a credential) of this issuer."""
    methods = [verification_method(did, key.public_key) for key in keys]
    return {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did,
        "verificationMethod": [
            {
                "id": method,
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": key.public_key,
            }
            for method, key in zip(methods, keys, strict=True)
        ],
        "assertionMethod": methods,
    }


def keys_from_did_document(document: object) -> dict[str, Ed25519PublicKey]:
    """Verification method → public key, from a did:web document (for verifiers
    that were handed one, e.g. ``dcatalog verify --key did.json``)."""
    found: dict[str, Ed25519PublicKey] = {}
    if not isinstance(document, dict):
        return found
    assertion = document.get("assertionMethod")
    allowed = set(assertion) if isinstance(assertion, list) else set()
    for method in document.get("verificationMethod") or []:
        if not isinstance(method, dict) or method.get("id") not in allowed:
            continue
        try:
            found[str(method["id"])] = decode_public_key(str(method.get("publicKeyMultibase")))
        except (CredentialError, ValueError):
            continue
    return found
