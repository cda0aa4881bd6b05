"""The programme dashboard: the rollup kept by recording, verifying and revoking;
the snapshot's figures against a count from scratch and its cell-key
perturbation; small cells hidden in every view and in the CSV, and nothing
else; who may see it; the refresh; the map's provinces. On both databases."""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session

from dcatalog.accounts.permissions import Role
from dcatalog.agencies.service import get_agency
from dcatalog.benefits.models import Award
from dcatalog.calendars.buddhist_era import today_in_thailand
from dcatalog.calendars.periods import fiscal_year
from dcatalog.db import Database, bulk_insert, create_db_engine, new_id, utcnow
from dcatalog.deeds.models import Deed, DeedStatus, Tally
from dcatalog.demo.service import load_demo
from dcatalog.geo.provinces import PROVINCES
from dcatalog.stats import periods, perturbation, rollups, service, snapshot, thailand_map
from dcatalog.stats.models import CellStatus, StatsCell, StatsRefresh, StatsRollup
from dcatalog.stats.service import Filters
from dcatalog.stats.suppression import THRESHOLD
from tests.conftest import DemoTemplate, copy_demo, demo_env
from tests.factories import csrf_from, make_account, make_agency, sign_in
from tests.helpers import run_cli
from tests.integration.test_deeds import RULES, deed, key_actor, nid, record

TODAY = today_in_thailand()
YEAR = fiscal_year(TODAY)
# Deed types of the demo catalog, with the agency that records them.
KINDS = (
    ("redcross.blood_donation", "volunteering", "korat_hospital"),
    ("kys.volunteer_activity", "volunteering", "demouniv"),
    ("thaihealth.activity_challenge", "health", "thaihealth"),
)


@pytest.fixture
def demo(session: Session) -> None:
    load_demo(session)


def rollup_rows(session: Session) -> dict[tuple[Any, ...], tuple[int, Decimal, int]]:
    return {
        (r.month, r.province, r.virtue_code, r.deed_type_code, r.agency_id): (
            int(r.deeds),
            Decimal(r.quantity),
            int(r.credits),
        )
        for r in session.scalars(select(StatsRollup))
        if r.deeds or r.quantity or r.credits
    }


# --- the rollup ---------------------------------------------------------------------------


def test_the_rollup_follows_record_verify_and_revoke(session: Session, demo: None) -> None:
    university = key_actor(session, "demouniv", "deeds:write", "deeds:verify")[0]
    hospital = key_actor(session, "korat_hospital", "deeds:write", "deeds:verify")[0]
    day = TODAY - timedelta(days=3)
    blood = record(
        session,
        hospital,
        *(
            deed(
                national_id=nid(i),
                deed_type="redcross.blood_donation",
                quantity=Decimal(1),
                occurred_on=day,
                province="TH-30",
                external_id=f"b{i}",
            )
            for i in range(3)
        ),
    )
    assert all(o.result == "created" for o in blood)  # attested: verified at once
    hours = record(
        session,
        university,
        deed(national_id=nid(7), quantity=Decimal("2.5"), occurred_on=day, external_id="h1"),
        deed(national_id=nid(8), quantity=Decimal(4), occurred_on=day, external_id="h2"),
    )
    month = day.replace(day=1)
    hospital_id = get_agency(session, "korat_hospital").id
    university_id = get_agency(session, "demouniv").id
    blood_key = (month, "TH-30", "volunteering", "redcross.blood_donation", hospital_id)
    hours_key = (month, "TH-10", "volunteering", "kys.volunteer_activity", university_id)
    assert rollup_rows(session) == {blood_key: (3, Decimal(3), 30)}  # pending: not yet
    from dcatalog.deeds import service as deeds

    deeds.verify(session, university, RULES, [hours[0].deed["id"]])  # type: ignore[index]
    assert rollup_rows(session)[hours_key] == (1, Decimal("2.5"), 25)
    deeds.revoke(session, hospital, RULES, blood[0].deed["id"], "recorded twice")  # type: ignore[index]
    session.expire_all()
    assert rollup_rows(session)[blood_key] == (2, Decimal(2), 20)
    assert rollups.differences(session) == []
    changes = session.scalar(select(func.sum(StatsRollup.changes)))
    assert changes == 5  # 3 donations + 1 verified + 1 revoked: it only ever grows
    kept = rollup_rows(session)
    assert rollups.rebuild(session) == 2
    assert rollup_rows(session) == kept


