"""The programme office's dashboard and progress report, as the office reads them:
quantities added up only within a unit, months still to come as "—" (an empty
CSV cell), the map's provinces named with "no data" apart from zero, and the
chosen filters by their names. On both databases, over the small national story
of ``test_stats`` (blood donors in three provinces, a few activity days)."""

from __future__ import annotations

import csv
import io
import re

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from dcatalog.accounts.permissions import Role
from dcatalog.stats import periods, progress_report, service
from dcatalog.stats.service import Filters
from tests.factories import make_account, sign_in
from tests.integration.test_stats import TODAY, YEAR, demo, near, small_cells  # noqa: F401 (fixtures)

PERIOD = f"fy:{YEAR}"
DONORS = 45  # blood donations (unit "time"): 30 + 12 + 3 donors, one each
DAYS = 8  # activity days (unit "day"): 4 people, 2 days each


def office(app: FastAPI, session: Session) -> TestClient:
    client = TestClient(app)
    sign_in(client, make_account(session, Role.PROGRAM_ADMIN).email)
    return client


def csv_rows(
    client: TestClient, table: str, query: str = f"period={PERIOD}"
) -> list[dict[str, str]]:
    response = client.get(f"/admin/dashboard.csv?table={table}&{query}")
    assert response.status_code == 200, response.text
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_quantities_add_up_only_within_their_unit(
    app: FastAPI,
    session: Session,
    small_cells: None,  # noqa: F811
) -> None:
    by_type = service.figures(session, Filters(PERIOD), "deed_type")
    # One quantity per unit, never donations + days in one figure; each as published
    # (45 donations of 45 people move by at most 2; the 4 active people's days are a
    # small cell's, inside a shown total, and move with it by at most 2 people's worth).
    times, days = by_type.total.quantities["time"], by_type.total.quantities["day"]  # type: ignore[index]
    assert set(by_type.total.quantities or {}) == {"time", "day"}
    assert near(times, DONORS)
    assert near(days, DAYS, 2 * 2)  # 4 people: up to two people's 2 days
    assert near(by_type.total.deeds, DONORS + 4, 3)
    by_province = service.figures(session, Filters(PERIOD), "province")
    bangkok = by_province.row("TH-10").quantities or {}
    assert set(bangkok) == {"time", "day"}
    assert near(bangkok["time"], 30)
    by_agency = service.figures(session, Filters(PERIOD), "agency")
    assert by_agency.total.quantities == by_type.total.quantities  # the same cells, added up

    client = office(app, session)
    page = client.get(f"/admin/dashboard?period={PERIOD}").text
    totals = dict(re.findall(r"<dt>([^<]+)</dt><dd>([^<]*)</dd>", page.split('id="h-totals"')[1]))
    assert totals["ปริมาณ (ครั้ง)"] == f"{times:,.0f}"  # the unit in Thai
    assert totals["ปริมาณ (วัน)"] == f"{days:,.0f}"
    # One figure per unit and no quantity without one (the old sum of times and days).
    assert [k for k in totals if k.startswith("ปริมาณ")] == [
        "ปริมาณ (ชั่วโมง)",
        "ปริมาณ (ครั้ง)",
        "ปริมาณ (วัน)",
    ]
    for table in ("deed_type", "virtue", "agency", "province", "month"):
        total = csv_rows(client, table)[-1]
        assert total["code"] == "total"
        assert (total["times"], total["days"]) == (service.as_text(times), service.as_text(days))
        assert "quantity" not in total
    # A deed type's own row has its quantity in its own unit only.
    blood = next(r for r in csv_rows(client, "deed_type") if r["code"] == "redcross.blood_donation")
    assert (blood["days"], blood["hours"]) == ("", "")
    assert blood["times"] == blood["deeds"]  # one donation a deed: the same draw moves both


