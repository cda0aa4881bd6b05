"""The programme office's dashboard (/admin/dashboard): filters, totals, a trend,
bars by virtue, a choropleth map of the provinces and every table as CSV. Thin:
the figures, already suppressed, come from ``dcatalog.stats.service``."""

from __future__ import annotations

import io
import uuid
from contextlib import suppress
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from dcatalog import tabular
from dcatalog.access import require
from dcatalog.accounts.permissions import Scope
from dcatalog.actors import Actor
from dcatalog.catalog.pages import unit_label
from dcatalog.catalog.schemas import UNITS
from dcatalog.geo.provinces import PROVINCES, province_name
from dcatalog.problems import ValidationProblem
from dcatalog.stats import charts, jobs, periods, service, thailand_map
from dcatalog.stats.models import RefreshStatus
from dcatalog.stats.service import Figure, Filters, GroupBy, Labels, Table
from dcatalog.web.csrf import csrf_protect
from dcatalog.web.deps import DatabaseDep, SessionDep
from dcatalog.web.i18n import current_language, ngettext, translated
from dcatalog.web.i18n import gettext as _
from dcatalog.web.templating import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
READ = require(Scope.AUDIT_READ)  # the programme office and auditors; no agency holds it


@dataclass(frozen=True)
class Column:
    key: str  # a measure of ``Figure``, or ``unit:hour`` for a quantity in one unit
    title: str
    csv: str = ""  # the CSV heading, when not the key

    @property
    def heading(self) -> str:
        return self.csv or self.key

    @property
    def unit(self) -> str:
        return self.key.removeprefix("unit:") if self.key.startswith("unit:") else ""


@dataclass(frozen=True)
class Row:
    code: str
    label: str
    cells: dict[str, str]
    hidden: bool


def _number(value: int | Decimal | None) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        value = value.normalize()
        return f"{value:,f}" if value != value.to_integral_value() else f"{int(value):,}"
    return f"{value:,}"


def unit_column(unit: str) -> Column:
    """A quantity in one unit, titled in the page's language ("ปริมาณ (ชั่วโมง)");
    in CSV the unit's English name ("hours", "days")."""
    english = UNITS.get(unit, (unit, unit))[1]
    return Column(f"unit:{unit}", _("Quantity (%(unit)s)") % {"unit": unit_label(unit)}, english)


def columns(table: Table) -> list[Column]:
    """Counts, which add up across deed types, and a quantity per unit, which
    adds up only within its unit (``service.quantities``)."""
    found = [
        Column("deeds", _("Verified deeds")),
        *(unit_column(u) for u in table.units),
        Column("donations", _("Donations")),
        Column("citizens", _("Citizens taking part")),
        Column("credits", _("Credits")),
    ]
    if table.claims_apply:
        found += [Column("claims", _("Benefits claimed")), Column("claimants", _("Claimants"))]
    return found


def value_of(figure: Figure, col: Column) -> Any:
    return figure.quantity(col.unit) if col.unit else getattr(figure, col.key)


def _cells(figure: Figure, cols: list[Column], own_unit: str = "") -> dict[str, str]:
    """What each column shows; a deed type's row shows no quantity in another unit."""
    cells = {}
    for col in cols:
        if col.key in ("claims", "claimants"):
            shown = figure.claims_shown_as or _number(getattr(figure, col.key))
        elif col.unit and own_unit and col.unit != own_unit:
            shown = ""
        else:
            shown = figure.shown_as or _number(value_of(figure, col))
        cells[col.key] = shown
    return cells


def label_of(group_by: GroupBy, code: str, names: Labels, lang: str) -> str:
    if group_by == "month":
        return periods.label(code, lang)
    if group_by == "province":
        return province_name(code, lang)
    found = {"virtue": names.virtues, "deed_type": names.deed_types, "agency": names.agencies}[
        group_by
    ]
    return found.get(code, code)