def _clean(session: Session) -> None:
    for table in (StatsCell, StatsRefresh, StatsRollup, Tally, Award, Deed):
        session.execute(delete(table))
    session.commit()


operations = st.lists(
    st.tuples(
        st.integers(0, 5),  # citizen
        st.integers(0, 2),  # kind
        st.integers(1, 400),  # days ago
        st.sampled_from(["TH-10", "TH-30", "TH-50"]),
        st.integers(1, 3),  # quantity
        st.sampled_from(["keep", "verify", "revoke"]),
    ),
    max_size=25,
)


@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations)
def test_the_rollup_equals_the_deeds_after_any_story(
    session: Session, demo: None, story: list[tuple[int, int, int, str, int, str]]
) -> None:
    """Random deeds through the real services (some refused by the catalog's rules),
    some verified, some revoked: the rollup is always the deeds' own sum."""
    from dcatalog.deeds import service as deeds

    _clean(session)
    actors = {
        agency: key_actor(session, agency, "deeds:write", "deeds:verify")[0]
        for _code, _virtue, agency in KINDS
    }
    outcomes = []
    for n, (citizen, kind, ago, province, quantity, _then) in enumerate(story):
        code, _virtue, agency = KINDS[kind]
        (outcome,) = record(
            session,
            actors[agency],
            deed(
                national_id=nid(citizen),
                deed_type=code,
                quantity=Decimal(quantity if code == "kys.volunteer_activity" else 1),
                occurred_on=TODAY - timedelta(days=ago),
                province=province,
                external_id=f"s{n}-{uuid.uuid4().hex[:6]}",
            ),
        )
        outcomes.append(outcome)
    for outcome, (*_rest, then) in zip(outcomes, story, strict=True):
        stored = outcome.deed
        if stored is None or outcome.result != "created":
            continue
        actor = actors[next(a for c, _v, a in KINDS if c == stored["deed_type_code"])]
        if stored["status"] is DeedStatus.PENDING and then in ("verify", "revoke"):
            deeds.verify(session, actor, RULES, [stored["id"]])
        if then == "revoke":
            deeds.revoke(session, actor, RULES, stored["id"], "a correction")
    session.expire_all()
    assert rollups.differences(session) == []


# --- the snapshot -------------------------------------------------------------------------


def insert_deeds(session: Session, rows: list[dict[str, Any]]) -> None:
    """Deeds as the benchmark loads them (straight in), then the rollup rebuilt."""
    bulk_insert(session, Deed.__table__, rows)  # type: ignore[arg-type]
    rollups.rebuild(session)
    session.commit()


def deed_row(
    session: Session,
    citizen: str,
    kind: int,
    province: str,
    day: date,
    status: DeedStatus = DeedStatus.VERIFIED,
    quantity: int = 1,
) -> dict[str, Any]:
    code, virtue, agency = KINDS[kind]
    counted = status in (DeedStatus.VERIFIED, DeedStatus.REVOKED)
    return {
        "id": new_id(),
        "citizen_key": citizen,
        "id_last4": "0000",
        "deed_type_code": code,
        "deed_type_version": 1,
        "virtue_code": virtue,
        "agency_id": get_agency(session, agency).id,
        "external_id": uuid.uuid4().hex,
        "quantity": Decimal(quantity),
        "occurred_on": day,
        "province": province,
        "evidence": "",
        "status": status,
        "credits": quantity * 10 if counted else None,
        "status_reason": "",
        "duplicate_of": None,
        "recorded_by": "test",
        "recorded_at": utcnow(),
        "decided_by": None,
        "decided_at": None,
    }


def refresh(database: Database, everything: bool = True) -> snapshot.RefreshSummary:
    return snapshot.refresh(database, "test", everything=everything)


