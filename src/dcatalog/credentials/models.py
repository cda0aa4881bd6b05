"""Issued credentials, the issuer's published keys and its signed status lists.

The issuer's *private* keys are never here: they live in the instance's key
store (see ``keystore``). The database keeps the public keys, every one ever
used, so that key rotation keeps older credentials verifiable.

Revocation bits are not stored as a bitstring: a credential is revoked when its
``revoked_at`` is set, and the published Bitstring Status List is computed from
those rows (one source of truth, no lost update when two revocations race).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from dcatalog.db import Base, UTCDateTime, new_id, utcnow


class IssuerKey(Base):
    """A public key of the issuer, published in the did:web document. The newest
    one without ``retired_at`` is the current key; retired keys stay published."""

    __tablename__ = "issuer_key"

    public_key: Mapped[str] = mapped_column(String(64), primary_key=True)  # Multikey z6Mk…
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class IssuedCredential(Base):
    """One signed Open Badges credential of one citizen (a transcript of a total,
    or later an award). ``document`` is the signed JSON exactly as issued;
    ``deed_ids`` are the verified deeds it rests on (revoking one revokes it).
    ``short_id`` makes its public address ``/c/<short_id>``, open only while the
    citizen shares it."""

    __tablename__ = "issued_credential"
    __table_args__ = (
        UniqueConstraint("status_list", "status_index"),
        Index("ix_issued_credential_citizen", "citizen_key", "issued_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    short_id: Mapped[str] = mapped_column(String(16), unique=True)
    citizen_key: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # transcript | award
    subject: Mapped[str] = mapped_column(String(80))  # type:<code> | virtue:<code>
    period: Mapped[str] = mapped_column(String(32))  # lifetime | academic_year:2568 …
    deed_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    status_list: Mapped[int] = mapped_column(Integer)  # the list's number (/credentials/status/<n>)
    status_index: Mapped[int] = mapped_column(Integer)  # drawn at random, never reused
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revocation_reason: Mapped[str] = mapped_column(Text, default="")
    shared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    share_withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    document: Mapped[str] = mapped_column(Text)

    @property
    def shared(self) -> bool:
        return self.shared_at is not None and self.share_withdrawn_at is None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


class PublishedStatusList(Base):
    """A status list credential as signed and published at one address: every app
    host serves this same document until a bit changes, the key changes or it
    nears its ``validUntil``; then whoever comes first (a reader, or the workers'
    periodic republishing) signs the next one (``credentials.status_lists``)."""

    __tablename__ = "published_status_list"

    base_url: Mapped[str] = mapped_column(String(300), primary_key=True)  # the issuer's address
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    bits_sha256: Mapped[str] = mapped_column(String(64))  # of the bitstring it publishes
    key_id: Mapped[str] = mapped_column(String(300))  # the verification method that signed it
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime)
