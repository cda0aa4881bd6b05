"""Writing the audit trail, in the same transaction as the change it records."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import structlog
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from dcatalog.accounts.permissions import Scope
from dcatalog.actors import Actor
from dcatalog.audit.models import AuditEvent
from dcatalog.db import Base
from dcatalog.problems import Forbidden

# Never copied into the trail: secrets stay where they are.
# Secrets, and citizen keys: the audited row itself keeps its key (and erasure moves
# it), but a copy in the append-only trail would link the person back afterwards.
_NEVER_SNAPSHOT = {"password_hash", "key_hash", "token_hash", "citizen_key", "guardian_key"}


PAGE = 100


def list_events(
    session: Session, actor: Actor, *, entity_id: str | None = None, before: str | None = None
) -> list[AuditEvent]:
    """Newest first, a page at a time (``before``: the id of the last event seen)."""
    if not actor.can(Scope.AUDIT_READ):
        raise Forbidden("Reading the audit trail needs the permission audit:read.")
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(PAGE)
    if entity_id:
        query = query.where(AuditEvent.entity_id == entity_id)
    if before:
        try:
            query = query.where(AuditEvent.id < uuid.UUID(before))
        except ValueError:
            return []
    return list(session.scalars(query))


def snapshot(record: Base) -> dict[str, Any]:
    """A JSON-safe copy of a record's columns (secrets left out)."""
    values: dict[str, Any] = {}
    for column in inspect(record).mapper.column_attrs:
        if column.key in _NEVER_SNAPSHOT:
            continue
        values[column.key] = _json_safe(getattr(record, column.key))
    return values


def _json_safe(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    return value


def record(
    session: Session,
    actor: Actor,
    action: str,
    entity: Base,
    *,
    before: dict[str, Any] | None = None,
    reason: str = "",
    agency_id: uuid.UUID | None = None,
) -> AuditEvent:
    """Add an audit event for ``entity`` as it is now; the caller commits."""
    session.flush()  # the entity's id and defaults exist before we copy them
    after = snapshot(entity)
    identity = inspect(entity).identity or ("",)
    event = AuditEvent(
        actor=actor.label,
        agency_id=agency_id or actor.agency_id,
        action=action,
        entity_type=type(entity).__tablename__,
        entity_id=",".join(str(part) for part in identity),
        before=before,
        after=after,
        reason=reason,
        request_id=str(structlog.contextvars.get_contextvars().get("request_id", "")),
    )
    session.add(event)
    return event