def expected_cells(session: Session) -> tuple[dict[tuple[str, ...], set[str]], dict[Any, int]]:
    """Citizens and deeds of every cell, counted the plain way from the deeds."""
    agencies = snapshot.agency_codes(session)
    people: dict[tuple[str, ...], set[str]] = defaultdict(set)
    deeds: dict[tuple[str, ...], int] = defaultdict(int)
    for d in session.scalars(select(Deed).where(Deed.status == DeedStatus.VERIFIED)):
        base = (d.virtue_code, d.deed_type_code, agencies[d.agency_id], d.province)
        for key in periods.keys_of_month(d.occurred_on.replace(day=1)):
            for cell in snapshot.projections(base):
                people[(key, *cell)].add(d.citizen_key)
                deeds[(key, *cell)] += 1
    return people, deeds


def near(value: int | Decimal | None, truth: int, slack: int = perturbation.MAX_DEVIATION) -> bool:
    """A published figure within its perturbation of the truth."""
    return value is not None and abs(value - truth) <= slack


def published(session: Session) -> dict[tuple[str, ...], StatsCell]:
    return {
        (c.period, c.virtue_code, c.deed_type_code, c.agency, c.province): c
        for c in session.scalars(select(StatsCell))
    }


def record_key(session: Session, citizen_key: str) -> int:
    """A citizen's record key as this database computes it."""
    seed = perturbation.seed(session)
    sql = perturbation.record_key_sql(session, ":citizen", seed)
    values = {"citizen": citizen_key, perturbation.SEED_PARAMETER: seed}
    return int(session.execute(text(f"SELECT {sql}"), values).scalar_one())


def assert_no_small_cell_shows(session: Session) -> None:
    """Every cell of 1–9 people is small; every other count is 0 or 10 or more and
    within two of the truth is checked where the truth is known."""
    for cell in published(session).values():
        if cell.status is CellStatus.SHOWN:
            assert cell.citizens == 0 or cell.citizens >= THRESHOLD, cell
        if cell.claims_status is CellStatus.SHOWN:
            assert cell.claimants == 0 or cell.claimants >= THRESHOLD, cell
        assert CellStatus.COMPLEMENTARY not in (cell.status, cell.claims_status)


stories = st.lists(
    st.tuples(
        st.integers(0, 14),  # citizen
        st.integers(0, 2),  # kind
        st.sampled_from(["TH-10", "TH-20", "TH-30", "TH-40", "TH-50"]),
        st.integers(0, 15),  # months ago
        st.sampled_from(list(DeedStatus)),
    ),
    max_size=60,
)


@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stories)
def test_snapshot_counts_every_cell_like_a_count_from_scratch(
    session: Session,
    database: Database,
    demo: None,
    story: list[tuple[int, int, str, int, DeedStatus]],
) -> None:
    """Citizens counted once per cell however many deeds, months, provinces and
    types they have (including four or more in one period), deeds added up, and
    no small cell shown."""
    _clean(session)
    rows = [
        deed_row(
            session,
            f"citizen-{citizen}",
            kind,
            province,
            (TODAY.replace(day=1) - timedelta(days=31 * months)).replace(day=5),
            status,
        )
        for citizen, kind, province, months, status in story
    ]
    insert_deeds(session, rows)
    refresh(database)
    session.expire_all()
    people, deeds = expected_cells(session)
    stored = {k: c for k, c in published(session).items() if c.citizens}
    assert set(stored) == set(people)
    keys = {c: record_key(session, c) for c in set().union(*people.values())}
    for cell, who in people.items():
        n, found = len(who), stored[cell]
        # The cell key is the sum of its people's record keys: the same people, the same key.
        assert found.cell_key == sum(keys[c] for c in who) % perturbation.KEY_SPACE, cell
        # Amounts move in small cells too (never shown, but quantities add up from them).
        assert found.deeds == perturbation.amount(deeds[cell], n, found.cell_key), cell
        if n < THRESHOLD:  # small: marked, its count kept as it is (never shown)
            assert (found.status, found.citizens) == (CellStatus.SMALL, n)
            continue
        assert found.status is CellStatus.SHOWN
        assert found.citizens == perturbation.count(n, found.cell_key), cell
        assert abs(found.citizens - n) <= perturbation.MAX_DEVIATION
    assert_no_small_cell_shows(session)


