"""Evaluating a rule: for one citizen, with the figures that explain the answer,
and compiled to SQL for everyone at once (batch reports). Both read the same
verified deeds (through the tallies where a tally answers the condition) and
tests hold them to the same answers on random data.

Quantities are compared rounded to 2 decimal places, as they are stored: SQLite
sums them as floating point, and 0.1 + 0.2 must still reach 0.3.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Numeric, and_, case, cast, func, literal, or_, select, union_all
from sqlalchemy.orm import Session

from dcatalog.agencies.models import Agency
from dcatalog.benefits.rules import Condition, Group, Rule, RuleError, conditions
from dcatalog.calendars.periods import (
    MonthDay,
    Period,
    PeriodKind,
    academic_year,
    calendar_year,
    fiscal_year,
    period_bounds,
    period_from_key,
)
from dcatalog.catalog.models import DeedType, Virtue
from dcatalog.deeds.models import Deed, DeedStatus, Tally

_CENT = Decimal("0.01")


@dataclass(frozen=True)
class Window:
    """Where a condition looks: a tally period key, and the same as dates."""

    key: str  # "lifetime", "academic_year:2568", "rolling_days:365"
    start: date | None
    end: date | None

    def closed(self, today: date) -> bool:
        """The window ended before today: nothing done from now on counts in it."""
        return self.end is not None and self.end < today


def window(condition: Condition, today: date, academic_start: MonthDay) -> Window:
    if condition.period == "lifetime":
        return Window("lifetime", None, None)
    if condition.period == "rolling_days":
        return Window(
            f"rolling_days:{condition.days}", today - timedelta(days=condition.days - 1), today
        )
    kind = PeriodKind(condition.period)
    year = {
        PeriodKind.CALENDAR_YEAR: calendar_year(today),
        PeriodKind.FISCAL_YEAR: fiscal_year(today),
        PeriodKind.ACADEMIC_YEAR: academic_year(today, academic_start),
    }[kind] + condition.offset
    period = period_bounds(kind, year, academic_start)
    return Window(period.key, period.start, period.end)


@dataclass(frozen=True)
class Figure:
    """One condition, and how far the citizen is."""

    condition: Condition
    window: Window
    have: Decimal

    @property
    def met(self) -> bool:
        return self.have >= self.condition.at_least

    @property
    def missing(self) -> Decimal:
        return max(self.condition.at_least - self.have, Decimal(0))


@dataclass(frozen=True)
class Verdict:
    met: bool
    figures: list[Figure]

    @property
    def unmet(self) -> list[Figure]:
        return [f for f in self.figures if not f.met]


@dataclass(frozen=True)
class Ahead:
    """A condition that looks back at a year already closed (``offset`` below 0,
    like the Fund's renewal: the previous academic year) cannot be helped by
    anything done now. What is done now counts in the year open today, which the
    same rule looks at ``-offset`` years later: ``figure`` is the condition on
    the year open today, ``counts_for`` the period in which the rule will look
    at it."""

    closed: Figure
    figure: Figure
    now_for: Period  # the year open today, in which the rule looks at the closed one
    counts_for: Period


def ahead(
    session: Session,
    verdict: Verdict,
    citizen_key: str,
    today: date,
    academic_start: MonthDay,
    tallies: TallyIndex | None = None,
) -> list[Ahead]:
    """For each figure of a verdict on a closed year, the same condition on the
    year open today (read the same way, from the tallies or the deeds)."""
    closed = [f for f in verdict.figures if f.condition.offset < 0 and f.window.closed(today)]
    if not closed:
        return []
    open_now = Group("all", tuple(replace(f.condition, offset=0) for f in closed))
    now = {
        f.condition: f
        for f in evaluate(session, open_now, citizen_key, today, academic_start, tallies).figures
    }
    found = []
    for past in closed:
        figure = now[replace(past.condition, offset=0)]
        this_year = period_from_key(figure.window.key, academic_start)
        assert this_year.year is not None  # offsets exist only on year periods
        later = period_bounds(
            this_year.kind, this_year.year - past.condition.offset, academic_start
        )
        found.append(Ahead(past, figure, this_year, later))
    return found


def check_references(session: Session, rule: Rule) -> None:
    """Every deed type, virtue and agency a rule names exists (else ``RuleError``)."""
    types = set(session.scalars(select(DeedType.code)))
    virtues = set(session.scalars(select(Virtue.code)))
    agencies = set(session.scalars(select(Agency.code)))
    for condition in conditions(rule):
        kind, _, code = condition.subject.partition(":")
        if (kind == "type" and code not in types) or (kind == "virtue" and code not in virtues):
            raise RuleError("", f"{condition.subject} is not in the catalog")
        for agency in (condition.recorded_by, condition.not_recorded_by):
            if agency and agency not in agencies:
                raise RuleError("", f"{agency!r} is not a partner agency")


def _agency_ids(session: Session, rule: Rule) -> dict[str, uuid.UUID]:
    codes = {code for c in conditions(rule) for code in (c.recorded_by, c.not_recorded_by) if code}
    if not codes:
        return {}
    return dict(session.execute(select(Agency.code, Agency.id).where(Agency.code.in_(codes))).all())


def _measure(deed: Deed, measure: str) -> Decimal:
    if measure == "count":
        return Decimal(1)
    if measure == "credits":
        return Decimal(deed.credits or 0)
    return Decimal(deed.quantity)


def evaluate(
    session: Session,
    rule: Rule,
    citizen_key: str,
    today: date,
    academic_start: MonthDay,
    tallies: TallyIndex | None = None,
) -> Verdict:
    """Does this citizen meet the rule today, and with which figures (``tallies``:
    hers, read once for several rules)."""
    return evaluate_many(session, rule, {citizen_key: today}, academic_start, tallies)[citizen_key]


_MANY_CHUNK = 500  # citizens per tally query when evaluating many at once


TallyIndex = dict[tuple[str, str, str], Tally]  # (citizen_key, subject, period) → tally


def read_tallies(session: Session, subjects: Iterable[str], keys: Sequence[str]) -> TallyIndex:
    """The tallies of these citizens and subjects, in chunks of citizens (one query each)."""
    wanted = set(subjects)
    found: TallyIndex = {}
    for start in range(0, len(keys) if wanted else 0, _MANY_CHUNK):
        query = select(Tally).where(
            Tally.citizen_key.in_(keys[start : start + _MANY_CHUNK]), Tally.subject.in_(wanted)
        )
        found.update({(t.citizen_key, t.subject, t.period): t for t in session.scalars(query)})
    return found


def evaluate_many(
    session: Session,
    rule: Rule,
    days: Mapping[str, date],
    academic_start: MonthDay,
    tallies: TallyIndex | None = None,
) -> dict[str, Verdict]:
    """``evaluate`` for many citizens, each on their own day (for milestones, the
    day of the deed that may reach one). Tallies are read in chunks (or given,
    read once for several rules); the deeds only for the citizens a condition
    needs them for."""
    wanted = conditions(rule)
    if tallies is None:
        tallies = read_tallies(session, (c.subject for c in wanted if c.from_tallies), list(days))
    agencies = _agency_ids(session, rule)
    verdicts = {}
    for citizen_key, today in days.items():
        deeds: list[Deed] = []
        if any(not c.from_tallies for c in wanted):
            deeds = list(
                session.scalars(
                    select(Deed).where(
                        Deed.citizen_key == citizen_key, Deed.status == DeedStatus.VERIFIED
                    )
                )
            )
        figures: dict[Condition, Figure] = {}
        for condition in wanted:
            span = window(condition, today, academic_start)
            if condition.from_tallies:
                tally = tallies.get((citizen_key, condition.subject, span.key))
                have = Decimal(getattr(tally, condition.measure)) if tally else Decimal(0)
            else:
                have = _added_up(deeds, condition, span, agencies)
            figures[condition] = Figure(condition, span, have.quantize(_CENT))
        verdicts[citizen_key] = Verdict(_holds(rule, figures), list(figures.values()))
    return verdicts


def first_met(
    session: Session,
    rule: Rule,
    citizen_key: str,
    days: Iterable[date],
    academic_start: MonthDay,
) -> date | None:
    """The first of ``days`` on which the rule held, counting only the deeds done
    by then (read from the deeds: a lifetime tally cannot say "by then"). For a
    milestone reached within a batch of several deeds of one citizen."""
    deeds = list(
        session.scalars(
            select(Deed)
            .where(Deed.citizen_key == citizen_key, Deed.status == DeedStatus.VERIFIED)
            .order_by(Deed.occurred_on)
        )
    )
    agencies = _agency_ids(session, rule)
    for day in sorted(set(days)):
        done = [d for d in deeds if d.occurred_on <= day]
        figures = {}
        for condition in conditions(rule):
            span = window(condition, day, academic_start)
            have = _added_up(done, condition, span, agencies)
            figures[condition] = Figure(condition, span, have.quantize(_CENT))
        if _holds(rule, figures):
            return day
    return None


def _added_up(
    deeds: list[Deed], condition: Condition, span: Window, agencies: dict[str, uuid.UUID]
) -> Decimal:
    """The condition's measure over the deeds that count for it in the window."""
    return sum(
        (_measure(d, condition.measure) for d in deeds if _counts(d, condition, span, agencies)),
        Decimal(0),
    )


def _counts(deed: Deed, condition: Condition, span: Window, agencies: dict[str, uuid.UUID]) -> bool:
    kind, _, code = condition.subject.partition(":")
    if (deed.deed_type_code if kind == "type" else deed.virtue_code) != code:
        return False
    if span.start is not None and deed.occurred_on < span.start:
        return False
    if span.end is not None and deed.occurred_on > span.end:
        return False
    if condition.recorded_by and deed.agency_id != agencies.get(condition.recorded_by):
        return False
    return not (
        condition.not_recorded_by and deed.agency_id == agencies.get(condition.not_recorded_by)
    )


def _holds(rule: Rule, figures: dict[Condition, Figure]) -> bool:
    if isinstance(rule, Condition):
        return figures[rule].met
    results = (_holds(part, figures) for part in rule.parts)
    return all(results) if rule.op == "all" else any(results)


# --- the same rule as SQL, for everyone at once ---------------------------------------


def batch_query(
    session: Session,
    rule: Rule,
    today: date,
    academic_start: MonthDay,
    *,
    citizen_keys: Any = None,
) -> Any:
    """A query of (citizen_key, met, c0, c1, …) for every citizen with at least one
    counted deed that a condition looks at; c<i> is the figure of the i-th
    condition (in the order of ``conditions(rule)``). Citizens absent from it meet
    no condition (every bound is above 0). ``citizen_keys`` (a SELECT of keys, e.g.
    from a temporary table, or a list) limits it to those citizens: a batch report
    reads only the citizens it was asked about."""
    wanted = conditions(rule)
    agencies = _agency_ids(session, rule)
    spans = [window(c, today, academic_start) for c in wanted]
    tally_columns, deed_columns = [], []
    tally_filters, deed_filters = [], []
    for i, (condition, span) in enumerate(zip(wanted, spans, strict=True)):
        name = f"c{i}"
        if condition.from_tallies:
            hit = and_(Tally.subject == condition.subject, Tally.period == span.key)
            tally_columns.append(
                case((hit, getattr(Tally, condition.measure)), else_=0).label(name)
            )
            deed_columns.append(literal(0).label(name))
            tally_filters.append(hit)
        else:
            hit = _deed_filter(condition, span, agencies)
            value = {"count": literal(1), "quantity": Deed.quantity, "credits": Deed.credits}[
                condition.measure
            ]
            deed_columns.append(case((hit, value), else_=0).label(name))
            tally_columns.append(literal(0).label(name))
            deed_filters.append(hit)
    parts = []
    if tally_filters:
        part = select(Tally.citizen_key, *tally_columns).where(or_(*tally_filters))
        if citizen_keys is not None:
            part = part.where(Tally.citizen_key.in_(citizen_keys))
        parts.append(part)
    if deed_filters:
        part = select(Deed.citizen_key, *deed_columns).where(
            Deed.status == DeedStatus.VERIFIED, or_(*deed_filters)
        )
        if citizen_keys is not None:
            part = part.where(Deed.citizen_key.in_(citizen_keys))
        parts.append(part)
    rows = (union_all(*parts) if len(parts) > 1 else parts[0]).subquery("counted")
    sums = [
        func.round(cast(func.sum(rows.c[f"c{i}"]), Numeric(18, 2)), 2).label(f"c{i}")
        for i in range(len(wanted))
    ]
    grouped = select(rows.c.citizen_key, *sums).group_by(rows.c.citizen_key).subquery("sums")
    figures = {c: grouped.c[f"c{i}"] for i, c in enumerate(wanted)}
    met = case((_sql_holds(rule, figures), 1), else_=0).label("met")
    return select(grouped.c.citizen_key, met, *(grouped.c[f"c{i}"] for i in range(len(wanted))))


def _deed_filter(condition: Condition, span: Window, agencies: dict[str, uuid.UUID]) -> Any:
    kind, _, code = condition.subject.partition(":")
    parts = [(Deed.deed_type_code if kind == "type" else Deed.virtue_code) == code]
    if span.start is not None:
        parts.append(Deed.occurred_on >= span.start)
    if span.end is not None:
        parts.append(Deed.occurred_on <= span.end)
    if condition.recorded_by:
        parts.append(Deed.agency_id == agencies.get(condition.recorded_by))
    if condition.not_recorded_by and condition.not_recorded_by in agencies:
        parts.append(Deed.agency_id != agencies[condition.not_recorded_by])
    return and_(*parts)


def _sql_holds(rule: Rule, figures: dict[Condition, Any]) -> Any:
    if isinstance(rule, Condition):
        return figures[rule] >= rule.at_least
    parts = [_sql_holds(part, figures) for part in rule.parts]
    return and_(*parts) if rule.op == "all" else or_(*parts)


def everyone(
    session: Session, rule: Rule, today: date, academic_start: MonthDay
) -> dict[str, tuple[bool, list[Decimal]]]:
    """The batch answer as a dict (for tests and small reports)."""
    found = {}
    for row in session.execute(batch_query(session, rule, today, academic_start)):
        found[row[0]] = (bool(row[1]), [Decimal(str(v or 0)).quantize(_CENT) for v in row[2:]])
    return found
