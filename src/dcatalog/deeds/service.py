"""Recording deeds: one rule set for the API, the staff form and bulk files.

A batch is checked as a whole with a few set-based queries (existing external
ids, the citizens' earlier deeds of the same types), then each row is judged in
order against the catalog and against what came before it, in the database or
earlier in the same batch. Accepted rows are written with one multi-row insert
and the tallies with one upsert, all in the caller's transaction: nothing is
half-written, and sending the same rows again changes nothing.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any, Literal

from sqlalchemy import ARRAY, String, Table, any_, bindparam, func, literal, select, union_all
from sqlalchemy.orm import Session

from dcatalog import snapshots
from dcatalog.accounts.permissions import Scope
from dcatalog.actors import Actor
from dcatalog.agencies.service import AgencyRef, agency_ref
from dcatalog.audit import service as audit
from dcatalog.calendars.buddhist_era import today_in_thailand
from dcatalog.calendars.periods import MonthDay
from dcatalog.catalog.models import DeedType, DeedTypeVersion, VerificationPolicy
from dcatalog.catalog.service import may_record
from dcatalog.config import Settings
from dcatalog.db import bulk_insert, new_id, transactional, utcnow
from dcatalog.deeds import counted as counting
from dcatalog.deeds import reasons, tallies
from dcatalog.deeds.models import (
    EVIDENCE_MAX_CHARS,
    EXTERNAL_ID_MAX_CHARS,
    QUANTITY_DECIMALS,
    QUANTITY_DIGITS,
    Deed,
    DeedStatus,
)
from dcatalog.geo.provinces import province_code
from dcatalog.identity.citizen_key import CitizenKeyer
from dcatalog.identity.national_id import InvalidNationalId, normalise
from dcatalog.problems import (
    Conflict,
    FieldError,
    Forbidden,
    NotFound,
    ValidationProblem,
    required_text,
)

MAX_BATCH = 1000
CitizenMemo = dict[str, "tuple[str, str] | InvalidNationalId"]
_IN_CHUNK = 900  # values per IN (...) list
_COUNTING = (DeedStatus.PENDING, DeedStatus.VERIFIED)
_DEED: Table = Deed.__table__  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class DeedInput:
    national_id: str
    deed_type: str
    quantity: Decimal
    occurred_on: date
    province: str
    evidence: str
    external_id: str


@dataclass(frozen=True, slots=True)
class Rules:
    """What the checks depend on besides the catalog (from settings, and today)."""

    today: date
    max_age_days: int
    academic_start: MonthDay

    @classmethod
    def from_settings(cls, settings: Settings) -> Rules:
        """Today in Thailand, with the settings' limits."""
        return cls(
            today=today_in_thailand(),
            max_age_days=settings.deed_max_age_days,
            academic_start=settings.academic_year_start_month_day,
        )


@dataclass(slots=True)
class Outcome:
    index: int
    result: Literal["created", "unchanged", "rejected", "conflict"]
    source: Deed | dict[str, Any] | None = None  # the stored deed or the row just written
    errors: list[FieldError] = field(default_factory=list)

    @property
    def deed(self) -> dict[str, Any] | None:
        """The deed's public view (made on demand: a bulk import never asks)."""
        return deed_view(self.source) if self.source is not None else None


def credits_for(quantity: Decimal, credits_per_unit: int) -> int:
    """Credits are whole numbers, rounded down: never more than what was done."""
    return int((quantity * credits_per_unit).to_integral_value(rounding=ROUND_DOWN))


def _error(
    field_name: str | None, code: str, detail_th: str | None = None, **params: Any
) -> FieldError:
    """A refusal of one field: the English text for the API, the code for the pages."""
    # A figure as people write it: 10, not Decimal's normalised 1E+1.
    shown = {
        k: f"{v.normalize():f}" if isinstance(v, Decimal) else str(v) for k, v in params.items()
    }
    reason = reasons.Reason(code, shown)
    return FieldError(
        reason.english,
        pointer=f"#/{field_name}" if field_name else None,
        detail_th=detail_th,
        code=code,
        params=tuple(reason.params.items()),
    )


