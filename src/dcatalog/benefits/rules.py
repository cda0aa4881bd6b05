"""Eligibility rules as data (DESIGN.md §3): parsing and checking.

A rule is JSON: ``{"all": [...]}`` or ``{"any": [...]}`` (nesting freely), or
one condition::

    {"deed_type": "kys.volunteer_activity", "measure": "quantity",
     "period": "academic_year", "offset": -1, "at_least": 36}

A condition names a deed type or a virtue; a measure (``count``, ``quantity``,
``credits``); a period (``lifetime``, ``calendar_year``, ``fiscal_year``,
``academic_year`` with an ``offset`` in years, 0 = the current one, -1 = the
one before; or ``rolling_days`` with ``days``); a bound ``at_least`` (more
than 0: benefits are reached by thresholds). Optionally it counts only deeds
recorded by one agency (``recorded_by``) or by any other than one
(``not_recorded_by``): a university's own sub-rule, for instance "at least 4 of
the hours outside the university". No ``eval``: a rule is parsed into these
types, and anything else is refused with the place and the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from dcatalog.problems import FieldError, ValidationProblem

Measure = Literal["count", "quantity", "credits"]
PeriodName = Literal["lifetime", "calendar_year", "fiscal_year", "academic_year", "rolling_days"]
MEASURES: tuple[Measure, ...] = ("count", "quantity", "credits")
PERIODS: tuple[PeriodName, ...] = (
    "lifetime",
    "calendar_year",
    "fiscal_year",
    "academic_year",
    "rolling_days",
)
_CONDITION_KEYS = {
    "deed_type",
    "virtue",
    "measure",
    "period",
    "offset",
    "days",
    "at_least",
    "recorded_by",
    "not_recorded_by",
}
# The Student Loan Fund's renewal rule: 36 volunteer hours in the previous academic
# year. The staff form shows it as the example; the demo's renewal benefit uses it.
LOAN_RENEWAL_RULE: dict[str, Any] = {
    "all": [
        {
            "deed_type": "kys.volunteer_activity",
            "measure": "quantity",
            "period": "academic_year",
            "offset": -1,
            "at_least": 36,
        }
    ]
}
MAX_DEPTH = 5
MAX_CONDITIONS = 20


@dataclass(frozen=True)
class Condition:
    subject: str  # as tallies name it: "type:<code>" or "virtue:<code>"
    measure: Measure
    period: PeriodName
    at_least: Decimal
    offset: int = 0  # years back, for the year periods
    days: int = 0  # for rolling_days
    recorded_by: str | None = None
    not_recorded_by: str | None = None

    @property
    def from_tallies(self) -> bool:
        """Tallies answer it (fast); otherwise the deeds themselves are read."""
        return self.period != "rolling_days" and not (self.recorded_by or self.not_recorded_by)


@dataclass(frozen=True)
class Group:
    op: Literal["all", "any"]
    parts: tuple[Rule, ...]


Rule = Condition | Group


class RuleError(ValidationProblem):
    """A malformed rule: says where (a JSON Pointer into the rule) and why."""

    def __init__(self, pointer: str, message: str) -> None:
        super().__init__(
            f"The eligibility rule is not valid: {message} (at {pointer or '/'}).",
            errors=[FieldError(message, pointer=f"#/rule{pointer}")],
        )


def parse(data: Any) -> Rule:
    """A checked rule from its JSON form, or ``RuleError``."""
    return _parse(data, "", 0, [0])


def _parse(data: Any, at: str, depth: int, counter: list[int]) -> Rule:
    if not isinstance(data, dict):
        raise RuleError(at, 'a rule is an object: {"all": [...]}, {"any": [...]} or a condition')
    if depth > MAX_DEPTH:
        raise RuleError(at, f"rules nest at most {MAX_DEPTH} levels deep")
    groups = [key for key in ("all", "any") if key in data]
    if groups:
        if len(data) != 1:
            raise RuleError(at, 'a group has exactly one key, "all" or "any"')
        op = groups[0]
        parts = data[op]
        if not isinstance(parts, list) or not parts:
            raise RuleError(f"{at}/{op}", "a group lists at least one rule")
        return Group(
            op,  # type: ignore[arg-type]
            tuple(_parse(p, f"{at}/{op}/{i}", depth + 1, counter) for i, p in enumerate(parts)),
        )
    counter[0] += 1
    if counter[0] > MAX_CONDITIONS:
        raise RuleError(at, f"a rule has at most {MAX_CONDITIONS} conditions")
    return _condition(data, at)


def _condition(data: dict[str, Any], at: str) -> Condition:
    unknown = sorted(set(data) - _CONDITION_KEYS)
    if unknown:
        raise RuleError(f"{at}/{unknown[0]}", f"unknown key {unknown[0]!r}")
    if ("deed_type" in data) == ("virtue" in data):
        raise RuleError(at, 'a condition names either a "deed_type" or a "virtue"')
    kind = "deed_type" if "deed_type" in data else "virtue"
    code = data[kind]
    if not isinstance(code, str) or not code.strip():
        raise RuleError(f"{at}/{kind}", "must be a code")
    subject = f"{'type' if kind == 'deed_type' else 'virtue'}:{code.strip()}"
    measure = data.get("measure")
    if measure not in MEASURES:
        raise RuleError(f"{at}/measure", f"must be one of {', '.join(MEASURES)}")
    period = data.get("period")
    if period not in PERIODS:
        raise RuleError(f"{at}/period", f"must be one of {', '.join(PERIODS)}")
    offset, days = data.get("offset", 0), data.get("days", 0)
    if period in ("calendar_year", "fiscal_year", "academic_year"):
        if not isinstance(offset, int) or isinstance(offset, bool) or not -10 <= offset <= 0:
            raise RuleError(f"{at}/offset", "must be a whole number from -10 to 0")
    elif "offset" in data:
        raise RuleError(f"{at}/offset", f"has no meaning for {period}")
    if period == "rolling_days":
        if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 3660:
            raise RuleError(f"{at}/days", 'rolling_days needs "days" from 1 to 3660')
    elif "days" in data:
        raise RuleError(f"{at}/days", 'only rolling_days takes "days"')
    bound = data.get("at_least")
    try:
        at_least = Decimal(str(bound)) if isinstance(bound, int | float | str) else None
    except InvalidOperation:
        at_least = None
    if isinstance(bound, bool) or at_least is None or not at_least.is_finite() or at_least <= 0:
        raise RuleError(f"{at}/at_least", "must be a number above 0")
    if at_least.as_tuple().exponent < -2:  # type: ignore[operator]
        raise RuleError(f"{at}/at_least", "has at most 2 decimal places, like quantities")
    agencies = {}
    for key in ("recorded_by", "not_recorded_by"):
        if key in data:
            value = data[key]
            if not isinstance(value, str) or not value.strip():
                raise RuleError(f"{at}/{key}", "must be an agency code")
            agencies[key] = value.strip()
    if len(agencies) > 1:
        raise RuleError(at, 'use "recorded_by" or "not_recorded_by", not both')
    return Condition(
        subject=subject,
        measure=measure,
        period=period,
        at_least=at_least,
        offset=offset if period != "rolling_days" and period != "lifetime" else 0,
        days=days if period == "rolling_days" else 0,
        **agencies,
    )


def conditions(rule: Rule) -> list[Condition]:
    """The conditions of a rule, in order (depth first)."""
    if isinstance(rule, Condition):
        return [rule]
    return [c for part in rule.parts for c in conditions(part)]


def to_json(rule: Rule) -> dict[str, Any]:
    """The JSON form of a parsed rule (``parse(to_json(r)) == r``)."""
    if isinstance(rule, Group):
        return {rule.op: [to_json(p) for p in rule.parts]}
    kind, _, code = rule.subject.partition(":")
    out: dict[str, Any] = {
        "deed_type" if kind == "type" else "virtue": code,
        "measure": rule.measure,
        "period": rule.period,
    }
    if rule.period in ("calendar_year", "fiscal_year", "academic_year"):
        out["offset"] = rule.offset
    if rule.period == "rolling_days":
        out["days"] = rule.days
    out["at_least"] = (
        int(rule.at_least) if rule.at_least == rule.at_least.to_integral() else str(rule.at_least)
    )
    if rule.recorded_by:
        out["recorded_by"] = rule.recorded_by
    if rule.not_recorded_by:
        out["not_recorded_by"] = rule.not_recorded_by
    return out
