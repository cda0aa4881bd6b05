"""The catalog's rules: who drafts, who approves, what a version may say.

Lifecycle of a version (``dcatalog.review``): draft → submitted → approved (→ superseded by the next
approved version, or retired with its deed type). A draft can be edited in
place; anything submitted is frozen, and changing an approved entry starts a
new draft version. Only the programme office approves and retires. Every
change goes to the audit trail.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from dcatalog import review
from dcatalog.accounts.permissions import Scope
from dcatalog.actors import Actor
from dcatalog.agencies.models import Agency, AgencyKind
from dcatalog.audit import service as audit
from dcatalog.catalog.models import DeedType, DeedTypeVersion, Virtue
from dcatalog.catalog.schemas import UNITS, DeedTypeFields, NewDeedType
from dcatalog.db import transactional, utcnow
from dcatalog.problems import (
    Conflict,
    FieldError,
    NotFound,
    ValidationProblem,
    missing_permission,
    required_text,
)
from dcatalog.review import ReviewStatus

# The fields of a version that its rules and texts consist of, in display order.
VERSION_FIELDS = tuple(DeedTypeFields.model_fields)


def list_virtues(session: Session) -> Sequence[Virtue]:
    return session.scalars(select(Virtue).order_by(Virtue.position, Virtue.code)).all()


# --- reading ---------------------------------------------------------------------


def deed_type_names(session: Session, lang: str) -> dict[str, str]:
    """Every deed type's name in one language (its version in force, else its
    latest): what pages show instead of a code."""
    found = {}
    for entry in session.scalars(select(DeedType).order_by(DeedType.code)):
        version = entry.in_force or (entry.versions[-1] if entry.versions else None)
        if version is not None:
            found[entry.code] = version.name(lang)
    return found


def get_deed_type(session: Session, code: str) -> DeedType:
    deed_type = session.get(DeedType, code)
    if deed_type is None:
        raise NotFound(f"There is no deed type {code!r} in the catalog.")
    return deed_type


def get_own(session: Session, actor: Actor, code: str) -> DeedType:
    """An entry the actor's agency owns (any, for the programme office); another
    agency's entries are "not found": they are none of its business."""
    entry = session.get(DeedType, code)
    if entry is None or not (actor.is_program_office or actor.acts_for(entry.owner_agency_id)):
        raise NotFound(f"Your agency has no deed type {code!r}.")
    return entry


def get_public(session: Session, code: str) -> DeedType:
    """An entry the public may see: approved and in force."""
    deed_type = session.get(DeedType, code)
    if deed_type is None or deed_type.in_force is None:
        raise NotFound(f"There is no deed type {code!r} in the catalog.")
    return deed_type


def search_public(
    session: Session,
    *,
    virtue: str | None = None,
    agency: str | None = None,
    text: str | None = None,
    after: str | None = None,
    limit: int = 50,
) -> list[DeedType]:
    """Approved entries in force, by code, filtered; ``after`` is the cursor (a code)."""
    query = (
        select(DeedType)
        .join(
            DeedTypeVersion,
            (DeedTypeVersion.deed_type_code == DeedType.code)
            & (DeedTypeVersion.version == DeedType.current_version),
        )
        .join(Agency, Agency.id == DeedType.owner_agency_id)
        .where(DeedType.retired_at.is_(None))
        .order_by(DeedType.code)
        .limit(limit)
    )
    if virtue:
        query = query.where(DeedTypeVersion.virtue_code == virtue)
    if agency:
        query = query.where(Agency.code == agency)
    if after:
        query = query.where(DeedType.code > after)
    if text and text.strip():
        pattern = f"%{text.strip().lower()}%"
        query = query.where(
            or_(
                func.lower(DeedTypeVersion.name_th).like(pattern),
                func.lower(DeedTypeVersion.name_en).like(pattern),
                func.lower(DeedTypeVersion.description_th).like(pattern),
                func.lower(DeedTypeVersion.description_en).like(pattern),
                DeedType.code.like(pattern),
            )
        )
    return list(session.scalars(query).unique())


def list_for_agency(session: Session, actor: Actor) -> Sequence[DeedType]:
    """Every entry of the actor's agency (all of them for the programme office)."""
    query = select(DeedType).order_by(DeedType.code)
    if not actor.is_program_office:
        query = query.where(DeedType.owner_agency_id == actor.agency_id)
    return session.scalars(query).unique().all()