def rows_of(table: Table, names: Labels, lang: str) -> list[Row]:
    cols = columns(table)
    found = []
    for figure in table.rows:
        own = names.units.get(figure.value, "") if table.group_by == "deed_type" else ""
        found.append(
            Row(
                figure.value,
                label_of(table.group_by, figure.value, names, lang),
                _cells(figure, cols, own),
                figure.hidden,
            )
        )
    if table.group_by not in ("month",):
        order = list(names.virtues) if table.group_by == "virtue" else []
        found.sort(key=lambda r: (order.index(r.code) if r.code in order else len(order), r.label))
    return found


def _filters(
    session: Session, period: str, virtue: str, deed_type: str, agency: str, province: str
) -> Filters:
    return Filters(
        period.strip() or service.default_period(session),
        virtue.strip(),
        deed_type.strip(),
        agency.strip(),
        province.strip().upper(),
    )


def _query(filters: Filters) -> str:
    return urlencode({"period": filters.period, **{k: v for k, v in filters.values().items() if v}})


NO_DATA_FILL = "#d6d2c8"  # grey: nothing recorded there (not the white of a counted zero)
ZERO_FILL = "#ffffff"


def _map(table: Table, lang: str) -> dict[str, Any]:
    """The choropleth's provinces, each named with its figure (its tooltip and the
    table beside the map), in one of five kinds: coloured by class, zero (white),
    hidden (hatched), or no data at all (grey) — a province with no deed recorded
    is not a province of zero people."""
    by_code = {f.value: f for f in table.rows}
    shown = [f.citizens for f in table.rows if f.citizens is not None]
    legend = charts.classes([v for v in shown if v is not None])
    provinces = []
    for map_id, code in thailand_map.ISO_CODE.items():
        figure = by_code.get(code)
        name = province_name(code, lang)
        if figure is None:
            kind, fill, text = "no-data", NO_DATA_FILL, _("no data")
        elif figure.hidden:
            kind, fill, text = "hidden", "url(#hatch)", figure.shown_as
        elif not figure.citizens:
            kind, fill, text = "zero", ZERO_FILL, "0"
        else:
            kind, fill, text = "shown", charts.colour(figure.citizens, legend), ""
            text = _number(figure.citizens)
        provinces.append(
            {
                "id": map_id,
                "code": code,
                "name": name,
                "kind": kind,
                "fill": fill,
                "hidden": kind == "hidden",
                "text": text,
                "title": f"{name}: {text}",
            }
        )
    kinds = {p["kind"] for p in provinces}
    return {
        "provinces": provinces,
        "by_name": sorted(provinces, key=lambda p: str(p["name"])),
        "legend": legend,
        "zero": "zero" in kinds,
        "no_data": "no-data" in kinds,
        "no_data_fill": NO_DATA_FILL,
        "zero_fill": ZERO_FILL,
        "href": f"/static/{thailand_map.MAP_FILE}",
        "view_box": thailand_map.VIEW_BOX,
        "water": [f"/static/{thailand_map.MAP_FILE}#{w}" for w in thailand_map.WATER],
    }


def _year_of(period: str) -> int:
    parsed = periods.parse(period)
    return parsed.fiscal_year if parsed is not None else 0


def filter_names(chosen: Filters, names: Labels, lang: str) -> list[str]:
    """The chosen filters by their names in the page's language (never their codes)."""
    found = [
        names.virtues.get(chosen.virtue, chosen.virtue),
        names.deed_types.get(chosen.deed_type, chosen.deed_type),
        names.agencies.get(chosen.agency, chosen.agency),
        province_name(chosen.province, lang) if chosen.province else "",
    ]
    return [name for name in found if name]