def test_a_refresh_redoes_only_the_fiscal_years_that_changed(
    session: Session, database: Database, demo: None
) -> None:
    _clean(session)
    this_year = TODAY - timedelta(days=1)
    last_year = periods.fiscal_year_period(YEAR - 1).start + timedelta(days=40)
    insert_deeds(
        session,
        [deed_row(session, f"c{i}", 0, "TH-10", this_year) for i in range(12)]
        + [deed_row(session, f"c{i}", 0, "TH-10", last_year) for i in range(12)],
    )
    assert sorted(refresh(database, everything=False).refreshed) == [YEAR - 1, YEAR]
    assert refresh(database, everything=False).skipped == "nothing changed since the last refresh"
    university = key_actor(session, "korat_hospital", "deeds:write")[0]
    record(
        session,
        university,
        deed(
            national_id=nid(99),
            deed_type="redcross.blood_donation",
            quantity=Decimal(1),
            occurred_on=this_year,
            external_id="new",
        ),
    )
    summary = refresh(database, everything=False)
    assert summary.refreshed == [YEAR]
    national = session.get(StatsCell, (f"fy:{YEAR}", "", "", "", ""))
    assert national is not None
    assert abs(national.citizens - 13) <= perturbation.MAX_DEVIATION
    assert national.citizens == perturbation.count(13, national.cell_key)


# --- suppression, end to end ---------------------------------------------------------------


@pytest.fixture
def small_cells(session: Session, database: Database, demo: None) -> None:
    """Blood donors: 30 in Bangkok, 12 in Korat, 3 in Chiang Mai; and 4 of the
    Bangkok donors also did activity days (health): a small group inside Bangkok."""
    _clean(session)
    day = TODAY - timedelta(days=1)
    rows = [deed_row(session, f"bkk{i}", 0, "TH-10", day) for i in range(30)]
    rows += [deed_row(session, f"kor{i}", 0, "TH-30", day) for i in range(12)]
    rows += [deed_row(session, f"cm{i}", 0, "TH-50", day) for i in range(3)]
    rows += [deed_row(session, f"bkk{i}", 2, "TH-10", day, quantity=2) for i in range(4)]
    insert_deeds(session, rows)
    refresh(database)


def test_small_cells_are_hidden_and_nothing_else(session: Session, small_cells: None) -> None:
    """Only the cells of fewer than 10 people are hidden: Korat's 12 donors stay
    beside Chiang Mai's 3, where the former method hid them as "x"."""
    period = f"fy:{YEAR}"
    by_province = service.figures(session, Filters(period), "province")
    rows = {r.value: r for r in by_province.rows}
    assert rows["TH-50"].shown_as == "<10"
    assert rows["TH-50"].citizens is None
    assert rows["TH-50"].deeds is None
    assert not rows["TH-30"].hidden
    assert near(rows["TH-30"].citizens, 12)
    assert near(rows["TH-10"].citizens, 30)
    assert near(by_province.total.citizens, 45)
    # Bangkok's health deeds (4 people) are small; Bangkok's volunteering is shown.
    health = service.figures(session, Filters(period, virtue="health"), "province")
    assert {r.value: r.shown_as for r in health.rows} == {"TH-10": "<10"}
    volunteering = service.figures(session, Filters(period, virtue="volunteering"), "province")
    assert {r.value: r.shown_as for r in volunteering.rows} == {
        "TH-10": "",
        "TH-30": "",
        "TH-50": "<10",
    }
    assert_no_small_cell_shows(session)


