"""Who people are, as this instance knows them, and what binds the instance.

A citizen is known only by the citizen key (the keyed hash of the national ID):
the ID arrives at sign-in, is keyed at once and never stored.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dcatalog.db import Base, UTCDateTime, new_id, utcnow


def new_alias() -> str:
    return secrets.token_hex(8)


class Citizen(Base):
    """Someone who signed in at least once. ``born_on`` comes from the identity
    provider and decides whether a guardian must consent (under 20: a minor in
    Thai law, PDPA s.20)."""

    __tablename__ = "citizen"

    citizen_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    # How the audit trail and public proposals name the person: random, not derived
    # from the key, so that erasure (which deletes this row) unlinks every such
    # mention at once without rewriting the append-only audit trail.
    alias: Mapped[str] = mapped_column(String(32), unique=True, default=new_alias)
    born_on: Mapped[date | None] = mapped_column(Date)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CitizenSession(Base):
    """A citizen's signed-in browser. Only a hash of the cookie's token is stored."""

    __tablename__ = "citizen_session"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    citizen_key: Mapped[str] = mapped_column(ForeignKey("citizen.citizen_key"), index=True)
    method: Mapped[str] = mapped_column(String(32))  # "oidc:<provider>" or "demo"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    citizen: Mapped[Citizen] = relationship(lazy="joined")


class InstanceMeta(Base):
    """Facts about this installation that every process must agree on
    (for example the fingerprint of the citizen-key pepper)."""

    __tablename__ = "instance_meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