def refresh_message(outcome: service.RefreshOutcome | None, lang: str) -> str:
    """The confirmation after the refresh button, naming the fiscal years refreshed."""
    if outcome is None or outcome.status is not RefreshStatus.DONE:
        return ""  # running or failed: the freshness line says so
    if not outcome.fiscal_years:
        return _("Figures checked: nothing had changed since the last refresh.")
    years = ", ".join(str(y) for y in outcome.fiscal_years)  # Buddhist Era, as the office says them
    message = ngettext(
        "Figures refreshed for fiscal year %(years)s.",
        "Figures refreshed for fiscal years %(years)s.",
        len(outcome.fiscal_years),
    )
    return message % {"years": years}


def dashboard_context(session: Session, data: service.Dashboard, lang: str) -> dict[str, Any]:
    names = service.labels(session, lang)
    tables = {}
    for name, table in data.tables.items():
        tables[name] = {
            "columns": columns(table),
            "rows": rows_of(table, names, lang),
            "total": _cells(table.total, columns(table)),
            "csv": f"/admin/dashboard.csv?table={name}&{_query(data.filters)}",
        }
    month = data.tables["month"]
    trend = charts.columns(
        [
            charts.Item(
                periods.month_name(f.value, lang),
                f.deeds,
                f.shown_as,
                periods.year_of(f.value, lang) if n == 0 or f.value.endswith("-01") else "",
                f.future,
            )
            for n, f in enumerate(month.rows)
        ]
    )
    by_virtue = sorted(
        data.tables["virtue"].rows,
        key=lambda f: list(names.virtues).index(f.value) if f.value in names.virtues else 99,
    )
    virtue_bars = charts.rows(
        [charts.Item(names.virtues.get(f.value, f.value), f.deeds, f.shown_as) for f in by_virtue]
    )
    chosen = data.filters
    period_label = periods.label(chosen.period, lang)
    return {
        "data": data,
        "heading": " · ".join([period_label, *filter_names(chosen, names, lang)]),
        "filters": chosen,
        "query": _query(chosen),
        "tables": tables,
        "trend": trend,
        "virtue_bars": virtue_bars,
        "map": _map(data.tables["province"], lang),
        "totals": _cells(data.total, columns(data.tables["month"])),
        "total_columns": columns(data.tables["month"]),
        "period_label": period_label,
        "period_options": [(key, periods.label(key, lang)) for key in data.periods],
        "year_options": [
            (f"fy:{y}", periods.label(f"fy:{y}", lang))
            for y in sorted({*data.fiscal_years, _year_of(chosen.period)}, reverse=True)
        ],
        "virtue_options": list(names.virtues.items()),
        "deed_type_options": list(names.deed_types.items()),
        "agency_options": list(names.agencies.items()),
        "province_options": [(c, province_name(c, lang)) for c in sorted(PROVINCES)],
        "attribution": translated(thailand_map.ATTRIBUTION),
        "licence_url": thailand_map.LICENCE_URL,
    }


@router.get("/admin/dashboard", response_class=HTMLResponse)
def dashboard(
    request: Request,
    session: SessionDep,
    actor: Annotated[Actor, READ],
    period: Annotated[str, Query(max_length=16)] = "",
    virtue: Annotated[str, Query(max_length=32)] = "",
    deed_type: Annotated[str, Query(max_length=64)] = "",
    agency: Annotated[str, Query(max_length=32)] = "",
    province: Annotated[str, Query(max_length=5)] = "",
    refreshed: Annotated[str, Query(max_length=40)] = "",
) -> HTMLResponse:
    lang = current_language()
    filters = _filters(session, period, virtue, deed_type, agency, province)
    problem = None
    try:
        data = service.dashboard(session, filters)
    except ValidationProblem as found:
        problem = found
        data = service.dashboard(session, Filters(service.default_period(session)))
    outcome = None
    with suppress(ValueError):
        outcome = service.refresh_outcome(session, uuid.UUID(refreshed)) if refreshed else None
    context = {
        **dashboard_context(session, data, lang),
        "problem": problem,
        "refreshed": refresh_message(outcome, lang),
    }
    partial = (
        "hx-request" in request.headers and "hx-history-restore-request" not in request.headers
    )
    name = "admin/dashboard_body.html" if partial else "admin/dashboard.html"
    response = render(request, name, context, status_code=problem.status if problem else 200)
    if partial:  # the address bar keeps the filters chosen, without the empty ones
        response.headers["HX-Push-Url"] = f"/admin/dashboard?{_query(data.filters)}"
    return response