def test_the_same_people_give_the_same_figure_and_one_more_a_new_draw(
    session: Session, database: Database, small_cells: None
) -> None:
    """Asked again, or after a refresh that changed nothing in a cell, a figure is the
    same (averaging learns nothing); one person more draws its change afresh."""
    bangkok = (f"fy:{YEAR}", "", "", "", "TH-10")
    korat = (f"fy:{YEAR}", "", "", "", "TH-30")

    def figures() -> dict[tuple[str, ...], tuple[int, int, int]]:
        session.expire_all()
        return {k: (c.citizens, c.deeds, c.cell_key) for k, c in published(session).items()}

    before = figures()
    refresh(database)
    assert figures() == before
    insert_deeds(session, [deed_row(session, "bkk-new", 0, "TH-10", TODAY - timedelta(days=1))])
    refresh(database)
    after = figures()
    newcomer = record_key(session, "bkk-new")
    assert after[bangkok][2] == (before[bangkok][2] + newcomer) % perturbation.KEY_SPACE
    assert after[bangkok][0] == perturbation.count(31, after[bangkok][2])
    assert after[korat] == before[korat]  # not these people: the same figures


def test_no_small_figure_in_any_csv(app: FastAPI, session: Session, small_cells: None) -> None:
    client = TestClient(app)
    sign_in(client, make_account(session, Role.PROGRAM_ADMIN).email)
    filters = [
        f"period=fy:{YEAR}",
        f"period=fy:{YEAR}&virtue=health",
        f"period=fy:{YEAR}&virtue=volunteering",
        f"period=fy:{YEAR}&province=TH-10",
        f"period=m:{TODAY - timedelta(days=1):%Y-%m}",
    ]
    hidden = 0
    for query in filters:
        for table in service.GROUP_BYS:
            response = client.get(f"/admin/dashboard.csv?table={table}&{query}")
            assert response.status_code == 200, response.text
            assert response.content.startswith("\ufeff".encode())
            assert response.headers["content-type"].startswith("text/csv")
            reader = csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")))
            for row in reader:
                value = row["citizens"]
                if value == "" and table == "month":  # a month still to come: no figure
                    assert row["code"] > f"m:{TODAY:%Y-%m}", row
                    assert row["deeds"] == row["credits"] == ""
                elif value == "<10":
                    hidden += 1
                    assert row["deeds"] == value
                    assert row["credits"] == value
                else:
                    assert int(value) == 0 or int(value) >= THRESHOLD, (table, query, row)
    assert hidden > 0


def test_the_page_shows_figures_and_hides_small_ones(
    app: FastAPI, session: Session, small_cells: None
) -> None:
    client = TestClient(app)
    sign_in(client, make_account(session, Role.AUDITOR).email)
    page = client.get(f"/admin/dashboard?period=fy:{YEAR}")
    assert page.status_code == 200
    text = page.text
    assert "&lt;10" in text  # Chiang Mai, in the table and on the map
    assert 'data-province="TH-50" class="province hidden"' in text
    total = service.figures(session, Filters(f"fy:{YEAR}"), "province").total.citizens
    assert f">{total}<" in text  # the national total of citizens, as published
    assert ">x<" not in text
    assert "CC BY 4.0" in text
    assert "svg-maps" in text
    partial = client.get(
        f"/admin/dashboard?period=fy:{YEAR}&virtue=health", headers={"HX-Request": "true"}
    )
    assert partial.status_code == 200
    assert "<html" not in partial.text
    assert 'id="dashboard"' in partial.text
    wrong = client.get("/admin/dashboard?period=someday")
    assert wrong.status_code == 422
    assert "ตัวกรองที่เลือกไม่ตรงกับตัวเลขชุดใด" in wrong.text  # in Thai, on a Thai page


def test_national_counters(session: Session, small_cells: None) -> None:
    counters = service.national_counters(session, YEAR)
    assert near(counters.citizens, 45)  # the snapshot's
    assert counters.deeds == 49  # live, from the rollup: exact
    assert counters.donations == 45
    assert counters.as_of is not None
    assert service.national_counters(session, YEAR - 5).deeds is None  # nothing counted


def test_a_year_of_few_people_shows_nothing(
    session: Session, database: Database, demo: None
) -> None:
    _clean(session)
    insert_deeds(session, [deed_row(session, f"p{i}", 0, "TH-10", TODAY) for i in range(4)])
    refresh(database)
    dashboard = service.dashboard(session, Filters(f"fy:{YEAR}"))
    assert dashboard.total.shown_as == "<10"
    assert all(
        row.citizens is None or row.citizens == 0
        for table in dashboard.tables.values()
        for row in table.rows
    )
    assert service.national_counters(session, YEAR).deeds is None