def list_submitted(session: Session, actor: Actor) -> Sequence[DeedTypeVersion]:
    _require(actor, Scope.CATALOG_APPROVE)
    query = (
        select(DeedTypeVersion)
        .where(DeedTypeVersion.status == ReviewStatus.SUBMITTED)
        .order_by(DeedTypeVersion.submitted_at)
    )
    return session.scalars(query).all()


def get_version(deed_type: DeedType, number: int) -> DeedTypeVersion:
    version = next((v for v in deed_type.versions if v.version == number), None)
    if version is None:
        raise NotFound(f"{deed_type.code} has no version {number}.")
    return version


class Recorder(Protocol):
    """An agency as far as recording rights go (a row, or a snapshot of one)."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def code(self) -> str: ...
    @property
    def kind(self) -> AgencyKind: ...


def may_record(recorders: Collection[str], owner_id: uuid.UUID, agency: Recorder) -> bool:
    """The owner records its own deed types; others only if listed by code or kind
    (``recorders`` of the version in force)."""
    if agency.id == owner_id:
        return True
    return agency.code in recorders or f"kind:{agency.kind.value}" in recorders


@dataclass(frozen=True)
class Change:
    field: str
    before: Any
    after: Any


def _values(source: DeedTypeVersion | DeedTypeFields) -> dict[str, Any]:
    """A version's rules and texts by field name, from a stored version or from input."""
    if isinstance(source, DeedTypeFields):
        data = source.model_dump()
        data["recorders"] = sorted(set(source.recorders))
        return {name: data[name] for name in VERSION_FIELDS}
    return {
        name: getattr(source, "virtue_code" if name == "virtue" else name)
        for name in VERSION_FIELDS
    }


def diff(before: DeedTypeVersion | None, after: DeedTypeVersion | DeedTypeFields) -> list[Change]:
    """What a version (or an input) changes compared with another (the one in force)."""
    old = _values(before) if before is not None else dict.fromkeys(VERSION_FIELDS)
    new = _values(after)
    return [Change(name, old[name], new[name]) for name in VERSION_FIELDS if old[name] != new[name]]


def diff_fields(version: DeedTypeVersion, fields: DeedTypeFields) -> list[str]:
    """Which fields a version would change to take these values."""
    return [change.field for change in diff(version, fields)]


# --- drafting (the owner agency) ----------------------------------------------------


def _require(actor: Actor, scope: Scope) -> None:
    if not actor.can(scope):
        raise missing_permission(scope.value)


def _require_author(actor: Actor, owner_id: Any) -> None:
    """Drafts belong to the owner agency (the programme office may draft for any)."""
    if actor.is_program_office:
        return
    _require(actor, Scope.CATALOG_WRITE)
    if not actor.acts_for(owner_id):
        raise NotFound("Your agency has no such deed type.")


def _checked(session: Session, fields: DeedTypeFields) -> dict[str, Any]:
    errors = []
    if session.get(Virtue, fields.virtue) is None:
        errors.append(FieldError("no such virtue", pointer="#/virtue"))
    if fields.unit not in UNITS:
        errors.append(FieldError(f"one of {', '.join(UNITS)}", pointer="#/unit"))
    kinds = {kind.value for kind in AgencyKind}
    codes = {token for token in fields.recorders if not token.startswith("kind:")}
    known = set(session.scalars(select(Agency.code).where(Agency.code.in_(codes))))
    for index, token in enumerate(fields.recorders):
        if token.startswith("kind:") and token[5:] not in kinds:
            errors.append(FieldError("no such kind of agency", pointer=f"#/recorders/{index}"))
        elif not token.startswith("kind:") and token not in known:
            errors.append(FieldError("no such agency", pointer=f"#/recorders/{index}"))
    if errors:
        raise ValidationProblem(
            "Some fields of the deed type are not valid; see errors.", errors=errors
        )
    values = fields.model_dump(exclude={"name"})
    values["virtue_code"] = values.pop("virtue")
    values["recorders"] = sorted(set(fields.recorders))
    return values