@dataclass(frozen=True, slots=True)
class _Type:
    """What the checks need of a deed type's version in force, as plain values (they
    are read for every row of a file)."""

    code: str
    version: int
    virtue_code: str
    credits_per_unit: int
    attested: bool
    owner_id: uuid.UUID
    recorders: frozenset[str]
    max_per_record: Decimal | None
    max_per_day: Decimal | None
    min_days_between: int | None
    yearly_cap: Decimal | None

    @classmethod
    def in_force(cls, session: Session, code: str) -> _Type | None:
        """The approved version in force of a deed type (a snapshot: see
        dcatalog.snapshots), or None."""

        def load() -> _Type | None:
            entry = session.get(DeedType, code)
            version = entry.in_force if entry is not None else None
            return cls.of(entry, version) if entry and version else None

        return snapshots.of(session).get(("deed_type", code), load)

    @classmethod
    def of(cls, entry: DeedType, version: DeedTypeVersion) -> _Type:
        return cls(
            code=entry.code,
            version=version.version,
            virtue_code=version.virtue_code,
            credits_per_unit=version.credits_per_unit,
            attested=version.verification_policy is VerificationPolicy.AGENCY_ATTESTED,
            owner_id=entry.owner_agency_id,
            recorders=frozenset(version.recorders),
            max_per_record=version.max_per_record,
            max_per_day=version.max_per_day,
            min_days_between=version.min_days_between,
            yearly_cap=version.yearly_cap,
        )


@dataclass
class _Prior:
    """An earlier deed of a citizen, of one type, that the checks compare with."""

    occurred_on: date
    quantity: Decimal
    agency_id: uuid.UUID
    deed_id: uuid.UUID


def _earlier_statement(postgresql: bool) -> Any:
    """The one query a batch is checked against (built once: building and keying a
    statement of this size costs more than running it). PostgreSQL takes each list
    as one array parameter (= ANY), which it plans far faster than hundreds of
    parameters; SQLite gets expanding IN lists, a chunk at a time."""

    def one_of(column: Any, name: str) -> Any:
        if postgresql:
            return column == any_(bindparam(name, type_=ARRAY(String)))
        return column.in_(bindparam(name, expanding=True))

    columns = [_DEED.c[name] for name in _STORED]
    same_id = select(literal("id").label("why"), *columns).where(
        _DEED.c.agency_id == bindparam("agency_id"), one_of(_DEED.c.external_id, "external_ids")
    )
    same_citizen = select(literal("citizen").label("why"), *columns).where(
        one_of(_DEED.c.citizen_key, "citizen_keys"),
        one_of(_DEED.c.deed_type_code, "codes"),
        _DEED.c.status.in_(_COUNTING),
    )
    return union_all(same_id, same_citizen)


_EARLIER: dict[bool, Any] = {}  # by "is PostgreSQL": built on first use, then reused