# --- who may see it, the refresh -------------------------------------------------------------


def test_only_the_programme_office_and_auditors_see_the_dashboard(
    app: FastAPI, session: Session, demo: None
) -> None:
    anonymous = TestClient(app)
    response = anonymous.get("/admin/dashboard", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")
    kys = make_agency(session, "kys2")
    for role, allowed in (
        (Role.PROGRAM_ADMIN, True),
        (Role.AUDITOR, True),
        (Role.AGENCY_ADMIN, False),
        (Role.VERIFIER, False),
    ):
        client = TestClient(app)
        sign_in(client, make_account(session, role, kys).email)
        for path in ("/admin/dashboard", f"/admin/dashboard.csv?table=province&period=fy:{YEAR}"):
            answer = client.get(path, follow_redirects=False)
            assert answer.status_code == (200 if allowed else 403), (role, path)
        home = client.get("/staff")
        assert ('href="/admin/dashboard"' in home.text) is allowed


def test_the_refresh_button(app: FastAPI, session: Session, demo: None) -> None:
    _clean(session)
    insert_deeds(session, [deed_row(session, f"p{i}", 0, "TH-10", TODAY) for i in range(12)])
    client = TestClient(app)
    sign_in(client, make_account(session, Role.PROGRAM_ADMIN).email)
    before = client.get("/admin/dashboard")
    assert "ยังไม่มีตัวเลข" in before.text  # "No figures yet"
    token = csrf_from(client, "/admin/dashboard")
    refused = client.post("/admin/dashboard/refresh", data={"scope": "all"})
    assert refused.status_code == 403  # no CSRF token
    done = client.post(
        "/admin/dashboard/refresh",
        data={"scope": "all", "back": "virtue=volunteering", "csrf_token": token},
        follow_redirects=False,
    )
    assert done.status_code == 303
    refreshed = session.scalars(select(StatsRefresh)).one()
    assert done.headers["location"] == (
        f"/admin/dashboard?virtue=volunteering&refreshed={refreshed.id}"
    )
    assert refreshed.status.value == "done"
    assert refreshed.started_by.startswith("staff:")
    after = client.get(done.headers["location"])
    assert "ตัวเลข ณ" in after.text  # "Figures as of"
    assert f">{national_citizens(session)}<" in after.text  # 12 people, as published
    # The confirmation says what was refreshed, in Thai (the fiscal year by its name).
    assert f"ปรับปรุงตัวเลขของปีงบประมาณ {YEAR} แล้ว" in after.text
    poll = client.get("/admin/dashboard/freshness?since=")
    assert poll.headers.get("HX-Refresh") == "true"  # a newer snapshot than the page's
    same = client.get("/admin/dashboard/freshness", params={"since": refreshed.as_of.isoformat()})
    assert "HX-Refresh" not in same.headers
    bad = client.post("/admin/dashboard/refresh", data={"scope": "everything", "csrf_token": token})
    assert bad.status_code == 422
    # Nothing changed since: the confirmation says so.
    again = client.post(
        "/admin/dashboard/refresh",
        data={"scope": "changed", "csrf_token": token},
        follow_redirects=True,
    )
    assert "ไม่มีอะไรเปลี่ยนแปลงตั้งแต่การปรับปรุงครั้งก่อน" in again.text


def national_citizens(session: Session) -> int:
    """This fiscal year's people as the snapshot publishes them (12 ± 2)."""
    session.expire_all()
    cell = session.get(StatsCell, (f"fy:{YEAR}", "", "", "", ""))
    assert cell is not None
    assert near(cell.citizens, 12)
    return cell.citizens


def form_fields(html: str, action: str) -> dict[str, str]:
    """The hidden and named inputs of the form posting to ``action``, as the page serves them."""
    form = re.search(rf'<form[^>]*action="{re.escape(action)}"[^>]*>(.*?)</form>', html, re.S)
    assert form, f"no form posting to {action}"
    return dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', form[1]))


def test_the_refresh_form_as_the_page_gives_it(app: FastAPI, session: Session, demo: None) -> None:
    """The button's own form carries its token: the office clicks it and sees figures
    (it once rendered an empty token, so every click said the form had expired)."""
    _clean(session)
    insert_deeds(session, [deed_row(session, f"p{i}", 0, "TH-10", TODAY) for i in range(12)])
    client = TestClient(app)
    sign_in(client, make_account(session, Role.PROGRAM_ADMIN).email)
    fields = form_fields(client.get("/admin/dashboard").text, "/admin/dashboard/refresh")
    assert fields["csrf_token"], "the refresh form has no CSRF token"
    done = client.post("/admin/dashboard/refresh", data=fields)
    assert done.status_code == 200, done.text
    assert "ตัวเลข ณ" in done.text  # "Figures as of"
    assert f">{national_citizens(session)}<" in done.text  # 12 people, as published


# --- the CLI ---------------------------------------------------------------------------------


def test_stats_check_finds_a_tampered_rollup(
    fresh_database_url: str,
    tmp_path: Path,
    backend: str,
    demo_template: Callable[..., DemoTemplate],
) -> None:
    # The demo's donor and student: a copy of what ``dcatalog demo`` loads.
    copy_demo(demo_template(backend), fresh_database_url, tmp_path / "var")
    env = {**demo_env(fresh_database_url, tmp_path / "var"), "DCATALOG_LOG_LEVEL": "WARNING"}
    assert run_cli("stats", "check", env=env).returncode == 0
    refreshed = run_cli("stats", "refresh", env=env)
    assert refreshed.returncode == 0, refreshed.stderr
    assert "Refreshed fiscal years" in refreshed.stdout
    again = run_cli("stats", "refresh", env=env)
    assert "nothing changed" in again.stdout
    engine = create_db_engine(fresh_database_url)
    with engine.begin() as conn:
        conn.execute(update(StatsRollup).values(deeds=StatsRollup.deeds + 1))
    engine.dispose()
    broken = run_cli("stats", "check", env=env)
    assert broken.returncode == 1
    assert "differ" in broken.stderr
    assert run_cli("stats", "rebuild", env=env).returncode == 0
    assert run_cli("stats", "check", env=env).returncode == 0


# --- the map and the periods (no database) ----------------------------------------------------


def test_every_province_is_on_the_map() -> None:
    ids = thailand_map.map_ids()
    assert set(thailand_map.ISO_CODE) <= set(ids)
    assert sorted(thailand_map.ISO_CODE.values()) == sorted(PROVINCES)
    assert len(thailand_map.ISO_CODE) == 77
    assert set(ids) - set(thailand_map.ISO_CODE) == set(thailand_map.WATER)
    # The map's own names agree with ours (spelling aside).
    for map_id, code in thailand_map.ISO_CODE.items():
        ours = PROVINCES[code][1].lower().replace(" ", "")
        theirs = ids[map_id].lower().replace(" ", "").replace("-", "")
        assert ours[:4] == theirs[:4], (map_id, code)


def test_periods_nest_and_read_in_thai() -> None:
    year = periods.parse("fy:2570")
    assert year is not None
    assert (year.start, year.end) == (date(2026, 10, 1), date(2027, 10, 1))
    assert len(year.months) == 12
    quarter = periods.parse("q:2570-2")
    assert quarter is not None
    assert quarter.months == (date(2027, 1, 1), date(2027, 2, 1), date(2027, 3, 1))
    assert periods.keys_of_month(date(2026, 12, 1)) == ("m:2026-12", "q:2570-1", "fy:2570")
    assert periods.parse("m:2026-13") is None
    assert periods.parse("fy:25x0") is None
    assert periods.label("fy:2570", "th") == "ปีงบประมาณ 2570"
    assert periods.label("q:2570-1", "th") == "ไตรมาส 1/2570"
    assert periods.label("m:2026-10", "th") == "ตุลาคม 2569"
    assert periods.label("m:2026-10", "en", "short") == "Oct 26"