@router.get("/admin/dashboard.csv")
def dashboard_csv(
    session: SessionDep,
    actor: Annotated[Actor, READ],
    table: Annotated[GroupBy, Query()],
    period: Annotated[str, Query(max_length=16)] = "",
    virtue: Annotated[str, Query(max_length=32)] = "",
    deed_type: Annotated[str, Query(max_length=64)] = "",
    agency: Annotated[str, Query(max_length=32)] = "",
    province: Annotated[str, Query(max_length=5)] = "",
) -> Response:
    """One table as CSV (UTF-8 with a BOM, so that Excel reads the Thai), hidden
    figures as in the page: "<10" or "x"."""
    lang = current_language()
    filters = _filters(session, period, virtue, deed_type, agency, province)
    found = service.figures(session, filters, table)
    names = service.labels(session, lang)
    cols = columns(found)
    out = io.StringIO()
    writer = tabular.CsvWriter(out)
    writer.writerow(["code", "name", *(c.heading for c in cols), "period", "figures_as_of"])
    as_of = service.freshness(session).as_of
    stamp = as_of.isoformat(timespec="seconds") if as_of else ""

    def plain(figure: Figure, own_unit: str = "") -> list[str]:
        """A partner's program reads numbers: a month still to come is an empty
        cell (not 0, not "—"); hidden figures stay "<10" or "x"."""
        values = []
        for col in cols:
            if figure.future or (col.unit and own_unit and col.unit != own_unit):
                values.append("")
            elif col.key in ("claims", "claimants"):
                values.append(figure.claims_shown_as or service.as_text(getattr(figure, col.key)))
            else:
                values.append(figure.shown_as or service.as_text(value_of(figure, col)))
        return values

    for row in rows_of(found, names, lang):
        figure = next(f for f in found.rows if f.value == row.code)
        own = names.units.get(row.code, "") if table == "deed_type" else ""
        writer.writerow([row.code, row.label, *plain(figure, own), filters.period, stamp])
    writer.writerow(["total", _("Total"), *plain(found.total), filters.period, stamp])
    filename = f"dashboard-{table}-{filters.period.replace(':', '')}.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/admin/dashboard/freshness", response_class=HTMLResponse)
def freshness(
    request: Request,
    session: SessionDep,
    actor: Annotated[Actor, READ],
    since: Annotated[str, Query(max_length=40)] = "",
) -> HTMLResponse:
    """What the page polls while a refresh runs: when it is over, the page reloads."""
    fresh = service.freshness(session)
    response = render(
        request, "admin/dashboard_freshness.html", {"freshness": fresh, "query": request.url.query}
    )
    as_of = fresh.as_of.isoformat() if fresh.as_of else ""
    if fresh.running_since is None and as_of != since:
        response.headers["HX-Refresh"] = "true"
    return response


@router.post("/admin/dashboard/refresh")
def refresh(
    request: Request,
    database: DatabaseDep,
    actor: Annotated[Actor, READ],
    scope: Annotated[str, Form(pattern="^(changed|all)$")],
    back: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    """Start a refresh of the figures in the background (changed fiscal years, or all)."""
    started = jobs.start(
        database,
        actor,
        everything=scope == "all",
        background=request.app.state.background,
    )
    # Back to the same filters; only our own query strings are followed. The
    # refresh's id lets the page confirm what it refreshed once it is done.
    query = back if back and "://" not in back and not back.startswith("/") else ""
    if started is not None:
        query = "&".join(q for q in (query, f"refreshed={started}") if q)
    return RedirectResponse(f"/admin/dashboard?{query}", status_code=303)