class _Batch:
    """Checks a batch of inputs for one agency."""

    def __init__(
        self,
        session: Session,
        agency: AgencyRef,
        keyer: CitizenKeyer,
        rules: Rules,
        citizens: CitizenMemo | None,
    ) -> None:
        self.session = session
        self.agency = agency
        self.keyer = keyer
        self.rules = rules
        self.types: dict[str, _Type | None] = {}
        self.allowed: dict[str, bool] = {}
        self.citizens: CitizenMemo = {} if citizens is None else citizens

    def citizen(self, national_id: str) -> tuple[str, str] | InvalidNationalId:
        """(citizen key, last 4 digits), or why the ID is not one; remembered, since
        a file names the same people again and again."""
        known = self.citizens.get(national_id)
        if known is None:
            try:
                digits = normalise(national_id)
                known = (self.keyer.key_of_digits(digits), digits[-4:])
            except InvalidNationalId as exc:
                known = exc
            self.citizens[national_id] = known
        return known

    def deed_type(self, code: str) -> _Type | None:
        if code not in self.types:
            kind = self.types[code] = _Type.in_force(self.session, code)
            self.allowed[code] = kind is not None and may_record(
                kind.recorders, kind.owner_id, self.agency
            )
        return self.types[code]

    def basic(self, item: DeedInput) -> tuple[dict[str, Any] | None, list[FieldError]]:
        """Checks that need only the row and the catalog."""
        errors: list[FieldError] = []
        values: dict[str, Any] = {}
        citizen = self.citizen(item.national_id)
        if isinstance(citizen, InvalidNationalId):
            errors.append(_error("national_id", f"id_{citizen.problem}", citizen.message_th))
        else:
            values["citizen_key"], values["id_last4"] = citizen
        kind = self.deed_type(item.deed_type.strip())
        if kind is None:
            errors.append(_error("deed_type", "type_unknown", value=item.deed_type))
        elif not self.allowed[kind.code]:
            errors.append(_error("deed_type", "type_not_allowed", value=kind.code))
        province = province_code(item.province)
        if province is None:
            errors.append(_error("province", "province_unknown", value=item.province))
        if item.quantity <= 0:
            errors.append(_error("quantity", "quantity_not_positive"))
        elif -item.quantity.as_tuple().exponent > QUANTITY_DECIMALS:  # type: ignore[operator]
            errors.append(_error("quantity", "quantity_decimals", places=QUANTITY_DECIMALS))
        elif item.quantity >= 10 ** (QUANTITY_DIGITS - QUANTITY_DECIMALS):
            errors.append(_error("quantity", "quantity_too_large"))
        elif kind and kind.max_per_record and item.quantity > kind.max_per_record:
            errors.append(
                _error("quantity", "quantity_over_record", max=kind.max_per_record.normalize())
            )
        if item.occurred_on > self.rules.today:
            errors.append(_error("occurred_on", "date_future"))
        elif item.occurred_on < self.rules.today - timedelta(days=self.rules.max_age_days):
            errors.append(_error("occurred_on", "date_too_old", days=self.rules.max_age_days))
        external_id = item.external_id.strip()
        if not external_id or len(external_id) > EXTERNAL_ID_MAX_CHARS:
            errors.append(_error("external_id", "external_id_length"))
        if len(item.evidence.strip()) > EVIDENCE_MAX_CHARS:
            errors.append(_error("evidence", "evidence_length", max=f"{EVIDENCE_MAX_CHARS:,}"))
        if errors or kind is None or province is None:
            return None, errors
        values.update(
            deed_type_code=kind.code,
            deed_type_version=kind.version,
            virtue_code=kind.virtue_code,
            agency_id=self.agency.id,
            external_id=external_id,
            quantity=item.quantity,
            occurred_on=item.occurred_on,
            province=province,
            evidence=item.evidence.strip(),
        )
        return values, []

    def earlier(
        self, external_ids: Sequence[str], citizen_keys: Sequence[str], codes: Sequence[str]
    ) -> tuple[dict[str, dict[str, Any]], dict[tuple[str, str], list[_Prior]]]:
        """What the batch is checked against: the agency's deeds under these external
        ids (by id) and the citizens' counting deeds of these types (by citizen and
        type). One query per chunk: one round trip for an API request."""
        found: dict[str, dict[str, Any]] = {}
        prior: dict[tuple[str, str], list[_Prior]] = defaultdict(list)
        connection = self.session.connection()  # Core: these rows need no ORM objects
        backend = connection.dialect.name
        postgresql = backend == "postgresql"
        if postgresql not in _EARLIER:
            _EARLIER[postgresql] = _earlier_statement(postgresql)
        statement = _EARLIER[postgresql]
        ids, keys = sorted(set(external_ids)), sorted(set(citizen_keys))
        chunk = max(len(ids), len(keys), 1) if postgresql else _IN_CHUNK
        for start in range(0, max(len(ids), len(keys)), chunk):
            parameters = {
                "agency_id": self.agency.id,
                "external_ids": ids[start : start + chunk],
                "citizen_keys": keys[start : start + chunk],
                "codes": sorted(set(codes)),
            }
            for row in connection.execute(statement, parameters).mappings():
                if row["why"] == "id":
                    found[row["external_id"]] = dict(row)
                else:
                    prior[(row["citizen_key"], row["deed_type_code"])].append(
                        _Prior(row["occurred_on"], row["quantity"], row["agency_id"], row["id"])
                    )
        return found, prior

    def plausible(
        self, values: dict[str, Any], prior: list[_Prior]
    ) -> tuple[list[FieldError], uuid.UUID | None]:
        """Checks against the citizen's earlier deeds of the type; returns errors and
        a deed of another agency this one may duplicate."""
        version = self.types[values["deed_type_code"]]
        assert version is not None  # basic() let the row through
        day, quantity = values["occurred_on"], values["quantity"]
        errors: list[FieldError] = []
        duplicate = next(
            (p.deed_id for p in prior if p.occurred_on == day and p.agency_id != self.agency.id),
            None,
        )
        # Limits count every agency's records of this person; what a refusal says
        # of them is only this agency's own (another's records are not its to see).
        mine = self.agency.id
        if version.max_per_day is not None:
            same_day = [p for p in prior if p.occurred_on == day]
            errors.extend(_over("day", version.max_per_day, same_day, quantity, mine))
        if version.min_days_between is not None:
            gap = version.min_days_between
            close = [
                p for p in prior if abs((p.occurred_on - day).days) < gap and p.deed_id != duplicate
            ]
            if close:
                nearest = min(close, key=lambda p: abs((p.occurred_on - day).days))
                errors.append(
                    _error(
                        "occurred_on",
                        "date_too_close_known",
                        days=abs((nearest.occurred_on - day).days),
                        day=nearest.occurred_on.isoformat(),
                        gap=gap,
                    )
                    if nearest.agency_id == mine
                    else _error("occurred_on", "date_too_close", gap=gap)
                )
        if version.yearly_cap is not None:
            in_year = [p for p in prior if p.occurred_on.year == day.year]
            errors.extend(
                _over("year", version.yearly_cap, in_year, quantity, mine, year=day.year + 543)
            )
        return errors, duplicate


