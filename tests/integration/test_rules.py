"""The rule engine: one citizen's evaluator and the batch SQL give the same
answers and figures on random deeds and random rules (hypothesis), on SQLite
and PostgreSQL; malformed rules are refused with the place and the reason."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from dcatalog.agencies.service import get_agency
from dcatalog.benefits import rules
from dcatalog.benefits.evaluation import check_references, evaluate, everyone
from dcatalog.benefits.rules import RuleError
from dcatalog.db import new_id, utcnow
from dcatalog.deeds import tallies
from dcatalog.deeds.models import Deed, DeedStatus
from dcatalog.demo.service import load_demo

pytestmark = pytest.mark.demo_data  # on the demo's reference data, loaded once

TODAY = date(2026, 11, 26)  # fixed: the periods must not move under the examples
ACADEMIC_START = (5, 16)
CITIZENS = ["citizen-a", "citizen-b", "citizen-c"]
TYPES = {  # deed type → virtue (the demo catalog)
    "kys.volunteer_activity": "volunteering",
    "redcross.blood_donation": "volunteering",
    "thaihealth.activity_challenge": "health",
}
AGENCIES = ["demouniv", "korat_hospital", "thaihealth"]
FUND_RENEWAL = {
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

# Days on the edges of the periods as seen from TODAY (first and last days of the
# calendar, fiscal and academic years, and of the rolling windows drawn below),
# where an off-by-one would hide.
EDGES = sorted(
    {
        (TODAY - d).days
        for d in (date(2026, 1, 1), date(2025, 12, 31), date(2025, 1, 1), date(2024, 12, 31))
    }
    | {
        (TODAY - d).days
        for d in (date(2026, 10, 1), date(2026, 9, 30), date(2025, 10, 1), date(2025, 9, 30))
    }
    | {
        (TODAY - d).days
        for d in (date(2026, 5, 16), date(2026, 5, 15), date(2025, 5, 16), date(2025, 5, 15))
    }
    | {0, 1, 6, 7, 29, 30, 364, 365}
)
WINDOWS = [1, 7, 30, 365]

deeds_strategy = st.lists(
    st.tuples(
        st.sampled_from(CITIZENS),
        st.sampled_from(sorted(TYPES)),
        st.decimals(min_value="0.01", max_value="30", places=2),
        st.one_of(st.integers(0, 500), st.sampled_from(EDGES)),  # days ago
        st.sampled_from(AGENCIES),
        st.sampled_from([DeedStatus.VERIFIED, DeedStatus.VERIFIED, DeedStatus.REVOKED]),
    ),
    min_size=3,
    max_size=40,
)


@st.composite
def conditions_strategy(draw: st.DrawFn) -> dict[str, Any]:
    subject = draw(
        st.one_of(
            st.sampled_from(sorted(TYPES)).map(lambda c: {"deed_type": c}),
            st.sampled_from(sorted(set(TYPES.values()))).map(lambda c: {"virtue": c}),
        )
    )
    period = draw(st.sampled_from(rules.PERIODS))
    condition = {
        **subject,
        "measure": draw(st.sampled_from(rules.MEASURES)),
        "period": period,
        "at_least": str(draw(st.decimals(min_value="0.01", max_value="25", places=2))),
    }
    if period in ("calendar_year", "fiscal_year", "academic_year"):
        condition["offset"] = draw(st.integers(-2, 0))
    if period == "rolling_days":
        condition["days"] = draw(st.one_of(st.sampled_from(WINDOWS), st.integers(1, 800)))
    agency = draw(st.sampled_from([None, "recorded_by", "not_recorded_by"]))
    if agency:
        condition[agency] = draw(st.sampled_from(AGENCIES))
    return condition


rules_strategy = st.recursive(
    conditions_strategy(),
    lambda children: st.one_of(
        st.lists(children, min_size=1, max_size=3).map(lambda parts: {"all": parts}),
        st.lists(children, min_size=1, max_size=3).map(lambda parts: {"any": parts}),
    ),
    max_leaves=6,
)


def add_deeds(session: Session, rows: list[tuple[Any, ...]]) -> None:
    agency_ids = {code: get_agency(session, code).id for code in AGENCIES}
    for n, (citizen, kind, quantity, days_ago, agency, status) in enumerate(rows):
        session.add(
            Deed(
                id=new_id(),
                citizen_key=citizen,
                id_last4="0000",
                deed_type_code=kind,
                deed_type_version=1,
                virtue_code=TYPES[kind],
                agency_id=agency_ids[agency],
                external_id=f"prop-{n}-{uuid.uuid4().hex[:8]}",
                quantity=quantity,
                occurred_on=TODAY - timedelta(days=days_ago),
                province="TH-10",
                evidence="",
                status=status,
                credits=int(quantity * 10),
                recorded_by="test",
                recorded_at=utcnow(),
            )
        )
    session.flush()
    tallies.rebuild(session, ACADEMIC_START)


@pytest.fixture
def catalog(session: Session) -> Session:
    load_demo(session)
    return session


@settings(
    max_examples=100,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(deeds=deeds_strategy, data=rules_strategy)
def test_one_citizen_and_everyone_agree(
    catalog: Session, deeds: list[tuple[Any, ...]], data: dict[str, Any]
) -> None:
    session = catalog
    rule = rules.parse(data)
    savepoint = session.begin_nested()
    try:
        add_deeds(session, deeds)
        batch = everyone(session, rule, TODAY, ACADEMIC_START)
        wanted = rules.conditions(rule)
        for citizen in CITIZENS:
            verdict = evaluate(session, rule, citizen, TODAY, ACADEMIC_START)
            met, figures = batch.get(citizen, (False, [Decimal("0.00")] * len(wanted)))
            assert verdict.met == met, (citizen, data)
            have = {f.condition: f.have for f in verdict.figures}
            assert [have[c] for c in wanted] == figures, (citizen, data)
            # (see --hypothesis-show-statistics: the examples must not all be trivial)
            event("someone meets the rule" if met else "nobody meets it")
            event("a figure above 0" if any(figures) else "all figures 0")
    finally:
        savepoint.rollback()


def test_the_student_loan_rule_explains_itself(catalog: Session) -> None:
    session = catalog
    last_year = TODAY.replace(year=TODAY.year - 1)  # in the academic year before this one
    add_deeds(
        session,
        [
            ("citizen-a", "kys.volunteer_activity", Decimal(10), (TODAY - last_year).days, "demouniv", DeedStatus.VERIFIED),
            ("citizen-a", "kys.volunteer_activity", Decimal(20), (TODAY - last_year).days + 3, "demouniv", DeedStatus.VERIFIED),
            ("citizen-a", "kys.volunteer_activity", Decimal(9), 5, "demouniv", DeedStatus.VERIFIED),  # this year: not counted
        ],
    )  # fmt: skip
    rule = rules.parse(FUND_RENEWAL)
    verdict = evaluate(session, rule, "citizen-a", TODAY, ACADEMIC_START)
    assert not verdict.met
    (figure,) = verdict.figures
    assert figure.have == Decimal(30)
    assert figure.missing == Decimal(6)
    assert figure.window.key == "academic_year:2568"
    assert everyone(session, rule, TODAY, ACADEMIC_START)["citizen-a"][0] is False


def test_a_university_sub_rule_counts_only_hours_outside_it(catalog: Session) -> None:
    session = catalog
    add_deeds(
        session,
        [
            ("citizen-a", "kys.volunteer_activity", Decimal(36), 200, "demouniv", DeedStatus.VERIFIED),
            ("citizen-a", "kys.volunteer_activity", Decimal(3), 210, "thaihealth", DeedStatus.VERIFIED),
        ],
    )  # fmt: skip
    layered = {
        "all": [
            {"deed_type": "kys.volunteer_activity", "measure": "quantity", "period": "lifetime", "at_least": 36},
            {"deed_type": "kys.volunteer_activity", "measure": "quantity", "period": "lifetime", "at_least": 4, "not_recorded_by": "demouniv"},
        ]
    }  # fmt: skip
    verdict = evaluate(session, rules.parse(layered), "citizen-a", TODAY, ACADEMIC_START)
    assert not verdict.met
    assert [f.have for f in verdict.unmet] == [Decimal(3)]


@pytest.mark.parametrize(
    ("data", "pointer", "words"),
    [
        ([], "#/rule", "is an object"),
        ({"all": []}, "#/rule/all", "at least one rule"),
        ({"all": [{"deed_type": "x", "measure": "weight", "period": "lifetime", "at_least": 1}]}, "#/rule/all/0/measure", "count, quantity, credits"),
        ({"deed_type": "x", "virtue": "y", "measure": "count", "period": "lifetime", "at_least": 1}, "#/rule", "either"),
        ({"deed_type": "x", "measure": "count", "period": "lifetime", "at_least": 0}, "#/rule/at_least", "above 0"),
        ({"deed_type": "x", "measure": "count", "period": "lifetime", "at_least": "1.001"}, "#/rule/at_least", "2 decimal"),
        ({"deed_type": "x", "measure": "count", "period": "academic_year", "offset": 1, "at_least": 1}, "#/rule/offset", "-10 to 0"),
        ({"deed_type": "x", "measure": "count", "period": "rolling_days", "at_least": 1}, "#/rule/days", "days"),
        ({"deed_type": "x", "measure": "count", "period": "lifetime", "at_least": 1, "eval": "1"}, "#/rule/eval", "unknown key"),
        ({"any": [{"all": [{"any": [{"all": [{"any": [{"all": [{"deed_type": "x", "measure": "count", "period": "lifetime", "at_least": 1}]}]}]}]}]}]}, "#/rule", "levels deep"),
    ],
)  # fmt: skip
def test_a_malformed_rule_is_refused_with_where_and_why(
    data: Any, pointer: str, words: str
) -> None:
    with pytest.raises(RuleError) as refused:
        rules.parse(data)
    assert refused.value.status == 422
    (error,) = refused.value.errors
    assert error.pointer.startswith(pointer)
    assert words in error.detail


def test_a_rule_naming_what_does_not_exist(catalog: Session) -> None:
    with pytest.raises(RuleError, match="not in the catalog"):
        check_references(catalog, rules.parse({"deed_type": "nope.nothing", "measure": "count", "period": "lifetime", "at_least": 1}))  # fmt: skip
    with pytest.raises(RuleError, match="not a partner agency"):
        check_references(catalog, rules.parse({"virtue": "volunteering", "measure": "count", "period": "lifetime", "at_least": 1, "recorded_by": "acme"}))  # fmt: skip


@given(rules_strategy)
def test_a_rule_survives_its_json_form(data: dict[str, Any]) -> None:
    rule = rules.parse(data)
    assert rules.parse(rules.to_json(rule)) == rule