@transactional
def create_deed_type(
    session: Session, actor: Actor, owner: Agency, fields: NewDeedType
) -> DeedType:
    """A new entry with version 1 as a draft."""
    _require_author(actor, owner.id)
    code = f"{owner.code}.{fields.name}"
    if session.get(DeedType, code) is not None:
        raise Conflict(f"The catalog already has {code}.")
    values = _checked(session, fields)
    deed_type = DeedType(code=code, owner_agency_id=owner.id)
    session.add(deed_type)
    version = DeedTypeVersion(
        deed_type=deed_type, version=1, status=ReviewStatus.DRAFT, created_by=actor.label, **values
    )
    session.add(version)
    audit.record(session, actor, "deed_type.create", version, agency_id=owner.id)
    return deed_type


@transactional
def save_draft(
    session: Session, actor: Actor, deed_type: DeedType, fields: DeedTypeFields
) -> DeedTypeVersion:
    """Edit the open draft, or start a new draft version from the one in force."""
    _require_author(actor, deed_type.owner_agency_id)
    values = _checked(session, fields)
    draft = deed_type.open_version
    if draft is not None and draft.status is ReviewStatus.SUBMITTED:
        raise Conflict(
            f"Version {draft.version} is with the programme office; wait for its decision."
        )
    if deed_type.retired_at is not None:
        raise Conflict(f"{deed_type.code} is retired.")
    before = audit.snapshot(draft) if draft is not None else None
    if draft is None:
        number = max(v.version for v in deed_type.versions) + 1
        draft = DeedTypeVersion(
            deed_type=deed_type, version=number, status=ReviewStatus.DRAFT, created_by=actor.label
        )
        session.add(draft)
    for name, value in values.items():
        setattr(draft, name, value)
    audit.record(
        session,
        actor,
        "deed_type.save_draft",
        draft,
        before=before,
        agency_id=deed_type.owner_agency_id,
    )
    return draft


@transactional
def submit(session: Session, actor: Actor, deed_type: DeedType) -> DeedTypeVersion:
    _require_author(actor, deed_type.owner_agency_id)
    draft = deed_type.open_version
    if draft is None:
        raise Conflict(f"{deed_type.code} has no draft to submit.")
    review.move(
        session, actor, draft, "submit", name=deed_type.code, action="deed_type.submit",
        agency_id=deed_type.owner_agency_id,
    )  # fmt: skip
    return draft


# --- deciding (the programme office) -------------------------------------------------


def _submitted(deed_type: DeedType, number: int) -> DeedTypeVersion:
    version = get_version(deed_type, number)
    if version.status is not ReviewStatus.SUBMITTED:
        raise Conflict(
            f"Version {number} of {deed_type.code} is {version.status.value}, not submitted."
        )
    return version


@transactional
def approve(
    session: Session, actor: Actor, deed_type: DeedType, number: int, note: str = ""
) -> DeedTypeVersion:
    """Put a submitted version in force; the one it replaces is kept as superseded."""
    _require(actor, Scope.CATALOG_APPROVE)
    version = _submitted(deed_type, number)
    agency_id = deed_type.owner_agency_id
    previous = deed_type.in_force
    if previous is not None:
        review.move(
            session, actor, previous, "supersede", name=deed_type.code,
            action="deed_type.supersede", agency_id=agency_id,
        )  # fmt: skip
    review.move(
        session, actor, version, "approve", name=deed_type.code, action="deed_type.approve",
        agency_id=agency_id, note=note,
    )  # fmt: skip
    deed_type.current_version = version.version
    return version


@transactional
def send_back(
    session: Session, actor: Actor, deed_type: DeedType, number: int, note: str
) -> DeedTypeVersion:
    """Return a submitted version to its agency as a draft, saying what to change."""
    _require(actor, Scope.CATALOG_APPROVE)
    version = _submitted(deed_type, number)
    review.move(
        session, actor, version, "send_back", name=deed_type.code, action="deed_type.send_back",
        agency_id=deed_type.owner_agency_id, note=note,
    )  # fmt: skip
    return version


@transactional
def retire(session: Session, actor: Actor, deed_type: DeedType, reason: str) -> DeedType:
    """No new deeds of this type; deeds already recorded keep counting."""
    _require(actor, Scope.CATALOG_APPROVE)
    required_text(reason, "reason", "Say why it is retired.")
    version = deed_type.in_force
    if version is None:
        raise Conflict(f"{deed_type.code} is not in force.")
    review.move(
        session, actor, version, "retire", name=deed_type.code, action="deed_type.retire",
        agency_id=deed_type.owner_agency_id, note=reason,
    )  # fmt: skip
    deed_type.retired_at = utcnow()
    return deed_type