def _over(
    window: str,
    limit: Decimal,
    counted: list[_Prior],
    quantity: Decimal,
    mine: uuid.UUID,
    **details: Any,
) -> list[FieldError]:
    """The quantity limit of a day or a year: the error if the deeds already counted
    in it and this one pass ``limit``. It names what was recorded only when every
    counted deed is this agency's own."""
    recorded = sum((p.quantity for p in counted), Decimal(0))
    if recorded + quantity <= limit:
        return []
    if all(p.agency_id == mine for p in counted):
        return [
            _error(
                "quantity",
                f"quantity_over_{window}_known",
                max=limit.normalize(),
                recorded=recorded.normalize(),
                **details,
            )
        ]
    return [_error("quantity", f"quantity_over_{window}", max=limit.normalize())]


def _same(deed: Deed | dict[str, Any], values: dict[str, Any]) -> bool:
    return all(
        counting.field(deed, name) == values[name]
        for name in ("citizen_key", "deed_type_code", "occurred_on", "province", "evidence")
    ) and Decimal(counting.field(deed, "quantity")) == Decimal(values["quantity"])


def deed_view(deed: Deed | dict[str, Any]) -> dict[str, Any]:
    """The public shape of a deed row (for API answers and reports)."""
    return {name: counting.field(deed, name) for name in _VIEW}


_VIEW = (
    "id",
    "external_id",
    "id_last4",
    "deed_type_code",
    "deed_type_version",
    "quantity",
    "occurred_on",
    "province",
    "evidence",
    "status",
    "credits",
    "status_reason",
    "recorded_at",
)
# What the checks read of stored deeds: the public view and what they compare.
_STORED = (*_VIEW, "citizen_key", "agency_id", "virtue_code", "duplicate_of")
HELD_FOR_REVIEW = reasons.HELD_FOR_REVIEW


