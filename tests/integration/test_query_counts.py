"""Query-count guards for the hot pages and API routes.

A page that issues one query per row (N+1) is fast in a test and slow for a
citizen with a long record or an agency with a million deeds. Each route here
is read twice, with few rows behind it and with ten times as many: the number
of SQL statements must not grow, and must stay within the baseline written
here. A deterministic guard, not a timing: raise a baseline only with a reason
in the commit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from functools import partial
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from dcatalog.accounts import service as accounts
from dcatalog.accounts.permissions import Scope
from dcatalog.actors import SYSTEM, Actor
from dcatalog.agencies.service import get_agency
from dcatalog.calendars.buddhist_era import today_in_thailand
from dcatalog.deeds import service
from dcatalog.demo.service import load_demo
from dcatalog.identity.citizen_key import CitizenKeyer
from tests import factories
from tests.conftest import TEST_PEPPER

nid = partial(factories.nid, series="77")
KEYER = CitizenKeyer(TEST_PEPPER.encode())
TODAY = today_in_thailand()
RULES = service.Rules(today=TODAY, max_age_days=730, academic_start=(5, 16))

# The most statements each route may issue (sign-in lookups included).
BASELINES = {"/me": 40, "/api/v1/deeds": 12, "/catalog": 12, "/catalog/kys.volunteer_activity": 15}


@contextmanager
def counting(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def seen(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", seen)


def _queries(statements: list[str]) -> list[str]:
    """What the route asked of the database (not the test's savepoints)."""
    return [s for s in statements if not s.upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK"))]


def _university(session: Session) -> tuple[Actor, str]:
    agency = get_agency(session, "demouniv")
    scopes = ("deeds:write", "deeds:verify")
    key, plain = accounts.create_api_key(session, SYSTEM, agency, "guard", scopes)
    return Actor.api_key(key.prefix, key.agency_id, frozenset(Scope(s) for s in scopes)), plain


def _record(session: Session, actor: Actor, national_id: str, count: int, start: int) -> None:
    deeds = [
        service.DeedInput(
            national_id=national_id,
            deed_type="kys.volunteer_activity",
            quantity=Decimal(1),
            occurred_on=TODAY - timedelta(days=start + n),
            province="TH-10",
            evidence="certificate",
            external_id=f"guard-{national_id}-{start + n}",
        )
        for n in range(count)
    ]
    outcomes = service.record(session, actor, KEYER, RULES, deeds)
    assert all(o.result == "created" for o in outcomes), [o.errors for o in outcomes]
    service.verify(session, actor, RULES, [o.deed["id"] for o in outcomes])


@pytest.fixture
def demo(session: Session) -> tuple[Actor, str]:
    load_demo(session)
    return _university(session)


def test_my_good_deeds_asks_the_same_queries_for_a_long_record(
    client: TestClient, session: Session, engine: Engine, demo: tuple[Actor, str]
) -> None:
    actor, _key = demo
    citizen = nid(1)
    # 40 records, then 80: the same benefits are met both times (what is met adds
    # its own claim checks), so only the length of the record differs.
    _record(session, actor, citizen, 40, start=1)
    factories.sign_in_citizen(client, session, citizen)
    with counting(engine) as few:
        assert client.get("/me").status_code == 200
    _record(session, actor, citizen, 40, start=41)
    with counting(engine) as many:
        page = client.get("/me")
    assert page.status_code == 200
    assert "80" in page.text  # her 80 hours
    assert len(_queries(many)) == len(_queries(few)), _queries(many)
    assert len(_queries(many)) <= BASELINES["/me"], _queries(many)


def _offer(session: Session, count: int, first: int = 0) -> None:
    """``count`` more benefits on offer, each asking for another number of hours in
    this academic year or the last."""
    from dcatalog.benefits import service as benefits
    from dcatalog.benefits.models import BenefitKind

    kys = get_agency(session, "kys")
    for i in range(first, first + count):
        condition = {"deed_type": "kys.volunteer_activity", "measure": "quantity"}
        period = {"period": "academic_year", "offset": -(i % 2), "at_least": 5 + i}
        rule = {"all": [{**condition, **period}]}
        benefit = benefits.define(
            session,
            SYSTEM,
            kys,
            code=f"kys.guard_{i}",
            kind=BenefitKind.RECOGNITION,
            rule=rule,
            name_th=f"ทดสอบ {i}",
            name_en=f"Guard {i}",
        )
        benefits.submit(session, SYSTEM, benefit)
        benefits.approve(session, SYSTEM, benefit)


def test_my_good_deeds_asks_the_same_queries_for_more_benefits(
    client: TestClient, session: Session, engine: Engine, demo: tuple[Actor, str]
) -> None:
    """Where she stands toward each benefit on offer is read at once for them all:
    ten more benefits on offer ask the database nothing more."""
    actor, _key = demo
    citizen = nid(3)
    _record(session, actor, citizen, 12, start=1)
    factories.sign_in_citizen(client, session, citizen)
    _offer(session, 2)
    with counting(engine) as few:
        assert client.get("/me").status_code == 200
    _offer(session, 10, first=2)
    with counting(engine) as many:
        page = client.get("/me")
    assert page.status_code == 200
    assert "Guard 11" in page.text or "ทดสอบ 11" in page.text  # the new ones are listed
    assert len(_queries(many)) == len(_queries(few)), _queries(many)


def test_the_deeds_list_asks_the_same_queries_for_many_deeds(
    client: TestClient, session: Session, engine: Engine, demo: tuple[Actor, str]
) -> None:
    actor, key = demo
    _record(session, actor, nid(2), 3, start=1)
    headers = {"Authorization": f"Bearer {key}"}
    # The first use looks the key up and notes when it was last used; later ones
    # find it in the key cache: measure two later reads.
    assert client.get("/api/v1/deeds", headers=headers).status_code == 200
    with counting(engine) as few:
        answer = client.get("/api/v1/deeds", headers=headers)
    assert answer.status_code == 200, answer.text
    for n in range(3, 30):
        _record(session, actor, nid(n), 1, start=1)
    with counting(engine) as many:
        answer = client.get("/api/v1/deeds", headers=headers)
    assert answer.status_code == 200
    assert len(answer.json()["items"]) >= 30
    assert len(_queries(many)) == len(_queries(few)), _queries(many)
    assert len(_queries(many)) <= BASELINES["/api/v1/deeds"], _queries(many)


@pytest.mark.parametrize("path", ["/catalog", "/catalog/kys.volunteer_activity"])
def test_the_public_catalog_stays_within_its_baseline(
    client: TestClient, engine: Engine, demo: tuple[Actor, str], path: str
) -> None:
    with counting(engine) as statements:
        assert client.get(path).status_code == 200
    assert len(_queries(statements)) <= BASELINES[path], _queries(statements)