def test_months_still_to_come_show_a_dash_not_zero(
    app: FastAPI,
    session: Session,
    small_cells: None,  # noqa: F811
) -> None:
    # On the fiscal year's first day, every later month is still to come.
    first = periods.fiscal_year_period(YEAR).start
    months = service.figures(session, Filters(PERIOD), "month", today=first).rows
    assert not months[0].future
    assert all(m.future and m.shown_as == "—" and m.deeds is None for m in months[1:])

    client = office(app, session)
    this_month = f"m:{TODAY:%Y-%m}"
    rows = csv_rows(client, "month")
    for row in rows[:-1]:
        if row["code"] > this_month:
            assert row["deeds"] == row["citizens"] == row["credits"] == "", row  # empty, not 0
        else:
            assert row["deeds"] != ""
    page = client.get(f"/admin/dashboard?period={PERIOD}").text
    later = [key for key in periods.inside(periods.fiscal_year_period(YEAR)) if key > this_month]
    for key in later:
        name = periods.label(key, "th")
        cells = re.search(rf"<th scope=\"row\"[^>]*>{name}</th>(.*?)</tr>", page, re.S)
        assert cells, name
        assert "—" in cells[1], name
        assert ">0<" not in cells[1], name


def test_the_map_names_provinces_and_tells_no_data_from_zero(
    app: FastAPI,
    session: Session,
    small_cells: None,  # noqa: F811
) -> None:
    page = office(app, session).get(f"/admin/dashboard?period={PERIOD}").text
    # Mae Hong Son has no deed at all: no data, named, grey, apart from a count.
    assert re.search(
        r'data-province="TH-58" class="province no-data" fill="#d6d2c8"><title>แม่ฮ่องสอน: ไม่มีข้อมูล</title>',
        page,
    )
    assert 'data-province="TH-10" class="province shown"' in page  # Bangkok: counted
    bangkok = service.figures(session, Filters(PERIOD), "province").row("TH-10").citizens
    assert f"<title>กรุงเทพมหานคร: {bangkok}</title>" in page  # 30 people, as published
    assert 'class="province hidden" fill="url(#hatch)"><title>เชียงใหม่: &lt;10</title>' in page
    legend = page.split('class="map-legend"')[1].split("</ul>")[0]
    assert "ไม่มีข้อมูล" in legend
    # The table beside the map names all 77 provinces with their figure.
    listed = page.split('class="map-table"')[1].split("</table>")[0]
    assert listed.count("<tr class=") == 77
    assert '<th scope="row">แม่ฮ่องสอน</th><td class="num">ไม่มีข้อมูล</td>' in listed


def test_headings_name_the_filters(
    app: FastAPI,
    session: Session,
    small_cells: None,  # noqa: F811
) -> None:
    client = office(app, session)
    query = f"period={PERIOD}&deed_type=redcross.blood_donation&province=TH-10"
    page = client.get(f"/admin/dashboard?{query}").text
    heading = re.search(r'<h2 id="h-totals">([^<]+)</h2>', page)
    assert heading
    assert heading[1] == f"ปีงบประมาณ {YEAR} · บริจาคโลหิต (โลหิตรวม) · กรุงเทพมหานคร"
    client.get("/lang/en")
    page = client.get(f"/admin/dashboard?{query}").text
    assert f"Fiscal year {YEAR} · Blood donation (whole blood) · Bangkok" in page


def test_the_report_keeps_units_apart_and_months_to_come_blank(
    session: Session,
    small_cells: None,  # noqa: F811
) -> None:
    report = progress_report.gather(session, PERIOD, "th")
    titles = [c.title for c in report.context["total_columns"]]
    assert "ปริมาณ (ครั้ง)" in titles
    assert "ปริมาณ (วัน)" in titles
    assert "จำนวน" not in titles
    published = service.figures(session, Filters(PERIOD), "deed_type").total.quantities or {}
    assert report.context["totals"]["unit:time"] == f"{published['time']:,.0f}"  # the page's
    later = [r for r in report.context["tables"]["month"]["rows"] if r.code > f"m:{TODAY:%Y-%m}"]
    assert all(set(r.cells.values()) == {"—"} for r in later)