@transactional
def record(
    session: Session,
    actor: Actor,
    keyer: CitizenKeyer,
    rules: Rules,
    items: Sequence[DeedInput],
    *,
    all_or_nothing: bool = False,
    citizens: CitizenMemo | None = None,
    write: bool = True,
) -> list[Outcome]:
    """Record deeds for the actor's agency; one outcome per item, in order.
    ``citizens`` remembers keyed IDs across the batches of one import. With
    ``write=False`` every check runs and nothing is written (a template's example
    row: "created" then means it would be)."""
    if not actor.can(Scope.DEEDS_WRITE):
        raise Forbidden("Recording deeds needs the permission deeds:write.")
    agency = agency_ref(session, actor.agency_id) if actor.agency_id else None
    if agency is None:
        raise Forbidden("Deeds are recorded by an agency's staff or keys.")
    batch = _Batch(session, agency, keyer, rules, citizens)
    outcomes: list[Outcome] = []
    checked: list[tuple[int, dict[str, Any]]] = []
    for index, item in enumerate(items):
        values, errors = batch.basic(item)
        if values is None:
            outcomes.append(Outcome(index, "rejected", errors=errors))
        else:
            outcomes.append(Outcome(index, "created"))
            checked.append((index, values))

    existing, history = batch.earlier(
        [v["external_id"] for _, v in checked],
        [v["citizen_key"] for _, v in checked],
        [v["deed_type_code"] for _, v in checked],
    )
    seen: dict[str, dict[str, Any]] = {}
    rows: list[dict[str, Any]] = []
    now = utcnow()
    for index, values in checked:
        outcome = outcomes[index]
        earlier = existing.get(values["external_id"]) or seen.get(values["external_id"])
        if earlier is not None:
            if _same(earlier, values):
                outcome.result, outcome.source = "unchanged", earlier
            else:
                outcome.result = "conflict"
                outcome.errors = [
                    _error("external_id", "external_id_reused", value=values["external_id"])
                ]
            continue
        prior = history[(values["citizen_key"], values["deed_type_code"])]
        errors, duplicate = batch.plausible(values, prior)
        if errors:
            outcome.result, outcome.errors = "rejected", errors
            continue
        version = batch.types[values["deed_type_code"]]
        assert version is not None
        status = (
            DeedStatus.VERIFIED if version.attested and duplicate is None else DeedStatus.PENDING
        )
        row = {
            **values,
            "id": new_id(),
            "status": status,
            "credits": credits_for(values["quantity"], version.credits_per_unit)
            if status is DeedStatus.VERIFIED
            else None,
            # The recording agency learns only that the deed is held, never the other
            # agency's record: that is the programme office's to see (held_pairs).
            "status_reason": HELD_FOR_REVIEW if duplicate else "",
            "duplicate_of": duplicate,
            "recorded_by": actor.label,
            "recorded_at": now,
            "decided_by": actor.label if status is DeedStatus.VERIFIED else None,
            "decided_at": now if status is DeedStatus.VERIFIED else None,
        }
        rows.append(row)
        seen[values["external_id"]] = row
        prior.append(_Prior(values["occurred_on"], values["quantity"], agency.id, row["id"]))
        outcome.source = row

    if all_or_nothing and any(o.result in ("rejected", "conflict") for o in outcomes):
        for outcome in outcomes:
            if outcome.result == "created":
                outcome.result, outcome.source = "rejected", None
                outcome.errors = [_error(None, "all_or_nothing")]
        return outcomes
    if rows and write:
        bulk_insert(session, _DEED, rows)
        verified = [r for r in rows if r["status"] is DeedStatus.VERIFIED]
        tallies.apply(session, (counted(r) for r in verified), rules.academic_start)
        counting.notify(session, counting.CountedChange(verified, +1, actor, rules.academic_start))
    return outcomes


def counted(deed: Deed | dict[str, Any]) -> tallies.Counted:
    return tallies.Counted(
        counting.field(deed, "citizen_key"),
        counting.field(deed, "deed_type_code"),
        counting.field(deed, "virtue_code"),
        counting.field(deed, "occurred_on"),
        Decimal(counting.field(deed, "quantity")),
        int(counting.field(deed, "credits") or 0),
    )


# --- reading -----------------------------------------------------------------------------


def get_own(session: Session, actor: Actor, deed_id: uuid.UUID) -> Deed:
    deed = session.get(Deed, deed_id)
    if deed is None or not actor.acts_for(deed.agency_id):
        raise NotFound("Your agency recorded no such deed.")
    return deed


def list_own(
    session: Session,
    actor: Actor,
    *,
    external_id: str | None = None,
    deed_type: str | None = None,
    status: DeedStatus | None = None,
    occurred_from: date | None = None,
    occurred_to: date | None = None,
    after: uuid.UUID | None = None,
    limit: int = 100,
) -> list[Deed]:
    """The agency's own deeds, oldest first, from the cursor ``after`` (a deed id)."""
    if actor.agency_id is None:
        raise Forbidden("Deeds are listed by an agency's staff or keys.")
    query = select(Deed).where(Deed.agency_id == actor.agency_id).order_by(Deed.id).limit(limit)
    if external_id:
        query = query.where(Deed.external_id == external_id)
    if deed_type:
        query = query.where(Deed.deed_type_code == deed_type)
    if status:
        query = query.where(Deed.status == status)
    if occurred_from:
        query = query.where(Deed.occurred_on >= occurred_from)
    if occurred_to:
        query = query.where(Deed.occurred_on <= occurred_to)
    if after:
        query = query.where(Deed.id > after)
    return list(session.scalars(query))


# --- verification --------------------------------------------------------------------------


def _decidable(
    session: Session, actor: Actor, deed_ids: Sequence[uuid.UUID], wanted: DeedStatus
) -> list[Deed]:
    """The deeds, locked, if the actor may decide them: its agency's own, or for the
    programme office the deeds held as possible duplicates across agencies."""
    if not (actor.can(Scope.DEEDS_VERIFY) or actor.is_program_office):
        raise Forbidden("Deciding on deeds needs the permission deeds:verify.")
    deeds = []
    for deed_id in deed_ids:
        deed = session.get(Deed, deed_id, with_for_update=True)
        held = deed is not None and deed.duplicate_of is not None
        if deed is None or not (
            actor.acts_for(deed.agency_id) or (held and actor.is_program_office)
        ):
            raise NotFound(f"Your agency recorded no deed {deed_id}.")
        if held and deed.status is DeedStatus.PENDING and not actor.is_program_office:
            raise Conflict(
                f"Deed {deed_id} is held for review by the programme office, which decides it."
            )
        if deed.status is not wanted:
            raise ValidationProblem(
                f"Deed {deed_id} is {deed.status.value}, not {wanted.value}.",
                errors=[FieldError(f"is {deed.status.value}", pointer="#/ids")],
            )
        deeds.append(deed)
    return deeds


def _rate(session: Session, deed: Deed) -> int:
    rate = session.scalar(
        select(DeedTypeVersion.credits_per_unit).where(
            DeedTypeVersion.deed_type_code == deed.deed_type_code,
            DeedTypeVersion.version == deed.deed_type_version,
        )
    )
    return int(rate or 0)


@transactional
def verify(
    session: Session, actor: Actor, rules: Rules, deed_ids: Sequence[uuid.UUID]
) -> list[Deed]:
    """Pending → verified: credits fixed at the version's rate, tallies updated."""
    deeds = _decidable(session, actor, deed_ids, DeedStatus.PENDING)
    now = utcnow()
    for deed in deeds:
        before = audit.snapshot(deed)
        deed.status = DeedStatus.VERIFIED
        deed.credits = credits_for(deed.quantity, _rate(session, deed))
        deed.decided_by, deed.decided_at = actor.label, now
        audit.record(session, actor, "deed.verify", deed, before=before, agency_id=deed.agency_id)
    session.flush()
    tallies.apply(session, [counted(d) for d in deeds], rules.academic_start)
    counting.notify(session, counting.CountedChange(deeds, +1, actor, rules.academic_start))
    return deeds


@transactional
def reject(session: Session, actor: Actor, deed_id: uuid.UUID, reason: str) -> Deed:
    """Pending → rejected, never counted; the citizen sees the reason."""
    required_text(reason, "reason", "Give the reason the citizen will read.")
    (deed,) = _decidable(session, actor, [deed_id], DeedStatus.PENDING)
    before = audit.snapshot(deed)
    deed.status, deed.status_reason = DeedStatus.REJECTED, reason.strip()
    deed.decided_by, deed.decided_at = actor.label, utcnow()
    audit.record(
        session, actor, "deed.reject", deed, before=before, reason=reason, agency_id=deed.agency_id
    )
    return deed


@transactional
def revoke(session: Session, actor: Actor, rules: Rules, deed_id: uuid.UUID, reason: str) -> Deed:
    """Verified → revoked (a correction): credits leave the tallies; the citizen sees why."""
    required_text(reason, "reason", "Give the reason the citizen will read.")
    (deed,) = _decidable(session, actor, [deed_id], DeedStatus.VERIFIED)
    before = audit.snapshot(deed)
    was_counted = counted(deed)
    deed.status, deed.status_reason = DeedStatus.REVOKED, reason.strip()
    deed.decided_by, deed.decided_at = actor.label, utcnow()
    audit.record(
        session, actor, "deed.revoke", deed, before=before, reason=reason, agency_id=deed.agency_id
    )
    session.flush()
    tallies.apply(session, [was_counted], rules.academic_start, sign=-1)
    change = counting.CountedChange([deed], -1, actor, rules.academic_start, reason.strip())
    counting.notify(session, change)
    return deed


def _pending_of(actor: Actor) -> list[Any]:
    if not actor.can(Scope.DEEDS_VERIFY) or actor.agency_id is None:
        raise Forbidden("The verification queue needs the permission deeds:verify.")
    return [
        Deed.agency_id == actor.agency_id,
        Deed.status == DeedStatus.PENDING,
        Deed.duplicate_of.is_(None),
    ]


def pending_queue(session: Session, actor: Actor, limit: int = 200) -> list[Deed]:
    """The agency's pending deeds that it decides (not those held for the office)."""
    query = select(Deed).where(*_pending_of(actor)).order_by(Deed.id).limit(limit)
    return list(session.scalars(query))


@dataclass(frozen=True, slots=True)
class QueuePage:
    """One page of the verification queue, with what the filters found in all."""

    deeds: list[Deed]
    total: int  # pending deeds matching the filters
    waiting: int  # pending deeds of the agency, unfiltered
    page: int
    size: int
    types: list[str]  # deed types that have pending deeds (the filter's choices)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def first(self) -> int:
        return (self.page - 1) * self.size + 1 if self.deeds else 0

    @property
    def last(self) -> int:
        return (self.page - 1) * self.size + len(self.deeds)


def queue_page(
    session: Session,
    actor: Actor,
    *,
    deed_type: str | None = None,
    occurred_from: date | None = None,
    occurred_to: date | None = None,
    page: int = 1,
    size: int = 50,
) -> QueuePage:
    """A page of the agency's pending deeds, oldest first, filtered by deed type and the
    day of the deed: a fixed handful of queries, whatever the page holds."""
    base = _pending_of(actor)
    filters = list(base)
    if deed_type:
        filters.append(Deed.deed_type_code == deed_type)
    if occurred_from:
        filters.append(Deed.occurred_on >= occurred_from)
    if occurred_to:
        filters.append(Deed.occurred_on <= occurred_to)
    counts = dict(
        session.execute(
            select(Deed.deed_type_code, func.count()).where(*base).group_by(Deed.deed_type_code)
        ).all()
    )
    total = (
        session.scalar(select(func.count()).select_from(Deed).where(*filters)) or 0
        if len(filters) > len(base)
        else sum(counts.values())
    )
    pages = max(1, -(-total // size))
    page = min(max(page, 1), pages)
    deeds = list(
        session.scalars(
            select(Deed).where(*filters).order_by(Deed.id).offset((page - 1) * size).limit(size)
        )
    )
    return QueuePage(deeds, total, sum(counts.values()), page, size, sorted(counts))


def type_names(session: Session, codes: Sequence[str], lang: str) -> dict[str, str]:
    """Deed types' names in force, in ``lang`` (the code if none)."""
    if not codes:
        return {}
    found = session.scalars(select(DeedType).where(DeedType.code.in_(list(codes))))
    names = {t.code: t.in_force.name(lang) for t in found if t.in_force}
    return {code: names.get(code, code) for code in codes}


@dataclass(frozen=True, slots=True)
class HeldPair:
    """A deed held as a possible duplicate, beside the other agency's record."""

    held: Deed
    other: Deed | None  # None if that record was since erased


def held_pairs(session: Session, actor: Actor, limit: int = 200) -> list[HeldPair]:
    """Pending deeds held because another agency recorded the same deed type for the
    same person on the same day: the programme office sees both and decides."""
    if not actor.is_program_office:
        raise Forbidden("Only the programme office reviews possible duplicates.")
    held = list(
        session.scalars(
            select(Deed)
            .where(Deed.status == DeedStatus.PENDING, Deed.duplicate_of.is_not(None))
            .order_by(Deed.id)
            .limit(limit)
        )
    )
    others = {
        deed.id: deed
        for deed in session.scalars(select(Deed).where(Deed.id.in_([d.duplicate_of for d in held])))
    }
    return [HeldPair(deed, others.get(deed.duplicate_of)) for deed in held]  # type: ignore[arg-type]
